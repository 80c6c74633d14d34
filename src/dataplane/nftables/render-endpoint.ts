/**
 * Renders the per-endpoint chains (Felix's `endpointIptablesChain`): for a workload `fw-<iface>`
 * (egress, traffic from the workload) and `tw-<iface>` (ingress); for a host endpoint `fh-`/`th-`
 * (traffic to/from the host itself), `fhf-`/`thf-` (forwarded, applyOnForward policies), `fhp-`
 * (pre-DNAT, ingress only) and `fhu-`/`thu-` (untracked). Pure.
 *
 * Chain body, in order: (workload egress) source-address spoof check; clear the accept/pass marks;
 * (host endpoints) failsafe ports; for each tier with a policy in this direction: clear pass, jump
 * to each policy while nothing passed, return as soon as one accepted, drop at the end of the tier
 * unless its default action is Pass (that part is a tier group chain shared by endpoints with the
 * same policies, see renderTierGroup); then the profiles (normal chains only), then drop.
 * Staged policies are skipped. Conntrack (established accepted, invalid dropped) is done once in
 * the base chains.
 */
import { STAGED_NAME_PREFIX } from '../../calc/resource-converter.js';
import type { EndpointState, PolicyKey, TierInfo } from '../../calc/types.js';
import { nftAddr } from './render-rule.js';
import { ChainBuilder, type NftChain } from './model.js';
import { CHAINS, endpointChain, hexMark, MARK_ACCEPT, MARK_ALL, MARK_PASS, policyChain, profileChain, tierGroupChain, type EndpointChainKind, type PolicyDirection } from './names.js';

const CLEAR_ALL = `meta mark set meta mark & ${hexMark(~MARK_ALL)}`;
const CLEAR_PASS = `meta mark set meta mark & ${hexMark(~MARK_PASS)}`;
const IF_ACCEPTED = `meta mark & ${hexMark(MARK_ACCEPT)} == ${hexMark(MARK_ACCEPT)}`;
const IF_NOT_PASSED = `meta mark & ${hexMark(MARK_PASS)} == 0`;

/** Staged policies (key `<tier>/<ns>/staged:<name>`) are never enforced: they get no jump. */
export function isStagedKey(key: PolicyKey): boolean {
  return key.slice(key.lastIndexOf('/') + 1).startsWith(STAGED_NAME_PREFIX);
}

type ChainFlavour = 'normal' | 'forward' | 'preDNAT' | 'untracked';

interface ChainPlan {
  kind: EndpointChainKind;
  direction: 'ingress' | 'egress';
  tiers: TierInfo[];
  flavour: ChainFlavour;
  failsafe?: 'in' | 'out';
  spoofCheck?: boolean;
}

/**
 * One tier's part of an endpoint chain, as a chain shared by all endpoints with the same policies
 * there: clear pass, jump to each policy while nothing passed, return as soon as one accepted,
 * drop at the end unless the tier passes. The endpoint chain jumps to it and returns if accepted.
 * (Per-endpoint counters keep the jump into the tier; per-policy jump counters are per group.)
 */
