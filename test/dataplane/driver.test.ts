import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prepareResource } from '../../src/api/prepare.js';
import type { Resource } from '../../src/api/types.js';
import type { NftOp } from '../../src/dataplane/nftables/transaction.js';
import { Harness, readResources } from './harness.js';

const BASE = 'nftables/workloads-and-policies/input.yaml';

function r(doc: Record<string, unknown>): Resource {
  return prepareResource(doc);
}

const gnp = (name: string, spec: Record<string, unknown>) => r({ apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name }, spec });

/** Every chain or set name an operation touches. */
function touched(ops: readonly NftOp[]): Set<string> {
  const out = new Set<string>();
  for (const o of ops) {
    if (o.op === 'add-chain') out.add(o.chain.name);
    else if (o.op === 'add-rule') out.add(o.chain);
    else if (o.op === 'flush-chain' || o.op === 'delete-chain' || o.op === 'delete-set') out.add(o.name);
    else if (o.op === 'add-set') out.add(o.set.name);
    else if (o.op === 'add-elements' || o.op === 'delete-elements') out.add(o.set);
  }
  return out;
}

async function started(): Promise<Harness> {
  const h = new Harness();
  h.put(...readResources(BASE));
  await h.start();
  return h;
}

test('a policy change rewrites only that policy\'s chain', async () => {
  const h = await started();
  const before = h.nft.transactions.length;
  h.put(gnp('web-egress', { order: 100, selector: "app == 'web'", types: ['Egress'], egress: [{ action: 'Allow' }] }));
  await h.settle();
  assert.equal(h.nft.transactions.length, before + 1);
  const tx = h.nft.transactions.at(-1)!;
  assert.deepEqual([...touched(tx.ops)], ['po-00558c835bf73ef3']);
  assert.equal(tx.ops.filter((o) => o.op === 'add-rule').length, 1);
});

test('a new workload adds its two chains and map elements, nothing else', async () => {
  const h = await started();
  h.put(r({
    apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name: 'node1-k8s-x-eth0', namespace: 'ns1', labels: { app: 'x' } },
    spec: { orchestrator: 'k8s', node: 'node1', pod: 'x', endpoint: 'eth0', interfaceName: 'cali00000000077', ipNetworks: ['10.65.0.77/32'], profiles: ['kns.ns1'] },
  }));
  await h.settle();
  assert.deepEqual([...touched(h.nft.transactions.at(-1)!.ops)].sort(), ['from-wl-map', 'fw-cali00000000077', 'to-wl-map', 'tw-cali00000000077']);
});

test('an IP set member change is one element operation', async () => {
  const h = await started();
  h.put(r({
    apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name: 'node3-k8s-y-eth0', namespace: 'ns1', labels: { app: 'web' } },
    spec: { orchestrator: 'k8s', node: 'node3', pod: 'y', endpoint: 'eth0', interfaceName: 'cali00000000078', ipNetworks: ['10.65.3.1/32'], profiles: ['kns.ns1'] },
  }));
  await h.settle();
  assert.deepEqual(h.nft.transactions.at(-1)!.ops, [{ op: 'add-elements', set: 's4-df1a64cffdb93b92', elements: [['10.65.3.1', '']] }]);
});

test('a restarted driver adopts the kernel table: its first transaction is empty', async () => {
  const h = await started();
  const h2 = new Harness();
  h2.nft.table = h.nft.table;
  h2.put(...readResources(BASE));
  await h2.start();
  assert.equal(h2.nft.transactions.length, 0, 'nothing to change');
  assert.ok(h2.driver.firstApplyDone);
});

