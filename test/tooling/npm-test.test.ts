import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/paths.js';

/** `npm test` and `make test` run the same suite: one runner script, whose list is every test source. */

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [relative(REPO_ROOT, join(dir, e.name))] : []));
}

test('npm test runs a script that exists, the one make test runs', { timeout: 30_000 }, () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const m = /^node (\S+)$/.exec(pkg.scripts['test'] ?? '');
  assert.ok(m, `package.json scripts.test is "${pkg.scripts['test']}"`);
  assert.ok(existsSync(join(REPO_ROOT, m[1]!)), `${m[1]} does not exist`);
  const makefile = readFileSync(join(REPO_ROOT, 'Makefile'), 'utf8');
  const target = /^test:.*\n((?:\t.*\n)+)/m.exec(makefile);
  assert.ok(target, 'Makefile has a test target');
  assert.match(target[1]!, new RegExp(`node ${m[1]!.replace(/[.]/g, '\\.')}`), 'make test runs the same script');
  const listed = spawnSync(process.execPath, [join(REPO_ROOT, m[1]!), '--list'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(listed.status, 0, listed.stderr);
  const expected = sources(join(REPO_ROOT, 'test')).sort().map((f) => join('dist', f.replace(/\.ts$/, '.js')));
  assert.deepEqual(listed.stdout.trim().split('\n'), expected);
});