export function renderTierGroup(tier: TierInfo, pols: readonly PolicyKey[], dir: PolicyDirection, endOfTierDrop: boolean): NftChain {
  const name = tierGroupChain(dir, JSON.stringify([tier.name, endOfTierDrop, pols]));
  const direction = dir === 'in' ? 'ingress' : 'egress';
  const origin = (what: string) => ({ endpointOrigin: { endpoint: `group ${name}`, direction, what } }) as const;
  const b = new ChainBuilder(name);
  b.add(CLEAR_PASS, { label: `tier ${tier.name}`.slice(0, 60) });
  for (const key of pols) {
    b.add(`${IF_NOT_PASSED} counter jump ${policyChain(key, dir)}`, origin(`policy ${key}`));
    b.add(`${IF_ACCEPTED} return`);
  }
  if (endOfTierDrop) b.add(`${IF_NOT_PASSED} counter drop`, { ...origin(`end of tier ${tier.name}`), label: 'eot' });
  const c = b.build({ comment: `tier ${tier.name} ${direction}`.replace(/["\\]/g, '').slice(0, 120) });
  c.shared = true;
  return c;
}

function renderEndpointChain(ep: EndpointState, iface: string, plan: ChainPlan, groups: Map<string, NftChain>): NftChain {
  const name = endpointChain(plan.kind, iface);
  const b = new ChainBuilder(name);
  const origin = (what: string) => ({ endpointOrigin: { endpoint: ep.id, direction: plan.direction, what } });
  if (plan.spoofCheck) {
    for (const family of [4, 6] as const) {
      const nets = (family === 4 ? ep.ipv4Nets : ep.ipv6Nets).map(nftAddr).filter((a) => a?.family === family);
      const kw = family === 4 ? 'ip' : 'ip6';
      const match = nets.length ? nets.map((a) => `${kw} saddr != ${a!.text}`).join(' ') : `meta nfproto ipv${family}`;
      b.add(`${match} counter drop`, { ...origin('source address spoofed'), label: 'spoof' });
    }
  }
  b.add(CLEAR_ALL);
  if (plan.failsafe) b.add(`jump ${plan.failsafe === 'in' ? CHAINS.failsafeIn : CHAINS.failsafeOut}`);
  const dirKey = plan.direction === 'ingress' ? 'ingressPolicies' : 'egressPolicies';
  const polDir = plan.direction === 'ingress' ? 'in' : 'out';
  let anyTier = false;
  for (const tier of plan.tiers) {
    // A tier whose policies here are all staged passes (no verdict, no end-of-tier drop).
    const pols = tier[dirKey].filter((k) => !isStagedKey(k));
    if (pols.length === 0) continue;
    anyTier = true;
    const group = renderTierGroup(tier, pols, polDir, tier.defaultAction === 'Deny' && plan.flavour !== 'untracked');
    groups.set(group.name, group);
    b.add(`counter jump ${group.name}`, origin(`tier ${tier.name}`));
    b.add(`${IF_ACCEPTED} return`);
  }
  if (plan.flavour === 'normal') {
    for (const prof of ep.profileIds) {
      b.add(`counter jump ${profileChain(prof, polDir)}`, origin(`profile ${prof}`));
      b.add(`${IF_ACCEPTED} return`);
    }
    b.add('counter drop', { ...origin('no policy or profile allowed'), label: 'end' });
  } else if (plan.flavour === 'forward') {
    if (anyTier) b.add('counter drop', { ...origin('no forward policy allowed'), label: 'end' });
    else b.add(`meta mark set meta mark | ${hexMark(MARK_ACCEPT)} return`, { label: 'fwd-default' });
  }
  return b.build({ comment: `${ep.id} ${plan.direction}`.replace(/["\\]/g, '').slice(0, 120) });
}

/** A workload's two chains `tw-<iface>`, `fw-<iface>`, then the tier group chains they use (`shared`). */
export function renderWorkloadChains(ep: EndpointState): NftChain[] {
  const iface = ep.interfaceName!;
  const groups = new Map<string, NftChain>();
  return [
    renderEndpointChain(ep, iface, { kind: 'tw', direction: 'ingress', tiers: ep.tiers, flavour: 'normal' }, groups),
    renderEndpointChain(ep, iface, { kind: 'fw', direction: 'egress', tiers: ep.tiers, flavour: 'normal', spoofCheck: true }, groups),
    ...groups.values(),
  ];
}

/** A host endpoint's chains (all seven; empty kinds still exist so dispatch stays uniform). */
export function renderHostEndpointChains(ep: EndpointState): NftChain[] {
  const iface = ep.interfaceName!;
  const groups = new Map<string, NftChain>();
  return [
    renderEndpointChain(ep, iface, { kind: 'fh', direction: 'ingress', tiers: ep.tiers, flavour: 'normal', failsafe: 'in' }, groups),
    renderEndpointChain(ep, iface, { kind: 'th', direction: 'egress', tiers: ep.tiers, flavour: 'normal', failsafe: 'out' }, groups),
    renderEndpointChain(ep, iface, { kind: 'fhf', direction: 'ingress', tiers: ep.forwardTiers ?? [], flavour: 'forward' }, groups),
    renderEndpointChain(ep, iface, { kind: 'thf', direction: 'egress', tiers: ep.forwardTiers ?? [], flavour: 'forward' }, groups),
    renderEndpointChain(ep, iface, { kind: 'fhp', direction: 'ingress', tiers: ep.preDNATTiers ?? [], flavour: 'preDNAT', failsafe: 'in' }, groups),
    renderEndpointChain(ep, iface, { kind: 'fhu', direction: 'ingress', tiers: ep.untrackedTiers ?? [], flavour: 'untracked', failsafe: 'in' }, groups),
    renderEndpointChain(ep, iface, { kind: 'thu', direction: 'egress', tiers: ep.untrackedTiers ?? [], flavour: 'untracked', failsafe: 'out' }, groups),
    ...groups.values(),
  ];
}
