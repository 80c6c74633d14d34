import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeMatrix } from '../../src/calc/matrix.js';
import { computeSnapshot } from '../../src/calc/snapshot.js';
import { MemoryDatastore } from '../../src/datastore/memory.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { baseDocs, podIp, ALL_PODS } from '../calc/k8s-netpol-model.js';
import { randomPolicySet } from '../e2e/random-policies.js';

// The differential test's generator: deterministic per seed, and every set it makes is accepted
// by the ordinary write path (so a lab round never fails on a generator bug) and varied enough
// that the matrices it yields are not all the same.
test('random policy sets: seeded, valid for brindle apply, varied', async () => {
  const podIps = new Map(ALL_PODS.map((p) => [p, podIp(p)]));
  assert.deepEqual(randomPolicySet(42, { podIps }), randomPolicySet(42, { podIps }));
  const distinct = new Set<string>();
  for (let seed = 1; seed <= 150; seed++) {
    const ds = new MemoryDatastore('memory:');
    const client = new ResourceClient(ds);
    for (const d of baseDocs()) await client.apply(d as never);
    const docs = randomPolicySet(seed, { podIps });
    for (const d of docs) {
      try {
        await client.apply(d as never);
      } catch (err) {
        assert.fail(`seed ${seed}: ${(err as Error).message}\n${JSON.stringify(d)}`);
      }
    }
    const { items } = await client.listAll();
    const m = computeMatrix(computeSnapshot(items, { hostname: '*' }), { protocol: 'TCP', port: 80, family: 4 });
    distinct.add(JSON.stringify(m.allowed));
    await ds.close();
  }
  assert.ok(distinct.size >= 40, `only ${distinct.size} distinct TCP 80 matrices from 150 seeds`);
});
