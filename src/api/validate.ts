import type { ValidationIssue } from '../errors.js';
import { kindInfo, CALICO_API_VERSION } from './kinds.js';
import { isK8sDocument, type K8sNetworkPolicy } from './k8s-conversion.js';
import { K8S_SPEC_SCHEMAS, METADATA, SPEC_SCHEMAS } from './schema.js';
import { checkShape, describe, isPlainObject, UNKNOWN_FIELD } from './shape-check.js';
import type { Resource } from './types.js';
import { validateBGPConfiguration, validateBGPFilter, validateBGPPeer, validateCalicoNodeStatus, validateFelixConfiguration, validateSingleton } from './validate-bgp.js';
import { checkAnnotations, checkLabelName, checkLabels, push } from './validate-fields.js';
import { validateK8sNamespace, validateK8sNetworkPolicy } from './validate-k8s.js';
import {
  validateHostEndpoint,
  validateIPAMConfiguration,
  validateIPPool,
  validateIPReservation,
  validateNetworkSet,
  validateNode,
  validateWorkloadEndpoint,
} from './validate-network.js';
import { validatePolicy, validateProfile, validateTier } from './validate-policy.js';

/**
 * Validates one resource document (a Calico v3 resource, or a Kubernetes NetworkPolicy/Namespace)
 * and returns every problem found, each with its field path. An empty list means valid. Pure.
 *
 * Order: document structure (apiVersion, kind, unknown fields, JSON types), then — unless a field
 * has the wrong JSON type — the kind's semantic rules (formats, ranges, cross-field constraints), so
 * a document with an unknown field also gets its other problems reported in the same run.
 * Rules that need other stored resources (pool overlap, tier existence) are the ResourceClient's.
 */
export function validateResource(doc: unknown): ValidationIssue[] {
  // A field can fail a general and a kind-specific rule alike (a missing name): report it once.
  const issues = collectIssues(doc);
  const noName = issues.some((i) => i.path === 'metadata.name' && i.message === NAME_REQUIRED);
  const seen = new Set<string>();
  return issues.filter((i) => {
    if (noName && i.path === 'metadata.name' && i.message !== NAME_REQUIRED) return false;
    const key = `${i.path}\u0000${i.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

const NAME_REQUIRED = 'name is required';
const HAS_STATUS = new Set(['KubeControllersConfiguration', 'Node', 'CalicoNodeStatus']);

function collectIssues(doc: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!isPlainObject(doc)) return [{ path: '', message: `a resource must be an object, got ${describe(doc)}` }];
  const { apiVersion, kind } = doc;
  if (typeof kind !== 'string' || kind === '') return [{ path: 'kind', message: 'kind is required' }];
  if (typeof apiVersion !== 'string' || apiVersion === '') return [{ path: 'apiVersion', message: 'apiVersion is required' }];
  const k8s = isK8sDocument(doc);
  const brindleKind = k8s ? (kind === 'NetworkPolicy' ? 'KubernetesNetworkPolicy' : 'Namespace') : kind;
  const info = kindInfo(brindleKind);
  if (!info || (info.storedAs !== undefined && !k8s)) return [{ path: 'kind', message: `unknown kind "${kind}"` }];
  if (!k8s && apiVersion !== CALICO_API_VERSION) return [{ path: 'apiVersion', message: `apiVersion "${apiVersion}" is not ${CALICO_API_VERSION} (kind ${kind})` }];
  for (const key of Object.keys(doc)) {
    // The kinds with a server-written `status` (calicoctl and kubectl print it): accepted on input, never stored
    if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(key) && !(key === 'status' && (k8s || HAS_STATUS.has(kind)))) issues.push({ path: key, message: UNKNOWN_FIELD });
  }
  if (!isPlainObject(doc['metadata'])) return [...issues, { path: 'metadata', message: 'metadata is required' }];
  checkShape(doc['metadata'], METADATA, 'metadata', issues);
  const spec = doc['spec'] ?? {};
  checkShape(spec, (k8s ? K8S_SPEC_SCHEMAS : SPEC_SCHEMAS)[brindleKind]!, 'spec', issues);
  if (issues.some((i) => i.message !== UNKNOWN_FIELD)) return issues;

  const r = { ...doc, spec } as unknown as Resource;
  const meta = r.metadata;
  if (typeof meta.name !== 'string' || meta.name === '') issues.push({ path: 'metadata.name', message: NAME_REQUIRED });
  if (meta.namespace !== undefined) {
    if (!info.namespaced) push(issues, 'metadata.namespace', `${kind} is not namespaced; remove metadata.namespace`);
    else checkLabelName(meta.namespace, 'metadata.namespace', issues, 'namespace');
  }
  checkLabels(meta.labels, 'metadata.labels', issues);
  checkAnnotations(meta.annotations, 'metadata.annotations', issues);
  if (k8s) {
    if (brindleKind === 'Namespace') validateK8sNamespace(r, issues);
    else validateK8sNetworkPolicy(r as unknown as K8sNetworkPolicy, issues);
    return issues;
  }
  SEMANTIC[kind]?.(r, issues);
  return issues;
}

const SEMANTIC: Readonly<Record<string, (r: Resource, issues: ValidationIssue[]) => void>> = {
  NetworkPolicy: validatePolicy,
  GlobalNetworkPolicy: validatePolicy,
  StagedNetworkPolicy: validatePolicy,
  StagedGlobalNetworkPolicy: validatePolicy,
  StagedKubernetesNetworkPolicy: (r, issues) => validateK8sNetworkPolicy(r as unknown as K8sNetworkPolicy, issues),
  Tier: validateTier,
  Profile: (r, issues) => {
    validateProfile(r, issues);
    checkLabels((r.spec as { labelsToApply?: Record<string, string> }).labelsToApply, 'spec.labelsToApply', issues);
  },
  WorkloadEndpoint: validateWorkloadEndpoint,
  HostEndpoint: validateHostEndpoint,
  NetworkSet: validateNetworkSet,
  GlobalNetworkSet: validateNetworkSet,
  Node: validateNode,
  IPPool: validateIPPool,
  IPReservation: validateIPReservation,
  IPAMConfiguration: validateIPAMConfiguration,
  BGPConfiguration: validateBGPConfiguration,
  BGPPeer: validateBGPPeer,
  BGPFilter: validateBGPFilter,
  FelixConfiguration: validateFelixConfiguration,
  KubeControllersConfiguration: validateSingleton,
  ClusterInformation: validateSingleton,
  CalicoNodeStatus: validateCalicoNodeStatus,
};
