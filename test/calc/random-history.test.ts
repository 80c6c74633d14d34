import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Resource } from '../../src/api/types.js';
import { CalculationGraph, type Update } from '../../src/calc/graph.js';
import { attachLabels, computeSnapshot, keyOf, SnapshotDataplane } from '../../src/calc/snapshot.js';
import { plain } from './state-builders.js';
import { STATES } from './states.js';

// State, not history: for random histories over every resource variant used by the named states
// (random sets and deletes, random batch boundaries and flushes), the final output must equal a
// fresh computation from the final datastore contents, and no step may break the ordering
// contract (SnapshotDataplane throws).

const VARIANTS = new Map<string, Resource[]>();
for (const s of STATES) {
  for (const r of s.resources) {
    const k = keyOf(r);
    const list = VARIANTS.get(k) ?? [];
    if (!list.some((x) => JSON.stringify(x) === JSON.stringify(r))) list.push(r);
    VARIANTS.set(k, list);
  }
}
const KEYS = [...VARIANTS.keys()].sort();

const opArb = fc.record({
  key: fc.integer({ min: 0, max: KEYS.length - 1 }),
  variant: fc.integer({ min: -1, max: 3 }), // -1 = delete
  flushAfter: fc.boolean(),
});

for (const hostname of ['node1', '*'] as const) {
  test(`random histories end in the same output as a fresh computation (hostname ${hostname})`, () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 80 }), (ops) => {
        const dp = new SnapshotDataplane();
        const g = new CalculationGraph({ hostname }, dp);
        const store = new Map<string, Resource>();
        let batch: Update[] = [];
        for (const op of ops) {
          const key = KEYS[op.key]!;
          const variants = VARIANTS.get(key)!;
          const value = op.variant < 0 ? null : variants[op.variant % variants.length]!;
          if (value) store.set(key, value);
          else store.delete(key);
          batch.push({ key, value });
          if (op.flushAfter) {
            g.onUpdates(batch);
            batch = [];
            g.flush();
          }
        }
        g.onUpdates(batch);
        g.onInSync();
        assert.deepEqual(plain(attachLabels(g, dp.snapshot)), plain(computeSnapshot([...store.values()], { hostname })));
      }),
      { numRuns: 150, seed: 20261121 },
    );
  });
}