test('a CIDR joining a selector set turns it into an interval set and re-renders its users', async () => {
  const h = await started();
  const dump = h.nft.dump();
  assert.match(dump, /ip saddr @s4-df1a64cffdb93b92/);
  const ns = r({ apiVersion: 'projectcalico.org/v3', kind: 'NetworkSet', metadata: { name: 'webs', namespace: 'ns1', labels: { app: 'web' } }, spec: { nets: ['10.65.0.0/24', '10.65.0.128/25'] } });
  h.put(ns);
  await h.settle();
  const after = h.nft.dump();
  assert.doesNotMatch(after, /s4-df1a64cffdb93b92/);
  assert.match(after, /ip saddr @n4-df1a64cffdb93b92/);
  // Covered members (10.65.0.1, 10.65.0.128/25) are not elements of the interval set.
  assert.match(after, /set n4-df1a64cffdb93b92 \{\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = \{ 10\.65\.0\.0\/24,\n\t\t\t     10\.65\.1\.7 \}/);
  h.del(ns);
  await h.settle();
  assert.equal(h.nft.dump(), dump, 'back to the plain set');
});

test('drift is found and repaired: a flushed chain, a deleted element, a foreign chain', async () => {
  const h = await started();
  const good = h.nft.dump();
  const t = h.nft.table!;
  t.chains.get('pi-5324575b3f397fe5')!.rules = [];
  t.sets.get('from-wl-map')!.elements.delete('"cali0f0e0d0c0b0"');
  t.chains.set('intruder', { name: 'intruder', rules: [{ text: 'accept', id: '(foreign rule 1)' }] });
  const found = await h.driver.resync();
  assert.deepEqual(found.sort(), ['chain intruder unexpected', 'chain pi-5324575b3f397fe5 rules differ', 'set from-wl-map elements differ']);
  assert.equal(h.nft.dump(), good);
  assert.deepEqual(await h.driver.resync(), [], 'nothing left to repair');
});

test('changes made while a transaction is in flight are applied by the next one', async () => {
  const h = await started();
  const run = h.nft.run.bind(h.nft);
  let once = true;
  h.nft.run = async (tx) => {
    if (once) {
      once = false;
      // Arrives mid-apply: a new member of the web set and a policy removal.
      h.put(r({
        apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name: 'node3-k8s-z-eth0', namespace: 'ns1', labels: { app: 'web' } },
        spec: { orchestrator: 'k8s', node: 'node3', pod: 'z', endpoint: 'eth0', interfaceName: 'cali00000000079', ipNetworks: ['10.65.3.9/32'], profiles: ['kns.ns1'] },
      }));
      h.graph.flush();
    }
    return run(tx);
  };
  h.del(gnp('web-egress', {}));
  await h.settle();
  const listing = (await h.nft.list())!;
  assert.deepEqual(h.driver.table.drift(listing.table), []);
  assert.match(h.nft.dump(), /10\.65\.3\.9/);
});

test('a failed transaction leaves the kernel as it was and is retried', async () => {
  const h = await started();
  const good = h.nft.dump();
  h.nft.failNext = new Error('nft: boom');
  h.del(gnp('web-egress', {}));
  await h.settle();
  assert.equal(h.nft.dump(), good, 'previous state stays in force');
  h.clock.advance(1000);
  await h.driver.flushed();
  assert.doesNotMatch(h.nft.dump(), /web-egress/);
});

test('counters map kernel rules back to policy, rule index and endpoint', async () => {
  const h = await started();
  h.nft.counters.set('pi-5324575b3f397fe5|r0 843534d6f1', { packets: 7, bytes: 420 });
  h.nft.counters.set('pi-5324575b3f397fe5|r0 0aa5774cdb', { packets: 1, bytes: 80 });
  h.nft.counters.set('tw-cali0f0e0d0c0b0|ccfae119d8', { packets: 11, bytes: 660 });
  h.nft.counters.set('gi-eb2f39cc891ecca7|eot 37cdf14fbc', { packets: 3, bytes: 180 });
  const report = await h.driver.counters('node1');
  const rule = report.rules.find((x) => x.key === 'default/ns1/db-from-web' && x.direction === 'ingress');
  assert.deepEqual(rule, { kind: 'policy', key: 'default/ns1/db-from-web', tier: 'default', direction: 'ingress', ruleIndex: 0, action: 'allow', text: rule!.text, packets: 8, bytes: 500 });
  const into = report.endpoints.find((e) => e.endpoint === 'wep:ns1/node1-k8s-db-eth0' && e.what === 'tier default');
  assert.equal(into?.packets, 11, 'packets of this endpoint entering the tier');
  const eot = report.endpoints.find((e) => e.endpoint === 'group gi-eb2f39cc891ecca7' && e.what === 'end of tier default');
  assert.equal(eot?.packets, 3, 'end-of-tier drops of the shared tier group');
});

test('the fake client refuses dangling references', async () => {
  const { FakeNftClient } = await import('../../src/dataplane/nftables/fake-client.js');
  const { NftTransaction } = await import('../../src/dataplane/nftables/transaction.js');
  const f = new FakeNftClient();
  await f.run(new NftTransaction().add({ op: 'add-table' }).add({ op: 'add-chain', chain: { name: 'a' } }));
  await assert.rejects(f.run(new NftTransaction().add({ op: 'add-rule', chain: 'a', rule: { text: 'jump b', id: 'x' } })), /missing chain b/);
  await assert.rejects(f.run(new NftTransaction().add({ op: 'add-rule', chain: 'a', rule: { text: 'ip saddr @s accept', id: 'x' } })), /missing set @s/);
  await assert.rejects(f.run(new NftTransaction().add({ op: 'add-elements', set: 's', elements: [['1.2.3.4', '']] })), /no such set/);
  await f.run(new NftTransaction().add({ op: 'add-chain', chain: { name: 'b' } }).add({ op: 'add-rule', chain: 'a', rule: { text: 'jump b', id: 'x' } }));
  await assert.rejects(f.run(new NftTransaction().add({ op: 'delete-chain', name: 'b' })), /still referenced/);
  assert.equal(f.table!.chains.get('a')!.rules.length, 1, 'refused transactions change nothing');
});

