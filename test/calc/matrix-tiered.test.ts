import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FlowEvaluator, type FlowSpec } from '../../src/calc/explain.js';
import { computeMatrix, renderMatrix } from '../../src/calc/matrix.js';
import { computeSnapshot } from '../../src/calc/snapshot.js';
import type { CalcSnapshot } from '../../src/calc/types.js';
import { openDatastore } from '../../src/datastore/open.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { namespaceDoc, podDoc, type Doc } from './k8s-netpol-model.js';

/**
 * Calico's tiered-policy semantics checked end to end: documents go through the ResourceClient
 * (validation, defaults, conversion, built-in tiers) into a datastore, the calculation graph
 * computes the snapshot for all nodes, and the matrix/explanation must match hand-written truth
 * tables. Pods: x/a 10.0.1.1, x/b 10.0.1.2, y/a 10.0.2.1, y/b 10.0.2.2; namespaces carry `ns: <name>`.
 */

const PODS = ['x/a', 'x/b', 'y/a', 'y/b'];
const TCP80: FlowSpec = { protocol: 'TCP', port: 80 };

async function snapshotOf(docs: Doc[]): Promise<CalcSnapshot> {
  const ds = await openDatastore('memory:');
  try {
    const client = new ResourceClient(ds);
    for (const d of [namespaceDoc('x'), namespaceDoc('y'), ...PODS.map((p) => podDoc(p)), ...docs]) await client.apply(d as never);
    return computeSnapshot((await client.listAll()).items, { hostname: '*' });
  } finally {
    await ds.close();
  }
}

function table(text: string): string {
  return text.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' ')).join('\n');
}

function assertMatrix(s: CalcSnapshot, expected: string, flow: FlowSpec = TCP80): void {
  const got = renderMatrix(computeMatrix(s, flow));
  assert.equal(table(got), table(expected), `matrix for ${flow.protocol} ${flow.port ?? ''}:\n${got}`);
}

const HEADER = '    x/a x/b y/a y/b';
const ALL_ALLOWED = `${HEADER}
x/a . . . .
x/b . . . .
y/a . . . .
y/b . . . .`;

const tier = (name: string, order: number, defaultAction: 'Deny' | 'Pass' = 'Deny'): Doc => ({ apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name }, spec: { order, defaultAction } });
const gnp = (name: string, spec: Doc, kind = 'GlobalNetworkPolicy'): Doc => ({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name }, spec });
const np = (ns: string, name: string, spec: Doc, kind = 'NetworkPolicy'): Doc => ({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name, namespace: ns }, spec });

