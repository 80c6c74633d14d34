import { BUILTIN_TIERS } from './builtins.js';
import type { IpFamily } from '../net/cidr.js';
import { protocolFamily } from '../net/protocols.js';
import type { EntityRule, GlobalNetworkPolicySpec, Port, Resource, Rule, StagedNetworkPolicySpec, TierSpec } from './types.js';
import {
  checkAnnotations,
  checkCIDR,
  checkLabelName,
  checkPort,
  checkProtocol,
  checkSelector,
  checkSubdomainName,
  push,
  PORT_PROTOCOL_LIST,
  protocolSupportsPorts,
  sub,
  type Issues,
} from './validate-fields.js';

/**
 * Semantic rules for the policy kinds, Tier and Profile (Calico's `validateRule`,
 * `validateEntityRule`, `validateNetworkPolicySpec`, `validateGlobalNetworkPolicySpec` and the CEL
 * markers in `policy_common.go`, `globalnetworkpolicy.go`, `tier.go`). Shapes were already checked.
 */

const ACTIONS = ['Allow', 'Deny', 'Log', 'Pass'];
const MAX_RULE_PORTS = 50;
const MAX_RULE_NETS = 256;
const MAX_RULE_SELECTOR = 1024;

export type Direction = 'ingress' | 'egress';

export interface RuleContext {
  direction: Direction;
  /** Global policies must name a namespace in `services`. */
  global: boolean;
  /** Profiles: no direction-specific service checks. */
  profile?: boolean;
}