test('endpoints with the same policies share one tier group chain, removed with its last user', async () => {
  const h = await started();
  const mk = (n: number) => r({
    apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name: `node1-k8s-db${n}-eth0`, namespace: 'ns1', labels: { app: 'db' } },
    spec: { orchestrator: 'k8s', node: 'node1', pod: `db${n}`, endpoint: 'eth0', interfaceName: `cali0000000010${n}`, ipNetworks: [`10.65.0.10${n}/32`], profiles: ['kns.ns1'] },
  });
  h.put(mk(1), mk(2));
  await h.settle();
  const groups = () => [...h.nft.table!.chains.keys()].filter((n) => n.startsWith('gi-'));
  assert.deepEqual(groups(), ['gi-eb2f39cc891ecca7'], 'three db endpoints, one group');
  h.del(mk(1), mk(2), ...readResources(BASE).filter((x) => x.metadata.name === 'node1-k8s-db-eth0'));
  await h.settle();
  assert.deepEqual(groups(), [], 'gone with the last endpoint using it');
});

test('all-interfaces host endpoints: the first by id is entered through any-<kind>; removing it hands over to the next, then empties them', async () => {
  const h = new Harness();
  h.put(...readResources('nftables/host-endpoint-all-interfaces/input.yaml'));
  await h.start();
  const anyFh = () => /chain any-fh \{\n([^}]*)\}/.exec(h.nft.dump())?.[1]?.trim() ?? '';
  const first = anyFh();
  assert.match(first, /^jump fh-h[0-9a-f]{12} comment/);
  const fhChain = () => /chain (fh-h[0-9a-f]{12}) \{([^}]*)\}/.exec(h.nft.dump());
  assert.match(fhChain()![2]!, /comment "hep:node1-all ingress"/);
  assert.match(fhChain()![2]!, /jump gi-/, 'its policy tier');
  assert.match(h.nft.dump(), /set hep-ifaces \{\n\s*type ifname\n\s*elements = \{ "eth1",\s*"lo",\s*"tunl0",\s*"vxlan-v6.calico",\s*"vxlan.calico" \}/);
  const hep = (name: string, labels: Record<string, string>) => r({ apiVersion: 'projectcalico.org/v3', kind: 'HostEndpoint', metadata: { name, labels }, spec: { node: 'node1', interfaceName: '*' } });
  // The programmed one goes: the other takes over (its own chains, rendered for its labels: no policy selects role=other).
  h.del(hep('node1-all', { role: 'host' }));
  await h.settle();
  assert.notEqual(anyFh(), first, 'the entry now leads to the other endpoint\'s chains');
  assert.equal((h.nft.dump().match(/chain fh-h[0-9a-f]{12} \{/g) ?? []).length, 1, 'the old chains are gone');
  assert.match(fhChain()![2]!, /comment "hep:node1-zz-all ingress"/);
  assert.doesNotMatch(fhChain()![2]!, /jump gi-/, 'no policy selects the remaining endpoint');
  h.del(hep('node1-zz-all', { role: 'other' }));
  await h.settle();
  assert.equal(anyFh(), '', 'no all-interfaces endpoint: the entry chains are empty');
  assert.doesNotMatch(h.nft.dump(), /chain fh-h[0-9a-f]{12}/, 'its chains are gone');
  // A host endpoint of its own leaves hep-ifaces with it; the fixed names stay.
  h.del(r({ apiVersion: 'projectcalico.org/v3', kind: 'HostEndpoint', metadata: { name: 'node1-eth1', labels: { role: 'storage' } }, spec: { node: 'node1', interfaceName: 'eth1' } }));
  await h.settle();
  assert.match(h.nft.dump(), /set hep-ifaces \{\n\s*type ifname\n\s*elements = \{ "lo",\s*"tunl0",\s*"vxlan-v6.calico",\s*"vxlan.calico" \}/);
});

test('node addresses: VXLAN and IPIP from and to another node pass host-endpoint policy; an address change moves one element', async () => {
  const h = new Harness();
  h.put(...readResources('nftables/host-endpoint-all-interfaces/input.yaml'));
  await h.start();
  const elems = () => /set node-addrs4 \{[^}]*?elements = \{([^}]*)\}/.exec(h.nft.dump())?.[1]?.replace(/\s+/g, ' ').trim() ?? '';
  assert.equal(elems(), '172.30.0.1, 172.30.0.2');
  assert.match(h.nft.dump(), /set node-addrs6 \{[^}]*elements = \{ fd00:30::1 \}/);
  const node2 = (ip: string) => r({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'node2' }, spec: { bgp: { ipv4Address: `${ip}/24` } } });
  h.put(node2('172.30.0.9'));
  await h.settle();
  assert.equal(elems(), '172.30.0.1, 172.30.0.9');
  const tx = h.nft.transactions.at(-1)!;
  assert.deepEqual([...touched(tx.ops)], ['node-addrs4'], 'only the set changes');
  h.del(node2('172.30.0.9'));
  await h.settle();
  assert.equal(elems(), '172.30.0.1');
});
