import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSelector, possibleToSatisfy, type LabelRestriction } from '../../src/selector/index.js';

/**
 * Calico's label restriction table (libcalico-go/lib/selector/parser/label_restriction_test.go),
 * same selectors and expected restrictions; each is also checked with `all() && (…)` in front,
 * which must change nothing.
 */
type R = { present?: boolean; absent?: boolean; values?: string[] };
const table: [string, Record<string, R> | null][] = [
  // Base cases.
  ['', null],
  ['all()', null],
  ['global()', null],
  ["a == 'value'", { a: { present: true, values: ['value'] } }],
  ['has(a)', { a: { present: true } }],
  ["a in {'v1','v2'}", { a: { present: true, values: ['v1', 'v2'] } }],
  ["a not in {'v1','v2'}", null],
  ["a contains 'foo'", { a: { present: true } }],
  ["a ends with 'foo'", { a: { present: true } }],
  ["a starts with 'foo'", { a: { present: true } }],
  ["a != 'value'", null],

  // AND
  ["a == 'v1' && a == 'v1'", { a: { present: true, values: ['v1'] } }],
  ["a == 'v1' && a == 'v2'", { a: { present: true, values: [] } }],
  ["a == 'v1' && has(a)", { a: { present: true, values: ['v1'] } }],
  ["a in {'v1','v2'} && a in {'v2','v3'} ", { a: { present: true, values: ['v2'] } }],
  ["a in {'v1','v2', 'v3'} && a in {'v2','v3'} ", { a: { present: true, values: ['v2', 'v3'] } }],
  ["has(a) && a == 'v1'", { a: { present: true, values: ['v1'] } }],
  ['has(a) && !has(a)', { a: { present: true, absent: true } }],
  ["a == 'v1' && b == 'v2'", { a: { present: true, values: ['v1'] }, b: { present: true, values: ['v2'] } }],
  ["a == 'v1' && all()", { a: { present: true, values: ['v1'] } }],
  ["all() && a == 'v1'", { a: { present: true, values: ['v1'] } }],

  // OR
  ["a == 'v1' || a == 'v2'", { a: { present: true, values: ['v1', 'v2'] } }],
  ["has(a) || a == 'v2'", { a: { present: true } }],
  ["a=='v2' || has(a)", { a: { present: true } }],
  ["a=='v2' || has(b)", null],
  ["a=='v2' || (has(b) && has(a))", { a: { present: true } }],
  ["a == 'v1' || b == 'v2'", null],
  ["a == 'v1' || all()", null],
  ["all() || b == 'v2'", null],

  // NOT
  ["!(a == 'value')", null],
  ['!has(a)', { a: { absent: true } }],
  ['!!has(a)', { a: { present: true } }],
];

function expected(res: Record<string, R> | null): Map<string, LabelRestriction> {
  const out = new Map<string, LabelRestriction>();
  for (const [label, r] of Object.entries(res ?? {})) {
    const lr: LabelRestriction = { mustBePresent: !!r.present, mustBeAbsent: !!r.absent };
    if (r.values) lr.mustHaveOneOfValues = r.values;
    out.set(label, lr);
  }
  return out;
}

function actual(sel: string): Map<string, LabelRestriction> {
  return new Map([...parseSelector(sel).labelRestrictions()].map(([k, v]) => [k, { ...v }]));
}

describe('label restrictions: Calico table', () => {
  for (const [sel, res] of table) {
    test(JSON.stringify(sel), () => {
      assert.deepEqual(actual(sel), expected(res));
      assert.deepEqual(actual(sel), expected(res), 'same on a second call');
      if (sel !== '') assert.deepEqual(actual(`all() && (${sel})`), expected(res), 'with all() && in front');
    });
  }
});

describe('label restrictions: satisfiability and soundness', () => {
  test('possibleToSatisfy', () => {
    assert.equal(possibleToSatisfy({ mustBePresent: true, mustBeAbsent: true }), false);
    assert.equal(possibleToSatisfy({ mustBePresent: true, mustBeAbsent: false, mustHaveOneOfValues: [] }), false);
    assert.equal(possibleToSatisfy({ mustBePresent: true, mustBeAbsent: false, mustHaveOneOfValues: ['x'] }), true);
    assert.equal(possibleToSatisfy({ mustBePresent: false, mustBeAbsent: true }), true);
  });

  test('restrictions are lower bounds: every matching label set obeys them', () => {
    const sels = ["a == 'v1' || a in {'v2','v3'}", "has(a) && !has(b) && c in {'x'}", "(a == 'v1' && b == 'x') || (a == 'v2' && has(b))"];
    const values = [undefined, 'v1', 'v2', 'v3', 'x'];
    for (const sel of sels) {
      const s = parseSelector(sel);
      for (const a of values) for (const b of values) for (const c of values) {
        const labels = new Map<string, string>();
        if (a !== undefined) labels.set('a', a);
        if (b !== undefined) labels.set('b', b);
        if (c !== undefined) labels.set('c', c);
        if (!s.evaluate(labels)) continue;
        for (const [label, r] of s.labelRestrictions()) {
          const v = labels.get(label);
          if (r.mustBePresent) assert.notEqual(v, undefined, `${sel}: ${label} must be present`);
          if (r.mustBeAbsent) assert.equal(v, undefined, `${sel}: ${label} must be absent`);
          if (r.mustHaveOneOfValues) assert.ok(r.mustHaveOneOfValues.includes(v!), `${sel}: ${label}=${v}`);
        }
      }
    }
  });
});
