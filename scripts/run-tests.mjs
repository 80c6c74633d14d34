#!/usr/bin/env node
// The one test runner: `npm test` and `make test` both run it, so they run the same suite.
// Builds (unless --no-build), then runs every compiled test whose source is test/**/*.test.ts
// (a compiled test of a deleted source never runs). `--list` prints the files instead.
// NODE_TEST_FLAGS (default --test-concurrency=2) is passed to `node --test`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

function testSources(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...testSources(full));
    else if (e.name.endsWith('.test.ts')) out.push(relative(root, full));
  }
  return out;
}

const files = testSources(join(root, 'test')).sort().map((f) => join('dist', f.replace(/\.ts$/, '.js')));
if (args.includes('--list')) {
  process.stdout.write(files.join('\n') + '\n');
  process.exit(0);
}
if (!args.includes('--no-build')) {
  const tsc = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}
const flags = (process.env.NODE_TEST_FLAGS ?? '--test-concurrency=2').split(/\s+/).filter(Boolean);
const run = spawnSync(process.execPath, ['--test', ...flags, ...files], { cwd: root, stdio: 'inherit' });
process.exit(run.status ?? 1);
