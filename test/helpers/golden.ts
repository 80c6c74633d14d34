import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './paths.js';

/**
 * Compares `actual` with the golden file `testdata/<relPath>`. With UPDATE_GOLDEN=1 the file is
 * rewritten instead. A mismatch fails with a line diff (node's assert shows it).
 */
export function assertGolden(relPath: string, actual: string): void {
  const file = join(REPO_ROOT, 'testdata', relPath);
  if (process.env['UPDATE_GOLDEN'] === '1') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `golden file testdata/${relPath} is missing; run with UPDATE_GOLDEN=1 to create it`);
  const expected = readFileSync(file, 'utf8');
  assert.equal(actual, expected, `output differs from golden file testdata/${relPath} (UPDATE_GOLDEN=1 rewrites it)`);
}
