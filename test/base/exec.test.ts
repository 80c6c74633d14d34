import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessExec } from '../../src/base/exec.js';
import { ExecError } from '../../src/errors.js';

test('ProcessExec: stdin given later as a promise; the timeout counts from when it is written', async () => {
  const exec = new ProcessExec();
  const later = new Promise<string>((r) => setTimeout(() => r('hello\n'), 300));
  assert.equal((await exec.run('cat', [], { stdin: later, timeoutMs: 200 })).stdout, 'hello\n');
  assert.equal((await exec.run('cat', [], { stdin: Promise.reject(new Error('no input')) })).stdout, '');
  await assert.rejects(exec.run('sleep', ['5'], { stdin: Promise.resolve(''), timeoutMs: 100 }), (e: ExecError) => /timed out after 100 ms/.test(e.message));
  await assert.rejects(exec.run('/nonexistent-brindle-cmd', [], { stdin: Promise.resolve('') }), /cannot run/);
});
