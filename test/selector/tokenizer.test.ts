import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SelectorParseError } from '../../src/selector/index.js';
import { tokenize, TokenKind as K } from '../../src/selector/tokenizer.js';

/**
 * Calico's tokenizer table (libcalico-go/lib/selector/tokenizer/tokenizer_test.go), same inputs and
 * expected tokens; `null` means the input must be rejected. Then Brindle's own checks of the
 * quirks and of error positions.
 */
type Tok = [K, string?];
const L = (v: string): Tok => [K.Label, v];
const S = (v: string): Tok => [K.String, v];
const T = (k: K): Tok => [k];
const H = (v: string): Tok => [K.Has, v];
const EOF = T(K.EOF);

const calicoTable: [string, Tok[] | null][] = [
  ['a=="b"', [L('a'), T(K.Eq), S('b'), EOF]],
  ['a=="b"', [L('a'), T(K.Eq), S('b'), EOF]],
  ['label == "value"', [L('label'), T(K.Eq), S('value'), EOF]],
  ['label contains "value"', [L('label'), T(K.Contains), S('value'), EOF]],
  ['contains contains "contains"', [L('contains'), T(K.Contains), S('contains'), EOF]],
  ["contains contains 'contains'", [L('contains'), T(K.Contains), S('contains'), EOF]],
  ['label contains"value"', [L('label'), T(K.Contains), S('value'), EOF]],
  ['label startswith "value"', [L('label'), T(K.StartsWith), S('value'), EOF]],
  ['label endswith "value"', [L('label'), T(K.EndsWith), S('value'), EOF]],
  ['label starts with "value"', [L('label'), T(K.StartsWith), S('value'), EOF]],
  ['startswith starts with "value"', [L('startswith'), T(K.StartsWith), S('value'), EOF]],
  ['label ends with "value"', [L('label'), T(K.EndsWith), S('value'), EOF]],
  ['endswith ends with "value"', [L('endswith'), T(K.EndsWith), S('value'), EOF]],
  ['label starts  with "value"', [L('label'), T(K.StartsWith), S('value'), EOF]],
  ['label ends  with "value"', [L('label'), T(K.EndsWith), S('value'), EOF]],
  ['label starts foo "value"', null],
  ['label ends foo "value"', null],
  ['label squiggles "value"', null],
  ['a not in "bar" && !has(foo) || b in c',
    [L('a'), T(K.NotIn), S('bar'), T(K.And), T(K.Not), H('foo'), T(K.Or), L('b'), T(K.In), L('c'), EOF]],
  ['has(calico/k8s_ns)', [H('calico/k8s_ns'), EOF]],
  ['has(calico/k8s_ns/role)', [H('calico/k8s_ns/role'), EOF]],
  ['has(calico/k8s_NS-.1/role)', [H('calico/k8s_NS-.1/role'), EOF]],
  ['calico/k8s_ns == "kube-system" && k8s-app == "kube-dns"',
    [L('calico/k8s_ns'), T(K.Eq), S('kube-system'), T(K.And), L('k8s-app'), T(K.Eq), S('kube-dns'), EOF]],
  ['a  not  in  "bar"  &&  ! has( foo )  ||  b  in  c ',
    [L('a'), T(K.NotIn), S('bar'), T(K.And), T(K.Not), H('foo'), T(K.Or), L('b'), T(K.In), L('c'), EOF]],
  ['a notin"bar"&&!has(foo)||b in"c"',
    [L('a'), T(K.NotIn), S('bar'), T(K.And), T(K.Not), H('foo'), T(K.Or), L('b'), T(K.In), S('c'), EOF]],
  ['a not in {}', [L('a'), T(K.NotIn), T(K.LBrace), T(K.RBrace), EOF]],
  ['a not in {"a"}', [L('a'), T(K.NotIn), T(K.LBrace), S('a'), T(K.RBrace), EOF]],
  ['a not in {"a","B"}', [L('a'), T(K.NotIn), T(K.LBrace), S('a'), T(K.Comma), S('B'), T(K.RBrace), EOF]],
  ['global()', [T(K.Global), EOF]],
  ['all()', [T(K.All), EOF]],
];

