/**
 * Seeded random policy sets over the netpol model (namespaces x, y, z; pods a, b, c labelled
 * pod=<name>; servers on TCP/UDP 80/81 with named ports serve-<port>-<proto>) for the differential
 * test: Kubernetes NetworkPolicies, Calico NetworkPolicies and GlobalNetworkPolicies (Allow, Deny,
 * Pass, orders, negations, nets, named ports), each set valid for `brindle apply`. Pure.
 */

export type Rng = () => number;

/** mulberry32: small, fast, good enough for test generation. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const chance = (r: Rng, p: number) => r() < p;
const NS = ['x', 'y', 'z'];
const PODS = ['a', 'b', 'c'];

type Doc = Record<string, unknown>;

export interface PolicySetOptions {
  /** IP of each pod (`x/a` → 10.65.…) for ipBlock and nets. */
  podIps: ReadonlyMap<string, string>;
}

function k8sPodSelector(r: Rng): Doc {
  const v = r();
  if (v < 0.3) return {};
  if (v < 0.75) return { matchLabels: { pod: pick(r, PODS) } };
  return { matchExpressions: [{ key: 'pod', operator: pick(r, ['In', 'NotIn']), values: [pick(r, PODS), pick(r, PODS)].filter((x, i, a) => a.indexOf(x) === i) }] };
}

function k8sPeer(r: Rng, o: PolicySetOptions): Doc {
  const v = r();
  if (v < 0.35) return { podSelector: k8sPodSelector(r) };
  if (v < 0.6) return { namespaceSelector: { matchLabels: { ns: pick(r, NS) } } };
  if (v < 0.8) return { podSelector: k8sPodSelector(r), namespaceSelector: chance(r, 0.5) ? {} : { matchLabels: { ns: pick(r, NS) } } };
  const pod = pick(r, [...o.podIps.keys()]);
  return chance(r, 0.5)
    ? { ipBlock: { cidr: `${o.podIps.get(pod)}/32` } }
    : { ipBlock: { cidr: '10.0.0.0/8', except: [`${o.podIps.get(pod)}/32`] } };
}

function k8sPorts(r: Rng): Doc[] | undefined {
  const v = r();
  if (v < 0.4) return undefined;
  if (v < 0.8) return [{ protocol: pick(r, ['TCP', 'UDP']), port: pick(r, [80, 81]) }];
  return [{ protocol: pick(r, ['TCP', 'UDP']), port: pick(r, ['serve-80-tcp', 'serve-81-udp', 'serve-80-udp']) }];
}

function k8sRule(r: Rng, o: PolicySetOptions, dir: 'from' | 'to'): Doc {
  const rule: Doc = {};
  if (chance(r, 0.8)) rule[dir] = Array.from({ length: 1 + Math.floor(r() * 2) }, () => k8sPeer(r, o));
  const ports = k8sPorts(r);
  if (ports) rule['ports'] = ports;
  return rule;
}

function k8sPolicy(r: Rng, o: PolicySetOptions, name: string): Doc {
  const types = pick(r, [['Ingress'], ['Egress'], ['Ingress', 'Egress']]);
  const spec: Doc = { podSelector: k8sPodSelector(r), policyTypes: types };
  if (types.includes('Ingress') && chance(r, 0.8)) spec['ingress'] = Array.from({ length: 1 + Math.floor(r() * 2) }, () => k8sRule(r, o, 'from'));
  if (types.includes('Egress') && chance(r, 0.8)) spec['egress'] = Array.from({ length: 1 + Math.floor(r() * 2) }, () => k8sRule(r, o, 'to'));
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: pick(r, NS) }, spec };
}

function calicoSelector(r: Rng): string {
  return pick(r, ['all()', `pod == "${pick(r, PODS)}"`, `pod != "${pick(r, PODS)}"`, `pod in {"${pick(r, PODS)}", "${pick(r, PODS)}"}`, 'has(pod)']);
}

function calicoEntity(r: Rng, o: PolicySetOptions): Doc {
  const e: Doc = {};
  const v = r();
  if (v < 0.35) e['selector'] = calicoSelector(r);
  else if (v < 0.55) e['namespaceSelector'] = `ns == "${pick(r, NS)}"`;
  else if (v < 0.7) e['nets'] = [`${o.podIps.get(pick(r, [...o.podIps.keys()]))}/32`];
  else if (v < 0.8) e['notNets'] = [`${o.podIps.get(pick(r, [...o.podIps.keys()]))}/32`];
  else if (v < 0.9) e['notSelector'] = `pod == "${pick(r, PODS)}"`;
  return e;
}

function calicoRule(r: Rng, o: PolicySetOptions, withPass: boolean): Doc {
  const rule: Doc = { action: pick(r, withPass ? ['Allow', 'Deny', 'Pass'] : ['Allow', 'Allow', 'Deny']) };
  const proto = pick(r, [undefined, 'TCP', 'UDP']);
  if (proto) rule['protocol'] = proto;
  if (chance(r, 0.5)) rule['source'] = calicoEntity(r, o);
  const dst = calicoEntity(r, o);
  if (proto && chance(r, 0.6)) {
    if (chance(r, 0.8)) dst['ports'] = [pick(r, [80, 81, proto === 'TCP' ? 'serve-80-tcp' : 'serve-81-udp'])];
    else dst['notPorts'] = [pick(r, [80, 81])];
  }
  if (Object.keys(dst).length > 0) rule['destination'] = dst;
  return rule;
}

function calicoPolicy(r: Rng, o: PolicySetOptions, name: string, global: boolean, tier: string): Doc {
  const types = pick(r, [['Ingress'], ['Egress'], ['Ingress', 'Egress']]);
  const withPass = tier !== 'default';
  const spec: Doc = { selector: calicoSelector(r), types, order: Math.floor(r() * 1000) };
  if (tier !== 'default') spec['tier'] = tier;
  if (types.includes('Ingress')) spec['ingress'] = Array.from({ length: Math.floor(r() * 3) }, () => calicoRule(r, o, withPass));
  if (types.includes('Egress')) spec['egress'] = Array.from({ length: Math.floor(r() * 3) }, () => calicoRule(r, o, withPass));
  const metaName = tier === 'default' ? name : `${tier}.${name}`;
  return global
    ? { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: metaName }, spec }
    : { apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name: metaName, namespace: pick(r, NS) }, spec };
}

/** 1-4 policies; sometimes a tier `sec` (order 50) in front of the default tier. */
export function randomPolicySet(seed: number, o: PolicySetOptions): Doc[] {
  const r = rng(seed);
  const docs: Doc[] = [];
  const useTier = chance(r, 0.3);
  if (useTier) docs.push({ apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 'sec' }, spec: { order: 50 } });
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const v = r();
    if (v < 0.5) docs.push(k8sPolicy(r, o, `k${i}`));
    else if (v < 0.8) docs.push(calicoPolicy(r, o, `c${i}`, false, useTier && chance(r, 0.5) ? 'sec' : 'default'));
    else docs.push(calicoPolicy(r, o, `g${i}`, true, useTier && chance(r, 0.5) ? 'sec' : 'default'));
  }
  return docs;
}
