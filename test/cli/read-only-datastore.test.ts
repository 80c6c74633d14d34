import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BRINDLE_BIN } from '../helpers/paths.js';

/** Read-only commands never create a SQLite datastore: a missing file is an error naming it; only writes create it. */

const tmp = mkdtempSync(join(tmpdir(), 'brindle-ro-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function cli(url: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BRINDLE_BIN, '--datastore', url, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const READ_ONLY: string[][] = [
  ['get', 'ippools'],
  ['get', 'tier', 'default'],
  ['policy', 'matrix'],
  ['policy', 'explain', '--from', '10.0.0.1', '--to', '10.0.0.2', '--port', '80'],
  ['ipam', 'show'],
  ['ipam', 'check'],
];

test('read-only commands on a SQLite path that does not exist exit 1 naming the path and create nothing', { timeout: 120_000 }, () => {
  const path = join(tmp, 'sub', 'absent.db');
  for (const args of READ_ONLY) {
    const r = cli(`sqlite:${path}`, args);
    assert.equal(r.status, 1, `brindle ${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, `Error: SQLite datastore ${path} does not exist (only commands that write create it); check --datastore or BRINDLE_DATASTORE\n`, args.join(' '));
    assert.equal(r.stdout, '');
    assert.equal(existsSync(path), false, `brindle ${args.join(' ')} created ${path}`);
    assert.equal(existsSync(join(tmp, 'sub')), false, `brindle ${args.join(' ')} created the directory`);
  }
});

test('a write creates the SQLite file; reads then work', { timeout: 60_000 }, () => {
  const path = join(tmp, 'new', 'store.db');
  const manifest = join(tmp, 'pool.yaml');
  writeFileSync(manifest, 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.9.0.0/16}\n');
  const w = cli(`sqlite:${path}`, ['apply', '-f', manifest]);
  assert.equal(w.status, 0, w.stderr);
  assert.ok(existsSync(path));
  const r = cli(`sqlite:${path}`, ['get', 'ippools']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^p\s+10\.9\.0\.0\/16/m);
});
