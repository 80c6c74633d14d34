import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseSelector } from '../../src/selector/index.js';

/**
 * Property tests: random selector trees are written out with random spacing, quoting, operator
 * spellings and redundant parentheses, then parsed. The parsed selector must agree with an
 * independent reference evaluation of the tree, its canonical form must be a fixed point, and the
 * canonical form must evaluate exactly like the original on random label sets.
 */
type Tree =
  | { op: 'eq' | 'ne' | 'contains' | 'starts' | 'ends'; label: string; value: string }
  | { op: 'in' | 'notin'; label: string; values: string[] }
  | { op: 'has'; label: string }
  | { op: 'all' | 'global' }
  | { op: 'not'; x: Tree }
  | { op: 'and' | 'or'; xs: Tree[] };

const LABELS = ['a', 'b', 'c', 'in', 'contains', 'k8s.io/app-x_1'];
const VALUES = ['', 'x', 'y', 'xy', '"', "'", 'a b'];
const label = fc.constantFrom(...LABELS);
const value = fc.constantFrom(...VALUES);

const { tree } = fc.letrec<{ tree: Tree; leaf: Tree }>((tie) => ({
  leaf: fc.oneof(
    fc.record({ op: fc.constantFrom('eq', 'ne', 'contains', 'starts', 'ends'), label, value }) as fc.Arbitrary<Tree>,
    fc.record({ op: fc.constantFrom('in', 'notin'), label, values: fc.array(value, { maxLength: 4 }) }) as fc.Arbitrary<Tree>,
    fc.record({ op: fc.constant('has'), label }) as fc.Arbitrary<Tree>,
    fc.record({ op: fc.constantFrom('all', 'global') }) as fc.Arbitrary<Tree>,
  ),
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('leaf'),
    fc.record({ op: fc.constant('not'), x: tie('tree') }) as fc.Arbitrary<Tree>,
    fc.record({ op: fc.constantFrom('and', 'or'), xs: fc.array(tie('tree'), { minLength: 2, maxLength: 3 }) }) as fc.Arbitrary<Tree>,
  ),
}));

/** Writes a tree as selector text, with choices drawn from `pick` (spacing, quotes, spellings). */
function write(t: Tree, pick: () => number): string {
  const ws = () => [' ', '  ', '\t', ' '][pick() % 4]!;
  const q = (v: string) => (v.includes('"') ? `'${v}'` : v.includes("'") ? `"${v}"` : pick() % 2 ? `'${v}'` : `"${v}"`);
  const paren = (s: string) => (pick() % 4 === 0 ? `(${ws()}${s}${ws()})` : s);
  switch (t.op) {
    case 'eq': return paren(`${t.label}${ws()}==${ws()}${q(t.value)}`);
    case 'ne': return paren(`${t.label}${ws()}!=${q(t.value)}`);
    case 'contains': return paren(`${t.label} contains${ws()}${q(t.value)}`);
    case 'starts': return paren(`${t.label} ${['starts with', 'startswith', 'starts\twith'][pick() % 3]} ${q(t.value)}`);
    case 'ends': return paren(`${t.label} ${['ends with', 'endswith'][pick() % 2]}${ws()}${q(t.value)}`);
    case 'in': return paren(`${t.label} in {${t.values.map(q).join(`,${ws()}`)}${t.values.length && pick() % 3 === 0 ? ',' : ''}}`);
    case 'notin': return paren(`${t.label} ${['not in', 'notin', 'not  in'][pick() % 3]}${ws()}{${t.values.map(q).join(',')}}`);
    case 'has': return paren(`has(${pick() % 2 ? ' ' : ''}${t.label})`);
    case 'all': return paren('all()');
    case 'global': return paren(`global(${pick() % 2 ? '\t' : ''})`);
    case 'not': {
      const inner = write(t.x, pick);
      const bangs = pick() % 3 === 0 ? '!!!' : '!';
      return `${bangs}${ws()}(${inner})`;
    }
    case 'and':
    case 'or':
      return `(${t.xs.map((x) => write(x, pick)).join(`${ws()}${t.op === 'and' ? '&&' : '||'}${ws()}`)})`;
  }
}

