import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runSync } from '../../src/base/run-sync.js';

/** Both paths of runSync (Node's spawn_sync binding and the public child_process.spawnSync) answer alike. */
for (const forcePublic of [false, true]) {
  describe(`runSync (${forcePublic ? 'child_process.spawnSync' : 'spawn_sync binding'})`, { timeout: 30_000 }, () => {
    test('exit code, stdout, stderr and env', () => {
      const r = runSync('sh', ['-c', 'printf "out:$BRL_X"; printf err >&2; exit 7'], { timeoutMs: 10_000, env: { BRL_X: 'yes' } }, forcePublic);
      assert.deepEqual({ ...r }, { status: 7, signal: null, stdout: 'out:yes', stderr: 'err', timedOut: false, startError: undefined });
    });
    test('stdin is closed: a reader sees end of input at once', () => {
      const r = runSync('cat', [], { timeoutMs: 10_000 }, forcePublic);
      assert.equal(r.status, 0);
      assert.equal(r.stdout, '');
    });
    test('a command past its timeout is killed and reported', () => {
      const t = performance.now();
      const r = runSync('sleep', ['5'], { timeoutMs: 200 }, forcePublic);
      assert.equal(r.timedOut, true);
      assert.equal(r.status, null);
      assert.ok(performance.now() - t < 4000);
    });
    test('a command that does not exist', () => {
      const r = runSync('/nonexistent-brindle-cmd', [], { timeoutMs: 10_000 }, forcePublic);
      assert.match(r.startError ?? '', /cannot run \/nonexistent-brindle-cmd/);
    });
  });
}