export function validateRule(rule: Rule, path: string, ctx: RuleContext, issues: Issues): void {
  if (rule.action === undefined || (rule.action as string) === '') push(issues, sub(path, 'action'), 'action is required (Allow, Deny, Log or Pass)');
  else if (!ACTIONS.includes(rule.action)) push(issues, sub(path, 'action'), `action "${rule.action}" is not one of Allow, Deny, Log, Pass`);
  if (rule.ipVersion !== undefined && rule.ipVersion !== 4 && rule.ipVersion !== 6) push(issues, sub(path, 'ipVersion'), `ipVersion ${rule.ipVersion} must be 4 or 6`);
  const proto = rule.protocol !== undefined ? checkProtocol(rule.protocol, sub(path, 'protocol'), issues) : undefined;
  const notProto = rule.notProtocol !== undefined ? checkProtocol(rule.notProtocol, sub(path, 'notProtocol'), issues) : undefined;
  for (const [field, p] of [['protocol', proto], ['notProtocol', notProto]] as const) {
    const family = p === undefined ? undefined : protocolFamily(p);
    if (family === 4 && rule.ipVersion === 6) push(issues, sub(path, field), 'ICMP cannot be used with ipVersion 6 (use ICMPv6)');
    if (family === 6 && rule.ipVersion === 4) push(issues, sub(path, field), 'ICMPv6 cannot be used with ipVersion 4 (use ICMP)');
  }
  for (const field of ['icmp', 'notICMP'] as const) {
    const f = rule[field];
    if (!f) continue;
    const fp = sub(path, field);
    // Calico checks the protocol only for `icmp` (a `notICMP` alone is accepted as written).
    if (field === 'icmp' && proto !== 1 && proto !== 58) push(issues, fp, 'icmp requires protocol ICMP or ICMPv6');
    if (f.type !== undefined && (f.type < 0 || f.type > 254)) push(issues, sub(fp, 'type'), `ICMP type ${f.type} is out of range 0-254`);
    if (f.code !== undefined && (f.code < 0 || f.code > 255)) push(issues, sub(fp, 'code'), `ICMP code ${f.code} is out of range 0-255`);
    if (f.code !== undefined && f.type === undefined) push(issues, sub(fp, 'code'), 'ICMP code requires an ICMP type');
  }
  if (rule.http) {
    const hp = sub(path, 'http');
    if (rule.action !== 'Allow') push(issues, hp, 'http match is only allowed on Allow rules');
    if (proto !== undefined && proto !== 6) push(issues, hp, 'http match requires protocol TCP or no protocol');
    if (!ctx.profile && ctx.direction === 'egress') push(issues, hp, 'http match is not allowed in egress rules');
    if ((rule.http.methods ?? []).length > 20) push(issues, sub(hp, 'methods'), 'at most 20 methods');
    if ((rule.http.paths ?? []).length > 20) push(issues, sub(hp, 'paths'), 'at most 20 paths');
    const methods = rule.http.methods ?? [];
    if (new Set(methods).size !== methods.length) push(issues, sub(hp, 'methods'), 'duplicate HTTP methods');
    (rule.http.paths ?? []).forEach((m, i) => {
      const pp = sub(sub(hp, 'paths'), i);
      const keys = Object.keys(m);
      if (keys.length !== 1) return void push(issues, pp, 'each path match must set exactly one of exact or prefix');
      const v = (m as Record<string, string>)[keys[0]!]!;
      if (!v.startsWith('/') || /[?# ]/.test(v)) push(issues, pp, `HTTP path "${v}" must start with '/' and not contain '?', '#' or spaces`);
    });
  }
  if (rule.metadata?.annotations) checkAnnotations(rule.metadata.annotations, sub(sub(path, 'metadata'), 'annotations'), issues);
  const families = new Set<IpFamily>();
  for (const side of ['source', 'destination'] as const) {
    const e = rule[side];
    if (e) validateEntityRule(e, sub(path, side), side, proto, rule.protocol !== undefined, ctx, families, issues);
  }
  if (families.size > 1) push(issues, path, 'all nets and notNets in one rule must be the same IP family');
  if (rule.ipVersion !== undefined && families.size === 1 && !families.has(rule.ipVersion)) {
    push(issues, path, `nets and notNets must be IPv${rule.ipVersion} to match ipVersion ${rule.ipVersion}`);
  }
}

function validateEntityRule(
  e: EntityRule,
  path: string,
  side: 'source' | 'destination',
  proto: number | undefined,
  protoSet: boolean,
  ctx: RuleContext,
  families: Set<IpFamily>,
  issues: Issues,
): void {
  for (const field of ['nets', 'notNets'] as const) {
    const list = e[field] ?? [];
    if (list.length > MAX_RULE_NETS) push(issues, sub(path, field), `at most ${MAX_RULE_NETS} entries`);
    list.forEach((n, i) => {
      const c = checkCIDR(n, sub(sub(path, field), i), issues, { allowBareIP: true, strict: true });
      if (!c) return;
      families.add(c.family);
      if (field === 'notNets' && c.prefix === 0) push(issues, sub(sub(path, field), i), `notNets may not contain "${n}": it would match nothing`);
    });
  }
  for (const field of ['selector', 'notSelector'] as const) {
    const s = e[field];
    if (s !== undefined) checkSelector(s, sub(path, field), issues, { maxLength: MAX_RULE_SELECTOR });
  }
  if (e.namespaceSelector !== undefined) checkSelector(e.namespaceSelector, sub(path, 'namespaceSelector'), issues, { allowGlobal: true, maxLength: MAX_RULE_SELECTOR });
  if (e.serviceAccounts) {
    const sp = sub(path, 'serviceAccounts');
    (e.serviceAccounts.names ?? []).forEach((n, i) => checkSubdomainName(n, sub(sub(sp, 'names'), i), issues, 'service account name'));
    if (e.serviceAccounts.selector !== undefined) checkSelector(e.serviceAccounts.selector, sub(sp, 'selector'), issues);
  }
  for (const field of ['ports', 'notPorts'] as const) {
    const list = e[field] ?? [];
    if (list.length === 0) continue;
    const fp = sub(path, field);
    if (list.length > MAX_RULE_PORTS) push(issues, fp, `at most ${MAX_RULE_PORTS} ports`);
    const kinds = list.map((p: Port, i: number) => checkPort(p, sub(fp, i), issues));
    if (protoSet) {
      if (proto !== undefined && !protocolSupportsPorts(proto)) push(issues, fp, `ports can only be used with protocol ${PORT_PROTOCOL_LIST}`);
    } else if (kinds.includes('numeric')) {
      push(issues, fp, `numeric ports require protocol ${PORT_PROTOCOL_LIST}`);
    }
  }
  if (e.services) {
    const sp = sub(path, 'services');
    if (!e.services.name) push(issues, sub(sp, 'name'), 'services.name is required');
    else checkSubdomainName(e.services.name, sub(sp, 'name'), issues, 'service name');
    if (ctx.global && !e.services.namespace) push(issues, sub(sp, 'namespace'), 'services.namespace is required in a global policy');
    for (const f of ['selector', 'notSelector', 'namespaceSelector', 'nets', 'notNets', 'serviceAccounts'] as const) {
      if (e[f] !== undefined) push(issues, sub(path, f), `${f} cannot be combined with services`);
    }
    if (side === 'destination') {
      for (const f of ['ports', 'notPorts'] as const) if (e[f] !== undefined) push(issues, sub(path, f), `${f} cannot be combined with destination services`);
    }
    if (!ctx.profile) {
      if (ctx.direction === 'ingress' && side === 'destination') push(issues, sp, 'services may only be used in the source of an ingress rule');
      if (ctx.direction === 'egress' && side === 'source') push(issues, sp, 'services may only be used in the destination of an egress rule');
    }
  }
}

const POLICY_NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/;
const K8S_POLICY_NAME_RE = /^(knp|ossg)\.default\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function checkPolicyName(name: string, namespaced: boolean, path: string, issues: Issues): void {
  if (name.length === 0) return void push(issues, path, 'name is required');
  if (name.length > 253) return void push(issues, path, 'name is longer than 253 characters');
  // As Calico's regexes: no per-label length limit, only the overall 253.
  if (POLICY_NAME_RE.test(name)) return;
  if (namespaced && K8S_POLICY_NAME_RE.test(name)) return;
  push(issues, path, `policy name "${name}" must be a DNS label, optionally prefixed "<label>." (lower case alphanumeric and '-', starting and ending alphanumeric)`);
}

const PERFORMANCE_HINTS = ['AssumeNeededOnEveryNode'];

export function validatePolicy(r: Resource, issues: Issues): void {
  const spec = r.spec as GlobalNetworkPolicySpec & StagedNetworkPolicySpec;
  const namespaced = r.kind === 'NetworkPolicy' || r.kind === 'StagedNetworkPolicy';
  const global = !namespaced;
  checkPolicyName(r.metadata.name ?? '', namespaced, 'metadata.name', issues);
  if (spec.tier !== undefined) checkLabelName(spec.tier, 'spec.tier', issues, 'tier name');
  if (spec.stagedAction === 'Delete') {
    for (const [k, v] of Object.entries(spec)) {
      if (k !== 'tier' && k !== 'stagedAction' && v !== undefined) push(issues, sub('spec', k), 'must not be set when stagedAction is Delete');
    }
    return;
  }
  if (spec.selector !== undefined) checkSelector(spec.selector, 'spec.selector', issues);
  if (spec.serviceAccountSelector !== undefined) checkSelector(spec.serviceAccountSelector, 'spec.serviceAccountSelector', issues);
  if (global && spec.namespaceSelector !== undefined) checkSelector(spec.namespaceSelector, 'spec.namespaceSelector', issues);
  const types = spec.types ?? [];
  const seen = new Set<string>();
  types.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress') push(issues, `spec.types[${i}]`, `type "${t}" is not Ingress or Egress`);
    else if (seen.has(t)) push(issues, `spec.types[${i}]`, `duplicate type "${t}"`);
    seen.add(t);
  });
  (spec.performanceHints ?? []).forEach((h, i) => {
    if (!PERFORMANCE_HINTS.includes(h)) push(issues, `spec.performanceHints[${i}]`, `unknown performance hint "${h}" (known: ${PERFORMANCE_HINTS.join(', ')})`);
  });
  for (const dir of ['ingress', 'egress'] as const) {
    const rules = spec[dir] ?? [];
    if (rules.length > 1024) push(issues, `spec.${dir}`, 'at most 1024 rules');
    rules.forEach((rule, i) => validateRule(rule, `spec.${dir}[${i}]`, { direction: dir, global }, issues));
  }
  if (global) {
    if (spec.doNotTrack && spec.preDNAT) push(issues, 'spec.preDNAT', 'preDNAT and doNotTrack cannot both be true');
    if (spec.preDNAT) {
      if ((spec.egress ?? []).length > 0) push(issues, 'spec.egress', 'a preDNAT policy cannot have egress rules');
      if (types.includes('Egress')) push(issues, 'spec.types', 'a preDNAT policy cannot have type Egress');
    }
    if ((spec.doNotTrack || spec.preDNAT) && !spec.applyOnForward) {
      push(issues, 'spec.applyOnForward', `applyOnForward must be true when ${spec.doNotTrack ? 'doNotTrack' : 'preDNAT'} is true`);
    }
  }
}