/** Reference semantics, written from Calico's ast.go independently of src/selector. */
function reference(t: Tree, labels: Map<string, string>): boolean {
  const v = 'label' in t ? labels.get(t.label) : undefined;
  switch (t.op) {
    case 'eq': return v !== undefined && v === t.value;
    case 'ne': return v === undefined || v !== t.value;
    case 'contains': return v !== undefined && v.includes(t.value);
    case 'starts': return v !== undefined && v.startsWith(t.value);
    case 'ends': return v !== undefined && v.endsWith(t.value);
    case 'in': return v !== undefined && t.values.includes(v);
    case 'notin': return v === undefined || !t.values.includes(v);
    case 'has': return v !== undefined;
    case 'all':
    case 'global': return true;
    case 'not': return !reference(t.x, labels);
    case 'and': return t.xs.every((x) => reference(x, labels));
    case 'or': return t.xs.some((x) => reference(x, labels));
  }
}

function hasNegatedNegation(t: Tree): boolean {
  if (t.op === 'not') return t.x.op === 'not' || hasNegatedNegation(t.x);
  if (t.op === 'and' || t.op === 'or') return t.xs.some(hasNegatedNegation);
  return false;
}

const labelSets = fc.array(
  fc.dictionary(label, value, { maxKeys: 4 }).map((o) => new Map(Object.entries(o))),
  { minLength: 8, maxLength: 8 },
);
const choices = fc.array(fc.nat(1000), { minLength: 1, maxLength: 64 });

function picker(seq: number[]): () => number {
  let i = 0;
  return () => seq[i++ % seq.length]!;
}

describe('selector properties', () => {
  test('parsed selectors agree with the reference semantics', () => {
    fc.assert(
      fc.property(tree, choices, labelSets, (t, seq, sets) => {
        const s = parseSelector(write(t, picker(seq)));
        for (const labels of sets) assert.equal(s.evaluate(labels), reference(t, labels));
      }),
      { numRuns: 400 },
    );
  });

  test('canonical(canonical(s)) == canonical(s), with the same unique ID', () => {
    fc.assert(
      fc.property(tree, choices, (t, seq) => {
        const s = parseSelector(write(t, picker(seq)));
        const again = parseSelector(s.canonical);
        const third = parseSelector(again.canonical);
        // Calico quirk: !(!x) prints as !!x, which re-parses as x (leading !s collapse). Only a
        // negated parenthesised negation can move once; after that the form is fixed.
        assert.equal(third.canonical, again.canonical);
        if (!hasNegatedNegation(t)) {
          assert.equal(again.canonical, s.canonical);
          assert.equal(again.uniqueId, s.uniqueId);
        }
      }),
      { numRuns: 400 },
    );
  });

  test('Calico quirk kept: !(!x) canonicalises to !!x, whose canonical form is x', () => {
    const s = parseSelector('!(!a == "")');
    assert.equal(s.canonical, '!!a == ""');
    assert.equal(parseSelector(s.canonical).canonical, 'a == ""');
  });

  test('the canonical form evaluates like the original', () => {
    fc.assert(
      fc.property(tree, choices, labelSets, (t, seq, sets) => {
        const s = parseSelector(write(t, picker(seq)));
        const c = parseSelector(s.canonical);
        for (const labels of sets) assert.equal(c.evaluate(labels), s.evaluate(labels));
      }),
      { numRuns: 400 },
    );
  });

  test('two spellings of the same tree have the same canonical form', () => {
    fc.assert(
      fc.property(tree, choices, choices, (t, a, b) => {
        assert.equal(parseSelector(write(t, picker(a))).canonical, parseSelector(write(t, picker(b))).canonical);
      }),
      { numRuns: 300 },
    );
  });

  test('withPrefix evaluates like the original on prefixed labels', () => {
    fc.assert(
      fc.property(tree, choices, labelSets, (t, seq, sets) => {
        const s = parseSelector(write(t, picker(seq)));
        const p = s.withPrefix('pcns.');
        for (const labels of sets) {
          const prefixed = new Map([...labels].map(([k, v]) => [`pcns.${k}`, v]));
          assert.equal(p.evaluate(prefixed), s.evaluate(labels));
        }
      }),
      { numRuns: 200 },
    );
  });
});
