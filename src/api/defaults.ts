import { BUILTIN_TIERS } from './builtins.js';
import { deepCopy } from './copy.js';
import { k8sPolicyTypes } from './k8s-conversion.js';
import { tryParseCidr } from '../net/cidr.js';
import { CALICO_API_VERSION } from './kinds.js';
import { DEFAULT_TIER, LABEL_TIER, type Resource, type Rule } from './types.js';

/**
 * Fills in the defaults Calico applies before storing a resource (`api/pkg/defaults`,
 * `libcalico-go/lib/clientv3/*.go`). Pure: returns a new object and never throws, even on
 * malformed input (validation reports that separately, on the defaulted result).
 *
 * Also normalises what Calico's numorstring types normalise on the way in: numeric port and
 * protocol strings to numbers (`"80"` → 80), so stored and printed resources compare equal
 * however they were written.
 */
export function applyDefaults<R extends Resource>(resource: R): R {
  const r = deepCopy(resource);
  if (!isObject(r)) return r;
  if (r.apiVersion === undefined) (r as Resource).apiVersion = CALICO_API_VERSION;
  if (r.apiVersion !== CALICO_API_VERSION) return r; // Kubernetes objects: converted, then defaulted
  if (!isObject(r.metadata)) return r;
  if (r.spec === undefined || r.spec === null) (r as Resource).spec = {};
  const spec = r.spec as Record<string, unknown>;
  if (!isObject(spec)) return r;
  switch (r.kind) {
    case 'NetworkPolicy':
    case 'GlobalNetworkPolicy':
    case 'StagedNetworkPolicy':
    case 'StagedGlobalNetworkPolicy':
      defaultPolicy(r, spec);
      break;
    case 'StagedKubernetesNetworkPolicy':
      // as the API server defaults a Kubernetes NetworkPolicy (a staged one is stored unconverted)
      if (!Array.isArray(spec['policyTypes']) || spec['policyTypes'].length === 0) spec['policyTypes'] = k8sPolicyTypes(spec as { egress?: unknown[] });
      break;
    case 'Profile':
      normaliseRules(spec['ingress']);
      normaliseRules(spec['egress']);
      break;
    case 'Tier': {
      const fixed = BUILTIN_TIERS[r.metadata.name];
      if (fixed) spec['order'] ??= fixed.order;
      spec['defaultAction'] ??= fixed?.defaultAction ?? 'Deny';
      break;
    }
    case 'IPPool':
      defaultPool(spec);
      break;
    case 'IPAMConfiguration':
      spec['strictAffinity'] ??= false;
      spec['autoAllocateBlocks'] ??= true;
      break;
    case 'HostEndpoint':
    case 'WorkloadEndpoint':
      normaliseEndpointPorts(spec['ports']);
      break;
  }
  return r;
}

const POLICY_KINDS_STAGED = new Set(['StagedNetworkPolicy', 'StagedGlobalNetworkPolicy']);

function defaultPolicy(r: Resource, spec: Record<string, unknown>): void {
  if (spec['tier'] === undefined || spec['tier'] === '') spec['tier'] = DEFAULT_TIER;
  if (POLICY_KINDS_STAGED.has(r.kind)) spec['stagedAction'] ??= 'Set';
  const stagedDelete = spec['stagedAction'] === 'Delete';
  if (!stagedDelete && (spec['types'] === undefined || (Array.isArray(spec['types']) && spec['types'].length === 0))) {
    const hasIngress = Array.isArray(spec['ingress']) && spec['ingress'].length > 0;
    const hasEgress = Array.isArray(spec['egress']) && spec['egress'].length > 0;
    // Calico: no egress rules ⇒ [Ingress] (even with no ingress rules); egress only ⇒ [Egress].
    spec['types'] = !hasEgress ? ['Ingress'] : hasIngress ? ['Ingress', 'Egress'] : ['Egress'];
  }
  normaliseRules(spec['ingress']);
  normaliseRules(spec['egress']);
  if (typeof spec['tier'] === 'string') {
    const labels = isObject(r.metadata.labels) ? r.metadata.labels : {};
    r.metadata.labels = { ...labels, [LABEL_TIER]: spec['tier'] };
  }
}

function defaultPool(spec: Record<string, unknown>): void {
  const cidr = typeof spec['cidr'] === 'string' ? tryParseCidr(spec['cidr']) : undefined;
  if (spec['blockSize'] === undefined && cidr) spec['blockSize'] = cidr.family === 4 ? 26 : 122;
  spec['ipipMode'] ??= 'Never';
  spec['vxlanMode'] ??= 'Never';
  if (spec['ipipMode'] === '') spec['ipipMode'] = 'Never';
  if (spec['vxlanMode'] === '') spec['vxlanMode'] = 'Never';
  if (spec['nodeSelector'] === undefined || spec['nodeSelector'] === '') spec['nodeSelector'] = 'all()';
  if (spec['allowedUses'] === undefined || (Array.isArray(spec['allowedUses']) && spec['allowedUses'].length === 0)) {
    spec['allowedUses'] = ['Workload', 'Tunnel'];
  }
  spec['assignmentMode'] ??= 'Automatic';
}

/** `"6"` → 6; names stay as written (Calico's validator rejects `tcp`, so we do not guess). */
export function normaliseProtocol(p: unknown): unknown {
  if (typeof p === 'string' && /^\d{1,3}$/.test(p)) return Number(p);
  return p;
}

/** `"80"` → 80; ranges and named ports unchanged. */
export function normalisePort(p: unknown): unknown {
  if (typeof p === 'string' && /^\d{1,5}$/.test(p)) return Number(p);
  return p;
}

function normaliseRules(rules: unknown): void {
  if (!Array.isArray(rules)) return;
  for (const rule of rules as Rule[]) {
    if (!isObject(rule)) continue;
    if (rule.protocol !== undefined) rule.protocol = normaliseProtocol(rule.protocol) as Rule['protocol'];
    if (rule.notProtocol !== undefined) rule.notProtocol = normaliseProtocol(rule.notProtocol) as Rule['notProtocol'];
    for (const side of [rule.source, rule.destination]) {
      if (!isObject(side)) continue;
      if (Array.isArray(side.ports)) side.ports = side.ports.map(normalisePort) as typeof side.ports;
      if (Array.isArray(side.notPorts)) side.notPorts = side.notPorts.map(normalisePort) as typeof side.notPorts;
    }
  }
}

function normaliseEndpointPorts(ports: unknown): void {
  if (!Array.isArray(ports)) return;
  for (const p of ports) if (isObject(p) && p['protocol'] !== undefined) p['protocol'] = normaliseProtocol(p['protocol']);
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