function simplified(input: string): Tok[] {
  return tokenize(input).map((t) => (t.value === undefined ? [t.kind] : [t.kind, t.value]));
}

describe('tokenizer: Calico table', () => {
  for (const [input, expected] of calicoTable) {
    test(expected ? `tokenizes ${JSON.stringify(input)}` : `rejects ${JSON.stringify(input)}`, () => {
      if (expected) assert.deepEqual(simplified(input), expected);
      else assert.throws(() => tokenize(input), SelectorParseError);
    });
  }
});

describe('tokenizer: word operators need a word boundary', () => {
  const cases: [string, Tok[] | null][] = [
    ['a inx', null],
    ['a containsx "b"', null],
    ['a in{"b"}', [L('a'), T(K.In), T(K.LBrace), S('b'), T(K.RBrace), EOF]],
    ['a starts with"x"', [L('a'), T(K.StartsWith), S('x'), EOF]],
    ['a starts with x', null], // whitespace after "with" is skipped before the boundary check
    ['a not in c', null], // same for "not in"
    ['a in c', [L('a'), T(K.In), L('c'), EOF]], // but not after a one-word operator
    ['a startswithx "b"', null],
    ['a\tnot\tin\t{}', [L('a'), T(K.NotIn), T(K.LBrace), T(K.RBrace), EOF]],
    ['in in {"in"}', [L('in'), T(K.In), T(K.LBrace), S('in'), T(K.RBrace), EOF]],
    ['has( a )', [H('a'), EOF]],
    ['all( )', [T(K.All), EOF]],
    ['"a\'b"', [S("a'b"), EOF]],
  ];
  for (const [input, expected] of cases) {
    test(JSON.stringify(input), () => {
      if (expected) assert.deepEqual(simplified(input), expected);
      else assert.throws(() => tokenize(input), SelectorParseError);
    });
  }
});

describe('tokenizer: errors name the position', () => {
  const cases: [string, number, RegExp][] = [
    ['a = "b"', 2, /expected ==/],
    ['a == "b" & c', 9, /expected &&/],
    ['a == "b" | c', 9, /expected \|\|/],
    ['a == "b', 5, /unterminated string/],
    ["a == 'b\"", 5, /unterminated string/],
    ['a squiggles "b"', 2, /expected operator after label "a"/],
    ['has()', 4, /expected identifier/],
    ['has(a', 5, /no closing '\)' after has\(/],
    ['all(x)', 4, /no closing '\)' after all\(/],
    ['global(', 7, /no closing '\)' after global\(/],
    ['%', 0, /expected identifier/],
    ['a == "b" &&\nc == "d"', 11, /expected identifier/], // newline is not whitespace
    [`has(${'x'.repeat(513)})`, 4, /label too long/],
  ];
  for (const [input, pos, re] of cases) {
    test(JSON.stringify(input.length > 40 ? input.slice(0, 40) + '…' : input), () => {
      assert.throws(() => tokenize(input), (err: unknown) => {
        assert.ok(err instanceof SelectorParseError);
        assert.equal(err.position, pos);
        assert.match(err.message, re);
        assert.equal(err.input, input);
        return true;
      });
    });
  }

  test('a 512-character label is accepted, 513 is not', () => {
    assert.deepEqual(simplified(`${'x'.repeat(512)} == "v"`)[0], L('x'.repeat(512)));
    assert.throws(() => tokenize(`${'x'.repeat(513)} == "v"`), /label too long/);
  });

  test('tokens carry their offsets', () => {
    assert.deepEqual(tokenize(' a == "b" && has( c )').map((t) => t.pos), [1, 3, 6, 10, 13, 21]);
  });
});