describe('tiered policy semantics through the calculation graph', () => {
  test('Pass hands the flow to the next tier; no policy there → profiles decide', async () => {
    const s = await snapshotOf([
      tier('security', 100),
      gnp('security.guard-y', {
        tier: 'security', namespaceSelector: "ns == 'y'", types: ['Ingress'],
        ingress: [{ action: 'Pass', source: { namespaceSelector: "ns == 'x'" } }, { action: 'Deny' }],
      }),
    ]);
    assertMatrix(s, `${HEADER}
x/a . . . .
x/b . . . .
y/a . . X X
y/b . . X X`);
    const x = new FlowEvaluator(s).explain({ endpoint: s.endpoints.get('wep:x/a')! }, { endpoint: s.endpoints.get('wep:y/a')! }, TCP80);
    assert.ok(x.ingress.evaluated);
    assert.deepEqual(x.ingress.tiers.map((t) => [t.name, t.outcome]), [['security', 'pass']]);
    assert.equal(x.ingress.profiles[0]!.name, 'kns.y');
  });

  test('Pass to the next tier where a default-tier policy decides', async () => {
    const s = await snapshotOf([
      tier('security', 100),
      gnp('security.pass-all', { tier: 'security', selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Pass' }] }),
      np('y', 'only-from-a', { selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Allow', source: { selector: "pod == 'a'" } }] }),
    ]);
    // The namespaced policy's source selector is limited to its own namespace (y).
    assertMatrix(s, `${HEADER}
x/a . . X X
x/b . . X X
y/a . . . .
y/b . . X X`);
  });

  test("tier default action Pass: no match in the tier falls through; Deny drops", async () => {
    const rules = { selector: "pod == 'a'", types: ['Ingress'], ingress: [{ action: 'Deny', protocol: 'UDP' }] };
    const soft = await snapshotOf([tier('soft', 100, 'Pass'), gnp('soft.udp-off', { tier: 'soft', ...rules })]);
    assertMatrix(soft, ALL_ALLOWED);
    const hard = await snapshotOf([tier('hard', 100, 'Deny'), gnp('hard.udp-off', { tier: 'hard', ...rules })]);
    assertMatrix(hard, `${HEADER}
x/a X . X .
x/b X . X .
y/a X . X .
y/b X . X .`);
  });

  test('order ties are broken by name; an explicit order wins over the name', async () => {
    const deny = { selector: "pod == 'b'", types: ['Ingress'], ingress: [{ action: 'Deny' }] };
    const allow = { selector: "pod == 'b'", types: ['Ingress'], ingress: [{ action: 'Allow' }] };
    const tie = await snapshotOf([gnp('a-deny', { order: 10, ...deny }), gnp('b-allow', { order: 10, ...allow })]);
    assertMatrix(tie, `${HEADER}
x/a . X . X
x/b . X . X
y/a . X . X
y/b . X . X`);
    const ordered = await snapshotOf([gnp('a-deny', { order: 20, ...deny }), gnp('b-allow', { order: 10, ...allow })]);
    assertMatrix(ordered, ALL_ALLOWED);
    // Tiers: lower order first; a deny in the earlier tier wins over an allow in the later one.
    const tiers = await snapshotOf([
      tier('first', 10), tier('second', 20),
      gnp('second.allow', { tier: 'second', ...allow }), gnp('first.deny', { tier: 'first', ...deny }),
    ]);
    assertMatrix(tiers, `${HEADER}
x/a . X . X
x/b . X . X
y/a . X . X
y/b . X . X`);
  });

  test('staged policies are never enforced', async () => {
    const s = await snapshotOf([
      np('x', 'staged-deny-all', { selector: 'all()', types: ['Ingress', 'Egress'] }, 'StagedNetworkPolicy'),
      gnp('staged-global-deny', { selector: 'all()', types: ['Ingress'], ingress: [{ action: 'Deny' }] }, 'StagedGlobalNetworkPolicy'),
    ]);
    assertMatrix(s, ALL_ALLOWED);
  });

  test('GlobalNetworkPolicy with namespaceSelector applies to that namespace only', async () => {
    const s = await snapshotOf([
      gnp('guard-y', {
        namespaceSelector: "ns == 'y'", types: ['Ingress'],
        ingress: [{ action: 'Deny', source: { namespaceSelector: "ns == 'x'" } }, { action: 'Allow' }],
      }),
    ]);
    assertMatrix(s, `${HEADER}
x/a . . X X
x/b . . X X
y/a . . . .
y/b . . . .`);
  });

  test('profiles: order, failing closed, and labelsToApply usable in selectors', async () => {
    const profile = (name: string, spec: Doc): Doc => ({ apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name }, spec });
    const custom = { ...podDoc('y/b'), spec: { ...(podDoc('y/b')['spec'] as Doc), profiles: ['web-only', 'kns.y'] } };
    const s = await snapshotOf([
      profile('web-only', { ingress: [{ action: 'Deny', protocol: 'TCP', destination: { notPorts: [80] } }], egress: [{ action: 'Allow' }], labelsToApply: { tierlabel: 'web' } }),
      custom,
      np('x', 'allow-from-web', { selector: "pod == 'a'", types: ['Ingress'], ingress: [{ action: 'Allow', source: { selector: "tierlabel == 'web'", namespaceSelector: 'all()' } }] }),
    ]);
    // y/b: first profile denies TCP except 80, otherwise falls to kns.y (allow). x/a only admits y/b (label from its profile).
    assertMatrix(s, `${HEADER}
x/a X . . .
x/b X . . .
y/a X . . .
y/b . . . .`);
    assertMatrix(s, `${HEADER}
x/a X . . X
x/b X . . X
y/a X . . X
y/b . . . X`, { protocol: 'TCP', port: 81 });
    const gone = await snapshotOf([{ ...podDoc('y/a'), spec: { ...(podDoc('y/a')['spec'] as Doc), profiles: ['no-such-profile'] } }]);
    assertMatrix(gone, `${HEADER}
x/a . . X .
x/b . . X .
y/a X X X X
y/b . . X .`);
  });

  test('network sets: rules select CIDRs by label (global and namespaced)', async () => {
    const s = await snapshotOf([
      { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkSet', metadata: { name: 'trusted', labels: { role: 'trusted' } }, spec: { nets: ['10.0.2.0/25'] } },
      { apiVersion: 'projectcalico.org/v3', kind: 'NetworkSet', metadata: { name: 'neighbour', namespace: 'x', labels: { role: 'neighbour' } }, spec: { nets: ['10.0.1.2/32'] } },
      np('x', 'from-sets', { selector: "pod == 'a'", types: ['Ingress'], ingress: [{ action: 'Allow', source: { selector: "role == 'trusted'", namespaceSelector: 'global()' } }, { action: 'Allow', source: { selector: "role == 'neighbour'" } }] }),
    ]);
    assertMatrix(s, `${HEADER}
x/a X . . .
x/b . . . .
y/a . . . .
y/b . . . .`);
    const ev = new FlowEvaluator(s);
    assert.equal(ev.explain({ ip: '10.0.2.100' }, { endpoint: s.endpoints.get('wep:x/a')! }, TCP80).verdict, 'allow');
    assert.equal(ev.explain({ ip: '10.0.2.200' }, { endpoint: s.endpoints.get('wep:x/a')! }, TCP80).verdict, 'deny');
  });

  test('host endpoints: normal policy governs traffic to the host; no policy and no profile denies', async () => {
    const hep = (name: string, ip: string, labels: Record<string, string>): Doc => ({ apiVersion: 'projectcalico.org/v3', kind: 'HostEndpoint', metadata: { name, labels }, spec: { node: 'node-1', interfaceName: 'eth0', expectedIPs: [ip] } });
    const s = await snapshotOf([
      hep('node-1-eth0', '192.168.0.1', { role: 'host' }),
      hep('node-2-eth0', '192.168.0.2', { role: 'bare' }),
      gnp('host-ssh', { selector: "role == 'host'", types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', source: { namespaceSelector: "ns == 'x'" }, destination: { ports: [22] } }] }),
    ]);
    const ev = new FlowEvaluator(s);
    const host = { endpoint: ev.findEndpoint('node-1-eth0')! };
    assert.equal(ev.explain({ endpoint: s.endpoints.get('wep:x/a')! }, host, { protocol: 'TCP', port: 22 }).verdict, 'allow');
    assert.equal(ev.explain({ endpoint: s.endpoints.get('wep:x/a')! }, host, TCP80).verdict, 'deny');
    assert.equal(ev.explain({ endpoint: s.endpoints.get('wep:y/a')! }, host, { protocol: 'TCP', port: 22 }).verdict, 'deny');
    const bare = ev.explain({ endpoint: s.endpoints.get('wep:x/a')! }, { endpoint: ev.findEndpoint('node-2-eth0')! }, TCP80);
    assert.equal(bare.verdict, 'deny');
    assert.ok(bare.ingress.evaluated && /no profile/.test(bare.ingress.decision));
    // Host endpoints are not part of the workload matrix.
    assert.deepEqual(computeMatrix(s, TCP80).endpoints, PODS);
  });

  test('the matrix (fast path) and explain (traced path) agree on every cell', async () => {
    const s = await snapshotOf([
      tier('security', 100),
      gnp('security.guard', { tier: 'security', selector: 'all()', types: ['Ingress', 'Egress'], ingress: [{ action: 'Log' }, { action: 'Deny', source: { selector: "pod == 'b'" }, protocol: 'UDP' }, { action: 'Pass' }], egress: [{ action: 'Pass' }] }),
      np('x', 'named', { selector: "pod == 'a'", types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['serve-81-tcp', '90:100'] } }] }),
      np('y', 'egress', { selector: 'all()', types: ['Egress'], egress: [{ action: 'Allow', destination: { nets: ['10.0.0.0/16'], notNets: ['10.0.1.2/32'] } }] }),
    ]);
    const ev = new FlowEvaluator(s);
    const flows: FlowSpec[] = [TCP80, { protocol: 'TCP', port: 81 }, { protocol: 'TCP', port: 95 }, { protocol: 'UDP', port: 81 }, { protocol: 'ICMP' }, { protocol: 'SCTP', port: 80 }];
    let cells = 0;
    for (const flow of flows) {
      const m = computeMatrix(s, flow, ev);
      m.endpoints.forEach((src, i) => m.endpoints.forEach((dst, j) => {
        const x = ev.explain({ endpoint: ev.findEndpoint(src)! }, { endpoint: ev.findEndpoint(dst)! }, flow);
        assert.equal(m.allowed[i]![j], x.verdict === 'allow', `${src} → ${dst} ${flow.protocol} ${flow.port ?? ''}`);
        cells++;
      }));
    }
    assert.equal(cells, flows.length * PODS.length * PODS.length);
  });
});
