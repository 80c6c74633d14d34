import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSelector, SelectorParseError } from '../../src/selector/index.js';

/**
 * Calico's parser tables (libcalico-go/lib/selector/parser/parser_test.go), same inputs and
 * expectations: selectors with label sets that must and must not match (also after
 * canonicalising), bad selectors, canonical forms with unique IDs, and the prefix visitor.
 */
type Labels = Record<string, string>;
const selectorTests: [string, Labels[], Labels[]][] = [
  ['a == "b"', [{ a: 'b' }, { a: 'b', c: 'd' }], [{}, { a: 'c' }, { c: 'd' }]],
  ['a == "b" && c == "d"', [{ a: 'b', c: 'd' }], [{}, { a: 'b', c: 'e' }, { a: 'c', c: 'd' }, { c: 'd' }, { a: 'b' }]],
  ['a == "b" || c == "d"', [{ a: 'b', c: 'd' }, { a: 'b' }, { c: 'd' }], [{}, { a: 'e', c: 'e' }, { c: 'e' }, { a: 'e' }]],
  [`a in {"'", '"', "c"}`, [{ a: 'c' }, { a: '"' }, { a: "'" }], [{}, { a: 'e' }]],
  [`a not in {"'", '"', "c"}`, [{}, { a: 'e' }], [{ a: 'c' }, { a: '"' }, { a: "'" }]],

  ["a == 'a'", [{ a: 'a' }], []],
  ['a == "a"', [{ a: 'a' }], []],
  ['a != "b"', [{ a: 'a' }], []],
  ['a != "a"', [{}], []],
  ['a contains "a"', [{ a: 'a' }, { a: 'bab' }, { a: 'aaa', b: 'c' }], [{}, { a: 'b' }, { b: 'aaa' }]],
  ['a starts with "a"', [{ a: 'a' }, { a: 'abb' }, { a: 'aaa', b: 'c' }], [{}, { a: 'b' }, { a: 'baa' }, { b: 'aaa' }]],
  ['a ends with "a"', [{ a: 'a' }, { a: 'bba' }, { a: 'aaa', b: 'c' }], [{}, { a: 'b' }, { a: 'aab' }, { b: 'aaa' }]],
  ['a in {"a"}', [{ a: 'a' }], []],
  ['!a in {"a"}', [{ a: 'b' }], []],
  ['a in {"a", "b"}', [{ a: 'a' }], []],
  ['a in {"a", "b"}', [{ a: 'b' }], []],
  ['a not in {"d", "e"}', [{ a: 'a' }], []],
  ['has(a)', [{ a: 'b' }], []],
  ['!has(a)', [{ b: 'b' }], []],
  ['', [{}], []],
  [' ', [{}], []],
  ['', [{ a: 'b' }], []],
  ['all()', [{}], []],
  [' all()', [{}], []],
  [' all()', [{ a: 'b' }], []],
  ['global()', [{}], []],
  [' global()', [{}], []],
  [' global()', [{ a: 'b' }], []],

  ["a == 'a'", [], [{ a: 'b' }]],
  ["a == 'a'", [], [{}]],
  ['a != "a"', [], [{ a: 'a' }]],
  ["a != 'a'", [], [{ a: 'a' }]],
  ['a in {"a"}', [], [{ a: 'b' }]],
  ['a not in {"a"}', [], [{ a: 'a' }]],
  ['a in {"a", "b"}', [], [{ a: 'c' }]],
  ['has(b)', [], [{ a: 'b' }]],
  ['!!has(b)', [], [{ a: 'b' }]],
  ['! has(a)', [], [{ a: 'b' }]],
  ['!has(a)', [], [{ a: 'b' }]],
  ['!!! has(a)', [], [{ a: 'b' }]],
  ['!!!has(a)', [], [{ a: 'b' }]],
  ['!! ! has(a)', [], [{ a: 'b' }]],
  ['! !!has(a)', [], [{ a: 'b' }]],

  // Boolean expressions...
  ["a == 'a1' && b == 'b1'", [{ a: 'a1', b: 'b1' }], []],
  ["a == 'a1' && b != 'b1'", [], [{ a: 'a1', b: 'b1' }]],
  ["a != 'a1' && b == 'b1'", [], [{ a: 'a1', b: 'b1' }]],
  ["a != 'a1' && b != 'b1'", [], [{ a: 'a1', b: 'b1' }]],
  ["a != 'a1' && !b == 'b1'", [], [{ a: 'a1', b: 'b1' }]],
  ["!a == 'a1' && b == 'b1'", [], [{ a: 'a1', b: 'b1' }]],
  ['has(a) && !has(b)', [{ a: 'a' }], []],
  ['!has(b) && has(a)', [{ a: 'a' }], []],
  ['!(!has(a) || has(b))', [{ a: 'a' }], []],
  ['!(has(b) || !has(a))', [{ a: 'a' }], []],

  ["a == 'a1' || b == 'b1'", [{ a: 'a1', b: 'b1' }], []],
  ["a == 'a1' || b != 'b1'", [{ a: 'a1', b: 'b1' }], []],
  ["a != 'a1' || b == 'b1'", [{ a: 'a1', b: 'b1' }], []],
  ["a != 'a1' || b != 'b1'", [], [{ a: 'a1', b: 'b1' }]],
  ["! a == 'a1' || ! b == 'b1'", [], [{ a: 'a1', b: 'b1' }]],
];

