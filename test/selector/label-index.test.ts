import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseSelector, type LabelGetter, type Selector } from '../../src/selector/index.js';
import { LabelIndex, type LabelIndexCallbacks } from '../../src/selector/label-index.js';
import { inheritLabels } from '../../src/selector/label-inheritance.js';

/**
 * The label index: callbacks fire once per real transition, inheritance follows Felix (own labels
 * win, then parents in order), work stays proportional to what can care, and after any random
 * sequence of updates the index agrees with brute-force evaluation.
 */

/** Records match events and fails on a contract violation (double start, stop without start). */
class MatchRecorder implements LabelIndexCallbacks {
  readonly matches = new Set<string>();
  events: string[] = [];
  onMatchStarted(sel: string, item: string): void {
    const key = `${sel}|${item}`;
    assert.ok(!this.matches.has(key), `duplicate onMatchStarted(${sel}, ${item})`);
    this.matches.add(key);
    this.events.push(`+${key}`);
  }
  onMatchStopped(sel: string, item: string): void {
    const key = `${sel}|${item}`;
    assert.ok(this.matches.has(key), `onMatchStopped(${sel}, ${item}) without a start`);
    this.matches.delete(key);
    this.events.push(`-${key}`);
  }
  take(): string[] {
    const e = this.events.sort();
    this.events = [];
    return e;
  }
}

/** A selector that counts its evaluations. */
function counting(text: string): Selector & { count: number } {
  const inner = parseSelector(text);
  const s = {
    count: 0,
    canonical: inner.canonical,
    uniqueId: inner.uniqueId,
    evaluate(l: LabelGetter) {
      s.count++;
      return inner.evaluate(l);
    },
    labelRestrictions: () => inner.labelRestrictions(),
    withPrefix: (p: string) => inner.withPrefix(p),
  };
  return s;
}

describe('label index: callbacks', () => {
  test('selectors then items, label changes, deletes', () => {
    const rec = new MatchRecorder();
    const idx = new LabelIndex(rec);
    idx.updateSelector('web', parseSelector('app == "web"'));
    idx.updateSelector('prod', parseSelector('env == "prod"'));
    idx.updateSelector('notdb', parseSelector('tier != "db"'));
    assert.deepEqual(rec.take(), []);

    idx.updateItem('e1', { app: 'web', env: 'prod' });
    assert.deepEqual(rec.take(), ['+notdb|e1', '+prod|e1', '+web|e1']);
    idx.updateItem('e1', { app: 'web', env: 'prod' });
    assert.deepEqual(rec.take(), [], 'same labels: no events');
    idx.updateItem('e1', new Map([['app', 'api'], ['env', 'prod'], ['tier', 'db']]));
    assert.deepEqual(rec.take(), ['-notdb|e1', '-web|e1']);
    assert.deepEqual([...idx.matchingSelectors('e1')], ['prod']);
    assert.deepEqual([...idx.matchingItems('prod')], ['e1']);

    idx.updateItem('e2', { env: 'prod' });
    assert.deepEqual(rec.take(), ['+notdb|e2', '+prod|e2']);
    idx.deleteSelector('prod');
    assert.deepEqual(rec.take(), ['-prod|e1', '-prod|e2']);
    idx.deleteItem('e2');
    assert.deepEqual(rec.take(), ['-notdb|e2']);
    idx.deleteItem('e2');
    idx.deleteSelector('nope');
    assert.deepEqual(rec.take(), []);
    assert.deepEqual([...idx.matchingItems('prod')], []);
  });

  test('items then selectors; replacing a selector reports only the difference', () => {
    const rec = new MatchRecorder();
    const idx = new LabelIndex(rec);
    idx.updateItem('a', { app: 'web' });
    idx.updateItem('b', { app: 'api' });
    idx.updateItem('c', { app: 'db' });
    idx.updateSelector('s', parseSelector('app in {"web", "api"}'));
    assert.deepEqual(rec.take(), ['+s|a', '+s|b']);
    idx.updateSelector('s', parseSelector("app in {'api', 'web'}"));
    assert.deepEqual(rec.take(), [], 'same canonical form: no events');
    idx.updateSelector('s', parseSelector('app in {"api", "db"}'));
    assert.deepEqual(rec.take(), ['+s|c', '-s|a']);
    idx.updateSelector('s', parseSelector('has(app) && !has(app)'));
    assert.deepEqual(rec.take(), ['-s|b', '-s|c']);
    idx.updateSelector('s', parseSelector(''));
    assert.deepEqual(rec.take(), ['+s|a', '+s|b', '+s|c']);
  });
});

