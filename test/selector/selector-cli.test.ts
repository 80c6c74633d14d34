import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { BRINDLE_BIN } from '../helpers/paths.js';

/** `brindle selector …` through the real binary: output, exit codes, and the caret on errors. */
function brindle(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  // No datastore is needed: point it somewhere that would fail if it were opened.
  const r = spawnSync(process.execPath, [BRINDLE_BIN, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, BRINDLE_DATASTORE: 'sqlite:/nonexistent-dir/brindle.db' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('brindle selector (real binary)', () => {
  test('eval prints true for matching labels', () => {
    const r = brindle('selector', 'eval', 'app == "web" && has(tier)', '--labels', '{"app":"web","tier":""}');
    assert.deepEqual(r, { code: 0, stdout: 'true\n', stderr: '' });
  });

  test('eval prints false for non-matching labels, and with no labels', () => {
    assert.deepEqual(brindle('selector', 'eval', "app in {'web', 'api'}", '--labels', '{"app":"db"}'), { code: 0, stdout: 'false\n', stderr: '' });
    assert.deepEqual(brindle('selector', 'eval', 'has(app)'), { code: 0, stdout: 'false\n', stderr: '' });
    assert.deepEqual(brindle('selector', 'eval', 'app != "web"'), { code: 0, stdout: 'true\n', stderr: '' });
  });

  test('canonical prints the canonical form, --id the unique ID', () => {
    assert.deepEqual(brindle('selector', 'canonical', '! (has( b)||! has(a ))'), { code: 0, stdout: '!(has(b) || !has(a))\n', stderr: '' });
    assert.deepEqual(brindle('selector', 'canonical', 'a in {"z", "x", "x",}'), { code: 0, stdout: 'a in {"x", "z"}\n', stderr: '' });
    assert.deepEqual(brindle('selector', 'canonical', '--id', ''), { code: 0, stdout: 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug\n', stderr: '' });
  });

  test('a bad selector exits 2 and shows where the problem is', () => {
    const r = brindle('selector', 'eval', 'app == "web" && %', '--labels', '{}');
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      'Error: selector: position 16: expected identifier (label name): unexpected character "%"\n' +
        '  app == "web" && %\n' +
        '                  ^\n',
    );
    const c = brindle('selector', 'canonical', 'a == b');
    assert.equal(c.code, 2);
    assert.match(c.stderr, /position 5: expected a quoted string after ==, found label "b"\n  a == b\n       \^\n$/);
  });

  test('bad --labels exit 2', () => {
    const notJson = brindle('selector', 'eval', 'has(a)', '--labels', '{a:1}');
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /^Error: --labels: not valid JSON/);
    const notStrings = brindle('selector', 'eval', 'has(a)', '--labels', '{"a":1}');
    assert.equal(notStrings.code, 2);
    assert.match(notStrings.stderr, /^Error: --labels: a: label values must be strings, got 1/);
    assert.equal(brindle('selector', 'eval', 'has(a)', '--labels', '["a"]').code, 2);
  });

  test('a missing selector argument is a usage error', () => {
    assert.equal(brindle('selector', 'eval').code, 2);
  });
});