export function validateTier(r: Resource, issues: Issues): void {
  const spec = r.spec as TierSpec;
  const name = r.metadata.name ?? '';
  checkLabelName(name, 'metadata.name', issues, 'tier name');
  if (spec.defaultAction !== undefined && spec.defaultAction !== 'Deny' && spec.defaultAction !== 'Pass') {
    push(issues, 'spec.defaultAction', `defaultAction "${spec.defaultAction}" must be Deny or Pass`);
  }
  const fixed = BUILTIN_TIERS[name];
  if (fixed) {
    if (spec.order !== undefined && spec.order !== fixed.order) push(issues, 'spec.order', `the built-in tier "${name}" must have order ${fixed.order}`);
    if (spec.defaultAction !== undefined && spec.defaultAction !== fixed.defaultAction) {
      push(issues, 'spec.defaultAction', `the built-in tier "${name}" must have defaultAction ${fixed.defaultAction}`);
    }
  }
}

export function validateProfile(r: Resource, issues: Issues): void {
  const spec = r.spec as { ingress?: Rule[]; egress?: Rule[] };
  checkSubdomainName(r.metadata.name ?? '', 'metadata.name', issues);
  for (const dir of ['ingress', 'egress'] as const) {
    (spec[dir] ?? []).forEach((rule, i) => validateRule(rule, `spec.${dir}[${i}]`, { direction: dir, global: true, profile: true }, issues));
  }
}