describe('label index: inheritance', () => {
  test('own labels win, then parents in the order listed', () => {
    assert.deepEqual(
      [...inheritLabels(new Map([['team', 'own']]), [new Map([['team', 'p1'], ['env', 'prod']]), undefined, new Map([['env', 'dev'], ['zone', 'z']])])].sort(),
      [['env', 'prod'], ['team', 'own'], ['zone', 'z']],
    );
  });

  test('parent updates move only that parent\'s items', () => {
    const rec = new MatchRecorder();
    const idx = new LabelIndex(rec);
    const prod = counting('env == "prod"');
    idx.updateSelector('prod', prod);
    idx.updateParent('p1', { env: 'prod', team: 'a' });
    idx.updateParent('p2', { env: 'dev', zone: 'z' });
    idx.updateItem('e1', { app: 'web', team: 'own' }, ['p1', 'p2']);
    idx.updateItem('e2', { app: 'web' }, ['p2', 'p1']);
    idx.updateItem('e3', { env: 'prod' }, ['p2']);
    for (let i = 0; i < 50; i++) idx.updateItem(`other${i}`, { app: 'x' }, ['p3']);
    assert.deepEqual(rec.take(), ['+prod|e1', '+prod|e3']);
    assert.deepEqual(Object.fromEntries(idx.effectiveLabels('e1')!), { app: 'web', team: 'own', env: 'prod', zone: 'z' });
    assert.deepEqual(Object.fromEntries(idx.effectiveLabels('e2')!), { app: 'web', env: 'dev', zone: 'z', team: 'a' });

    prod.count = 0;
    idx.updateParent('p1', { env: 'dev' });
    assert.deepEqual(rec.take(), ['-prod|e1']);
    assert.ok(prod.count <= 2, `only p1's items were looked at (${prod.count} evaluations)`);
    idx.updateParent('p2', { env: 'prod' });
    assert.deepEqual(rec.take(), ['+prod|e2']);
    idx.deleteParent('p1');
    assert.deepEqual(rec.take(), ['+prod|e1']);
    idx.updateItem('e1', { app: 'web' }, []);
    assert.deepEqual(rec.take(), ['-prod|e1']);
    idx.updateParent('p2', { env: 'dev' });
    assert.deepEqual(rec.take(), ['-prod|e2'], 'e1 no longer has p2 as a parent');
    idx.updateParent('p3', { env: 'prod' });
    assert.equal(rec.take().length, 50, 'a parent that appears after its items applies to them');
  });
});

describe('label index: work is proportional to what can care', () => {
  test('an item update evaluates only selectors filed under its labels, its old matches and unoptimised ones', () => {
    const idx = new LabelIndex(new MatchRecorder());
    const sels = Array.from({ length: 500 }, (_, i) => counting(`app == "app-${i}" && env != "dev"`));
    const has = Array.from({ length: 100 }, (_, i) => counting(`has(feature-${i})`));
    const unopt = counting('tier != "db"');
    sels.forEach((s, i) => idx.updateSelector(`eq${i}`, s));
    has.forEach((s, i) => idx.updateSelector(`has${i}`, s));
    idx.updateSelector('unopt', unopt);
    const total = () => [...sels, ...has, unopt].reduce((n, s) => n + s.count, 0);

    idx.updateItem('e', { app: 'app-7', 'feature-3': '' });
    assert.equal(total(), 3);
    assert.deepEqual([...idx.matchingSelectors('e')].sort(), ['eq7', 'has3', 'unopt']);
    idx.updateItem('e', { app: 'app-8' });
    assert.equal(total(), 3 + 2, 'eq8 and unopt');
    assert.deepEqual([...idx.matchingSelectors('e')].sort(), ['eq8', 'unopt']);
  });

  test('a selector update evaluates only items carrying its label; impossible selectors none', () => {
    const idx = new LabelIndex(new MatchRecorder());
    for (let i = 0; i < 1000; i++) idx.updateItem(`e${i}`, { app: `app-${i % 100}`, env: i % 200 < 100 ? 'prod' : 'dev' });
    const s = counting('app == "app-5" && env == "prod"');
    idx.updateSelector('s', s);
    assert.ok(s.count <= 10, `${s.count} evaluations for 10 items with app-5`);
    assert.equal([...idx.matchingItems('s')].length, 5);
    const none = counting('app == "x" && app == "y"');
    idx.updateSelector('none', none);
    assert.equal(none.count, 0);
  });
});

