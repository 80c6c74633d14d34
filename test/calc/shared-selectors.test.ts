import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Resource } from '../../src/api/types.js';
import { CalculationGraph, type Update } from '../../src/calc/graph.js';
import { attachLabels, computeSnapshot, keyOf, SnapshotDataplane } from '../../src/calc/snapshot.js';
import { gnp, np, plain, profile, tiersText, wep } from './state-builders.js';

// Many policies often share one selector (the ActiveRulesCalculator indexes each distinct selector
// once and fans matches out to its policies). Policies move between shared selectors, leave them,
// come back, get deleted and go invalid, while endpoints change labels: the output must always be
// the fresh computation from the final state, and every step must keep the ordering contract.

const SELECTORS = ["role == 'db'", "role == 'db'", "role == 'web'", 'all()', "env == 'prod'", "role == 'db' && env == 'prod'", 'bad selector ((('];
const LABELS: Record<string, string>[] = [{ role: 'db', env: 'prod' }, { role: 'db', env: 'dev' }, { role: 'web', env: 'prod' }, {}];

function policy(i: number, selector: string): Resource {
  const spec = { selector, order: i, types: ['Ingress'], ingress: [{ action: 'Allow', source: { selector: `app == 'p${i}'` } }] };
  return i % 2 === 0 ? gnp(`p${i}`, spec) : np('ns1', `p${i}`, spec);
}

const POLICY_KEYS = [0, 1, 2, 3, 4, 5].map((i) => keyOf(policy(i, 'all()')));
const ENDPOINT_KEYS = ['a', 'b', 'c'].map((n) => keyOf(wep('ns1', n, {})));
const BASE = [profile('kns.ns1')];

const opArb = fc.oneof(
  fc.record({ policy: fc.integer({ min: 0, max: 5 }), selector: fc.integer({ min: -1, max: SELECTORS.length - 1 }), flush: fc.boolean() }),
  fc.record({ endpoint: fc.integer({ min: 0, max: 2 }), labels: fc.integer({ min: -1, max: LABELS.length - 1 }), flush: fc.boolean() }),
);

test('policies sharing selectors: any history ends in the fresh computation of its final state', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
      const dp = new SnapshotDataplane();
      const g = new CalculationGraph({ hostname: 'node1' }, dp);
      const store = new Map<string, Resource>(BASE.map((r) => [keyOf(r), r]));
      g.onUpdates(BASE.map((r) => ({ key: keyOf(r), value: r })));
      let batch: Update[] = [];
      for (const op of ops) {
        let key: string;
        let value: Resource | null;
        if ('policy' in op) {
          key = POLICY_KEYS[op.policy]!;
          value = op.selector < 0 ? null : policy(op.policy, SELECTORS[op.selector]!);
        } else {
          const name = ['a', 'b', 'c'][op.endpoint]!;
          key = ENDPOINT_KEYS[op.endpoint]!;
          value = op.labels < 0 ? null : wep('ns1', name, LABELS[op.labels]!, { ips: [`10.0.0.${op.endpoint + 1}/32`] });
        }
        if (value) store.set(key, value);
        else store.delete(key);
        batch.push({ key, value });
        if (op.flush) {
          g.onUpdates(batch);
          batch = [];
          g.flush();
        }
      }
      g.onUpdates(batch);
      g.onInSync();
      assert.deepEqual(plain(attachLabels(g, dp.snapshot)), plain(computeSnapshot([...store.values()], { hostname: 'node1' })));
    }),
    { numRuns: 300, seed: 20261122 },
  );
});

test('a policy moving off a shared selector keeps the endpoints both selectors match, and its sibling keeps all', () => {
  const dp = new SnapshotDataplane();
  const g = new CalculationGraph({ hostname: 'node1' }, dp);
  const eps = [wep('ns1', 'a', { role: 'db', env: 'prod' }, { ips: ['10.0.0.1/32'] }), wep('ns1', 'b', { role: 'db', env: 'dev' }, { ips: ['10.0.0.2/32'] })];
  const set = (rs: Resource[]) => {
    g.onUpdates(rs.map((r) => ({ key: keyOf(r), value: r })));
    g.flush();
  };
  set([profile('kns.ns1'), ...eps, policy(0, "role == 'db'"), policy(2, "role == 'db'")]);
  const tiersOf = (n: string) => tiersText(dp.snapshot.endpoints.get(`wep:ns1/${n}`)!.tiers);
  assert.equal(tiersOf('a'), tiersOf('b'));
  assert.match(tiersOf('a'), /p0.*p2/);
  dp.log.length = 0;
  set([policy(2, "role == 'db' && env == 'prod'")]);
  assert.match(tiersOf('a'), /p0.*p2/);
  assert.doesNotMatch(tiersOf('b'), /p2/);
  assert.match(tiersOf('b'), /p0/);
  // p2 still matches a: it never went inactive on the way.
  assert.ok(!dp.log.includes('policy- default/_/p2'), dp.log.join('\n'));
  set([policy(0, 'bad selector (((')]);
  assert.doesNotMatch(tiersOf('a'), /p0/);
  assert.doesNotMatch(tiersOf('b'), /p0/);
  assert.deepEqual(plain(attachLabels(g, dp.snapshot)), plain(computeSnapshot([profile('kns.ns1'), ...eps, policy(0, 'bad selector ((('), policy(2, "role == 'db' && env == 'prod'")], { hostname: 'node1' })));
});
