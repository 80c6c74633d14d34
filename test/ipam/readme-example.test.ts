import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BRINDLE_BIN, REPO_ROOT } from '../helpers/paths.js';

/** The README's `brindle ipam` example works as written: every runnable line, in order, on a fresh SQLite file. */

function ipamExampleLines(): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### IP address management'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  return block
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l.startsWith('brindle ') && !l.includes('['));
}

test('README ipam example runs as written', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'brindle-readme-ipam-'));
  try {
    const lines = ipamExampleLines();
    assert.ok(lines.length >= 8, `found ${lines.length} example lines`);
    assert.match(lines[0]!, /^brindle apply -f examples\/ipam\//, 'the example starts by creating its pools and node');
    for (const line of lines) {
      const args = line.split(/\s+/).slice(1).map((a) => (a.startsWith('examples/') ? join(REPO_ROOT, a) : a));
      const r = spawnSync(process.execPath, [BRINDLE_BIN, '--datastore', `sqlite:${join(dir, 'b.db')}`, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, `${line}\n${r.stderr}`);
      if (line.includes('--handle k8s-pod-network.abc123') && line.includes('assign')) assert.match(r.stdout, /^10\.65\.\d+\.\d+\n$/);
      if (line.startsWith('brindle ipam check')) assert.match(r.stdout, /Report written to report\.json/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