const badSelectors = [
  'b == b', // label == label
  'b contains b', // label contains label
  'b starts with b', // label starts with label
  'b ends with b', // label starts with label
  "'b1' == b", // literal on lhs
  'b', // bare label
  'a b', // Garbage
  '!', // Garbage
  'foo == "bar" &', // Garbage
  'foo == "bar" |', // Garbage
  'foo != ||', // Garbage
  'foo in {"", ||', // Garbage
  'foo in ""', // Expect set literal
  '"FOO', // Unterminated string
  `"FOO'`, // Unterminated string
  '"FOO', // Unterminated string
  "'FOO", // Unterminated string
  '(', // Unterminated paren
  '(a == "foo"', // Unterminated paren
  ')', // Unterminated paren
  '()', // Unterminated paren
  '%', // Unexpected char
  'a == "b" && %', // Unexpected char
  'a == "b" || %', // Unexpected char
  'a ', // should be followed by operator
  'has(foo) &&', // should be followed by operator
];

const canonicalisationTests: [string, string, string][] = [
  ['', 'all()', 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug'],
  [' all() ', 'all()', 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug'],
  [' (all() )', 'all()', 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug'],
  ['! (has( b)||! has(a ))', '!(has(b) || !has(a))', 's:Iss0uCleLYv1GSv_pNm7hAO58kE9jAx1NKyG3Q'],
  ['! (a == "b"&&! c != "d")', '!(a == "b" && !c != "d")', 's:lh3haoY1ikTRkd4UZu0nWSaIBknYLPJLX16d-w'],
  [`a == "'"`, `a == "'"`, ''],
  [`a == '"'`, `a == '"'`, ''],
  [`a contains '"'`, `a contains '"'`, ''],
  [`a contains "'"`, `a contains "'"`, ''],
  [`a startswith '"'`, `a starts with '"'`, ''],
  [`a endswith "'"`, `a ends with "'"`, ''],
  [`a!='"'`, `a != '"'`, ''],
  // Set items get sorted/de-duped.
  ['a in {"d"}', 'a in {"d"}', ''],
  ['a in {"a", "b"}', 'a in {"a", "b"}', ''],
  ['a in {"d", "a", "b"}', 'a in {"a", "b", "d"}', ''],
  ['a in {"z", "x", "y", "a"}', 'a in {"a", "x", "y", "z"}', ''],
  ['a in {"z", "z", "x", "y", "x", "a"}', 'a in {"a", "x", "y", "z"}', ''],
];

const visitorTests: [string, string, string][] = [
  ['should visit a LabelEqValueNode', "k == 'v'", 'visited/k == "v"'],
  ['should visit a LabelNeValueNode', "k != 'v'", 'visited/k != "v"'],
  ['should visit a LabelContainsValueNode', "k contains 'v'", 'visited/k contains "v"'],
  ['should visit a LabelStartWithValueNode', "k starts with 'v'", 'visited/k starts with "v"'],
  ['should visit a LabelEndsWithValueNode', "k ends with 'v'", 'visited/k ends with "v"'],
  ['should visit an AndNode', "k == 'v' && x == 'y'", '(visited/k == "v" && visited/x == "y")'],
  ['should visit an OrNode', "k == 'v' || has(x)", '(visited/k == "v" || has(visited/x))'],
  ['should visit a NotNode', "!(k == 'v')", '!visited/k == "v"'],
  ['should visit a LabelInSetNode', "k in {'v'}", 'visited/k in {"v"}'],
  ['should visit a LabelNotInSetNode', "k not in {'v'}", 'visited/k not in {"v"}'],
  ['should visit a big complex selector',
    "!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))",
    '!(!((visited/k == "v" && has(visited/t)) || all()) && visited/a in {"b", "c"})'],
];

const m = (o: Labels) => new Map(Object.entries(o));

describe('parser: Calico selector table', () => {
  for (const [sel, matches, nonMatches] of selectorTests) {
    test(`${JSON.stringify(sel)} matches ${JSON.stringify(matches)}, not ${JSON.stringify(nonMatches)}`, () => {
      const s = parseSelector(sel);
      const again = parseSelector(s.canonical);
      for (const labels of matches) {
        assert.equal(s.evaluate(m(labels)), true, `${sel} should match ${JSON.stringify(labels)}`);
        assert.equal(again.evaluate(m(labels)), true, `${s.canonical} should match ${JSON.stringify(labels)}`);
      }
      for (const labels of nonMatches) {
        assert.equal(s.evaluate(m(labels)), false, `${sel} should not match ${JSON.stringify(labels)}`);
        assert.equal(again.evaluate(m(labels)), false, `${s.canonical} should not match ${JSON.stringify(labels)}`);
      }
      assert.equal(s.uniqueId, s.uniqueId);
    });
  }
});

describe('parser: Calico bad selectors', () => {
  for (const sel of badSelectors) {
    test(`rejects ${JSON.stringify(sel)}`, () => {
      assert.throws(() => parseSelector(sel), (err: unknown) => {
        assert.ok(err instanceof SelectorParseError, String(err));
        assert.ok(err.position >= 0 && err.position <= sel.length, `position ${err.position} within input`);
        return true;
      });
    });
  }
});

describe('parser: Calico canonicalisation and unique IDs', () => {
  for (const [input, expected, uid] of canonicalisationTests) {
    test(`${JSON.stringify(input)} → ${expected}`, () => {
      const s = parseSelector(input);
      assert.equal(s.canonical, expected);
      const round = parseSelector(s.canonical);
      assert.equal(round.canonical, s.canonical);
      assert.equal(round.uniqueId, s.uniqueId);
      if (uid) assert.equal(s.uniqueId, uid);
      assert.match(s.uniqueId, /^s:[A-Za-z0-9_-]{38}$/);
    });
  }
});

describe('parser: Calico prefix visitor (withPrefix)', () => {
  for (const [name, input, expected] of visitorTests) {
    test(name, () => {
      const s = parseSelector(input);
      const prefixed = s.withPrefix('visited/');
      assert.equal(prefixed.canonical, expected);
      assert.equal(s.canonical, parseSelector(input).canonical, 'the original is not changed');
      assert.equal(prefixed.evaluate(m({ 'visited/k': 'v', 'visited/t': '' })), s.evaluate(m({ k: 'v', t: '' })));
    });
  }
});

describe('parser: Brindle checks of quirks and error positions', () => {
  test('trailing comma and empty sets are accepted', () => {
    assert.equal(parseSelector('a in {"x",}').canonical, 'a in {"x"}');
    assert.equal(parseSelector('a in {}').canonical, 'a in {}');
    assert.equal(parseSelector('a in {}').evaluate(m({ a: '' })), false);
    assert.equal(parseSelector('a not in {}').evaluate(m({})), true);
    assert.throws(() => parseSelector('a in {,}'), SelectorParseError);
    assert.throws(() => parseSelector('a in {"x",,}'), SelectorParseError);
  });

  test('has() matches an empty value; != and not in match an absent label', () => {
    assert.equal(parseSelector('has(a)').evaluate(m({ a: '' })), true);
    assert.equal(parseSelector('a == ""').evaluate(m({ a: '' })), true);
    assert.equal(parseSelector('a == ""').evaluate(m({})), false);
    assert.equal(parseSelector('a != ""').evaluate(m({})), true);
    assert.equal(parseSelector('a contains ""').evaluate(m({})), false);
    assert.equal(parseSelector('a contains ""').evaluate(m({ a: 'x' })), true);
  });

  test('precedence: && binds tighter than ||, ! binds to one operation', () => {
    assert.equal(parseSelector('a == "1" || b == "2" && c == "3"').canonical, '(a == "1" || (b == "2" && c == "3"))');
    assert.equal(parseSelector('!a == "1" && b == "2"').canonical, '(!a == "1" && b == "2")');
    assert.equal(parseSelector('!!(a == "1")').canonical, 'a == "1"');
    assert.equal(parseSelector('((a == "1" || b == "2")) || c == "3"').canonical, '((a == "1" || b == "2") || c == "3")');
  });

  test('sets sort by byte order, not by locale', () => {
    assert.equal(parseSelector('a in {"b", "B", "a", "é", "\u{1F600}", "\uFF01"}').canonical, 'a in {"B", "a", "b", "é", "\uFF01", "\u{1F600}"}');
  });

  const positions: [string, number, RegExp][] = [
    ['b == b', 5, /expected a quoted string after ==, found label "b"/],
    ["'b1' == b", 0, /expected a label/],
    ['b', 1, /expected an operator .* after label "b", found end of selector/],
    ['foo in ""', 7, /expected set literal/],
    ['(a == "foo"', 11, /expected \) to close the \( at position 0/],
    [')', 0, /expected a label/],
    ['()', 1, /expected a label/],
    ['has(foo) &&', 11, /found end of selector/],
    ['a == "b" c == "d"', 9, /unexpected label "c" after a complete expression/],
    ['a == "b")', 8, /unexpected '\)' after a complete expression/],
    ['foo in {"", ||', 12, /expected a quoted string or \} in set literal/],
  ];
  for (const [sel, pos, re] of positions) {
    test(`error position for ${JSON.stringify(sel)}`, () => {
      assert.throws(() => parseSelector(sel), (err: unknown) => {
        assert.ok(err instanceof SelectorParseError);
        assert.equal(err.position, pos, err.message);
        assert.match(err.message, re);
        return true;
      });
    });
  }

  test('parse results are cached by input and selectors are immutable', () => {
    assert.equal(parseSelector('a == "cache"'), parseSelector('a == "cache"'));
  });
});

describe('selector module helpers', () => {
  test('normaliseSelector trims and canonicalises, and leaves a bad selector unchanged', async () => {
    const { normaliseSelector } = await import('../../src/selector/index.js');
    assert.equal(normaliseSelector('  a==\'b\'  '), 'a == "b"');
    assert.equal(normaliseSelector('a == '), 'a == ');
  });

  test('ALL_SELECTOR, NO_MATCH_SELECTOR and makeUniqueId', async () => {
    const { ALL_SELECTOR, NO_MATCH_SELECTOR, makeUniqueId } = await import('../../src/selector/index.js');
    assert.equal(ALL_SELECTOR.canonical, 'all()');
    assert.equal(ALL_SELECTOR.uniqueId, 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug');
    assert.equal(NO_MATCH_SELECTOR.canonical, '!all()');
    assert.equal(NO_MATCH_SELECTOR.evaluate(new Map()), false);
    assert.equal(makeUniqueId('s', 'all()'), 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug');
  });
});
