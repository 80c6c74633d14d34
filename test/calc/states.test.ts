import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Resource } from '../../src/api/types.js';
import { CalculationGraph, type Update } from '../../src/calc/graph.js';
import { attachLabels, computeSnapshot, keyOf, SnapshotDataplane } from '../../src/calc/snapshot.js';
import type { CalcSnapshot, ParsedRule } from '../../src/calc/types.js';
import { normalise, plain, type Expected } from './state-builders.js';
import { STATES, type State } from './states.js';

// Every named state is replayed in several orders against SnapshotDataplane (which throws on any
// ordering-contract violation), and every state is reached from every other state. The output
// must depend only on the final state, never on the path taken to it.

const HOST = 'node1';

function updatesOf(resources: Resource[]): Update[] {
  return resources.map((r) => ({ key: keyOf(r), value: r }));
}

function checkExpected(s: CalcSnapshot, e: Expected): void {
  const got = normalise(s);
  assert.deepEqual(got, { policies: [...e.policies].sort(), profiles: [...e.profiles].sort(), ipSets: e.ipSets, endpoints: e.endpoints });
  for (const [key, want] of Object.entries(e.rules ?? {})) {
    const owner = key.startsWith('profile:') ? s.profiles.get(key.slice('profile:'.length)) : s.policies.get(key);
    assert.ok(owner, `${key} is active`);
    const strip = (rules: ParsedRule[]) => rules.map(({ text: _t, ...rest }) => rest);
    if (want.inbound) assert.deepEqual(strip(owner.inbound), want.inbound, `${key} inbound rules`);
    if (want.outbound) assert.deepEqual(strip(owner.outbound), want.outbound, `${key} outbound rules`);
  }
  for (const [k, v] of Object.entries(e.config ?? {})) assert.deepEqual(s.config?.[k as keyof typeof s.config], v, `setting ${k}`);
  if (e.hostIps) assert.deepEqual(Object.fromEntries([...s.hostIps].sort()), e.hostIps, 'host IPs');
  if (e.pools) assert.deepEqual(Object.fromEntries([...s.pools].sort()), e.pools, 'pools');
  if (e.staged) assert.deepEqual([...s.policies.values()].filter((p) => p.staged).map((p) => p.key).sort(), [...e.staged].sort(), 'staged policies');
  for (const [id, labels] of Object.entries(e.labels ?? {})) assert.deepEqual(s.labels.get(id), labels, `${id} labels`);
}

/** Feeds updates one at a time with a flush after each, then in-sync. */
function split(resources: Resource[]): CalcSnapshot {
  const dp = new SnapshotDataplane();
  const g = new CalculationGraph({ hostname: HOST }, dp);
  for (const u of updatesOf(resources)) {
    g.onUpdates([u]);
    g.flush();
  }
  g.onInSync();
  return attachLabels(g, dp.snapshot);
}

/** Loads `from`, then moves to `to` (sets for every key of `to`, deletes for the rest). */
function transition(from: State, to: State, mode: 'squashed' | 'split-reversed'): CalcSnapshot {
  const dp = new SnapshotDataplane();
  const g = new CalculationGraph({ hostname: HOST }, dp);
  g.onUpdates(updatesOf(from.resources));
  g.onInSync();
  const toKeys = new Set(to.resources.map(keyOf));
  const delta: Update[] = [
    ...updatesOf(to.resources),
    ...from.resources.map(keyOf).filter((k) => !toKeys.has(k)).map((key) => ({ key, value: null })),
  ];
  if (mode === 'squashed') {
    g.onUpdates(delta);
    g.flush();
  } else {
    for (const u of delta.reverse()) {
      g.onUpdates([u]);
      g.flush();
    }
  }
  return attachLabels(g, dp.snapshot);
}

describe('calculation states', () => {
  for (const state of STATES) {
    test(`${state.name}: as given`, () => checkExpected(computeSnapshot(state.resources, { hostname: HOST }), state.expected));
    test(`${state.name}: reversed`, () => checkExpected(computeSnapshot([...state.resources].reverse(), { hostname: HOST }), state.expected));
    test(`${state.name}: split with flushes`, () => checkExpected(split(state.resources), state.expected));
    test(`${state.name}: split and reversed`, () => checkExpected(split([...state.resources].reverse()), state.expected));
  }
});

describe('calculation state transitions (every state to every other)', () => {
  const fresh = new Map(STATES.map((s) => [s.name, plain(computeSnapshot(s.resources, { hostname: HOST }))]));
  for (const from of STATES) {
    test(`from ${from.name}`, () => {
      for (const to of STATES) {
        for (const mode of ['squashed', 'split-reversed'] as const) {
          const got = transition(from, to, mode);
          assert.deepEqual(plain(got), fresh.get(to.name), `${from.name} → ${to.name} (${mode})`);
        }
      }
    });
  }
});

test('every state can be removed completely, leaving nothing behind', () => {
  for (const s of STATES) {
    const got = transition(s, { name: 'nothing', resources: [], expected: STATES[0]!.expected }, 'squashed');
    assert.deepEqual(plain(got), plain(computeSnapshot([], { hostname: HOST })), s.name);
  }
});

test("hostname '*' makes every endpoint local", () => {
  const s = computeSnapshot(STATES.find((x) => x.name === 'namespaced policy')!.resources, { hostname: '*' });
  assert.deepEqual([...s.endpoints.keys()].sort(), ['wep:ns1/w1', 'wep:ns1/w2', 'wep:ns2/w3']);
  assert.deepEqual([...s.profiles.keys()].sort(), ['kns.ns1', 'kns.ns2']);
});