describe('label index: randomized against brute force', () => {
  const SELECTORS = [
    'a == "x"', 'a != "x"', 'a in {"x", "y"}', 'a not in {"x"}', 'has(b)', '!has(b)', 'a == "x" && b == "y"',
    'a == "x" || b == "y"', 'a == "x" || a == "z"', 'has(a) && !has(c)', 'c contains "z"', 'all()', '',
    'a == "x" && a == "y"', '(a == "y" && has(b)) || (a == "z" && c == "x")', '!(a == "x")', 'b starts with "y"',
  ];
  const lbl = fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.constantFrom('x', 'y', 'z', ''), { maxKeys: 3 });
  const item = fc.constantFrom('i0', 'i1', 'i2', 'i3', 'i4', 'i5');
  const parent = fc.constantFrom('p0', 'p1', 'p2');
  const selId = fc.constantFrom('s0', 's1', 's2', 's3', 's4');
  type Op =
    | { op: 'sel'; id: string; text: string }
    | { op: 'delsel'; id: string }
    | { op: 'item'; id: string; labels: Record<string, string>; parents: string[] }
    | { op: 'delitem'; id: string }
    | { op: 'parent'; id: string; labels: Record<string, string> }
    | { op: 'delparent'; id: string };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant('sel' as const), id: selId, text: fc.constantFrom(...SELECTORS) }),
    fc.record({ op: fc.constant('delsel' as const), id: selId }),
    fc.record({ op: fc.constant('item' as const), id: item, labels: lbl, parents: fc.uniqueArray(parent, { maxLength: 3 }) }),
    fc.record({ op: fc.constant('item' as const), id: item, labels: lbl, parents: fc.uniqueArray(parent, { maxLength: 3 }) }),
    fc.record({ op: fc.constant('delitem' as const), id: item }),
    fc.record({ op: fc.constant('parent' as const), id: parent, labels: lbl }),
    fc.record({ op: fc.constant('delparent' as const), id: parent }),
  );

  test('matches equal brute-force evaluation after every step', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
        const rec = new MatchRecorder();
        const idx = new LabelIndex(rec);
        const sels = new Map<string, string>();
        const items = new Map<string, { labels: Record<string, string>; parents: string[] }>();
        const parents = new Map<string, Record<string, string>>();
        for (const o of ops) {
          switch (o.op) {
            case 'sel': sels.set(o.id, o.text); idx.updateSelector(o.id, parseSelector(o.text)); break;
            case 'delsel': sels.delete(o.id); idx.deleteSelector(o.id); break;
            case 'item': items.set(o.id, o); idx.updateItem(o.id, o.labels, o.parents); break;
            case 'delitem': items.delete(o.id); idx.deleteItem(o.id); break;
            case 'parent': parents.set(o.id, o.labels); idx.updateParent(o.id, o.labels); break;
            case 'delparent': parents.delete(o.id); idx.deleteParent(o.id); break;
          }
          const expected = new Set<string>();
          for (const [iid, it] of items) {
            const eff = new Map<string, string>();
            for (const p of [...it.parents].reverse()) for (const [k, v] of Object.entries(parents.get(p) ?? {})) eff.set(k, v);
            for (const [k, v] of Object.entries(it.labels)) eff.set(k, v);
            assert.deepEqual(new Map([...idx.effectiveLabels(iid)!].sort()), new Map([...eff].sort()));
            for (const [sid, text] of sels) if (parseSelector(text).evaluate(eff)) expected.add(`${sid}|${iid}`);
          }
          assert.deepEqual([...rec.matches].sort(), [...expected].sort(), 'callback-derived matches');
          const fromIndex = [...sels.keys()].flatMap((sid) => [...idx.matchingItems(sid)].map((iid) => `${sid}|${iid}`));
          assert.deepEqual(fromIndex.sort(), [...expected].sort(), 'matchingItems');
          const fromItems = [...items.keys()].flatMap((iid) => [...idx.matchingSelectors(iid)].map((sid) => `${sid}|${iid}`));
          assert.deepEqual(fromItems.sort(), [...expected].sort(), 'matchingSelectors');
        }
      }),
      { numRuns: 300 },
    );
  });
});
