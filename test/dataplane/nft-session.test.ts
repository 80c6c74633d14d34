/**
 * NftSession's protocol with a scripted stand-in for `nft -i` (no root): the line it writes, an
 * answer split across chunks, an error before the marker, a process that exits mid-call, and a
 * call that is never answered.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { NftSession, toOneLine } from '../../src/dataplane/nftables/nft-session.js';

class FakeNft extends EventEmitter {
  readonly stdin = new PassThrough();
  readonly stderr = new PassThrough();
  exitCode: number | null = null;
  signalCode: string | null = null;
  readonly lines: string[] = [];
  constructor(answer: (line: string, fake: FakeNft) => void) {
    super();
    let buf = '';
    this.stdin.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        this.lines.push(line);
        answer(line, this);
      }
    });
  }
  kill(): boolean {
    this.signalCode = 'SIGKILL';
    setImmediate(() => this.emit('exit', null, 'SIGKILL'));
    return true;
  }
}

/** nft's answer to the marker line. */
const markerError = (m: string) => `Error: syntax error, unexpected newline, expecting string\n${m}\n${' '.repeat(m.length)}^\n`;

function session(answer: (line: string, fake: FakeNft) => void, timeoutMs = 5000) {
  const fakes: FakeNft[] = [];
  const s = new NftSession({ timeoutMs, spawner: () => {
    const f = new FakeNft(answer);
    fakes.push(f);
    return f as unknown as ChildProcess;
  } });
  return { s, fakes };
}

test('toOneLine joins the commands of a script with ";" and drops blanks and comments', () => {
  assert.equal(toOneLine('flush chain inet brindle a\n\n# note\nadd rule inet brindle a counter accept comment "x"\n'), 'flush chain inet brindle a; add rule inet brindle a counter accept comment "x"');
});

test('nft session: writes one line and a marker; an answer split across chunks resolves', async () => {
  const { s, fakes } = session((line, f) => {
    if (!line.startsWith('brlsync')) return;
    const text = markerError(line);
    f.stderr.write(text.slice(0, 9));
    setTimeout(() => f.stderr.write(text.slice(9)), 5);
  });
  await s.run('flush chain inet brindle a\nadd rule inet brindle a counter accept\n');
  await s.run('flush chain inet brindle b\n');
  assert.deepEqual(fakes[0]!.lines, ['flush chain inet brindle a; add rule inet brindle a counter accept', 'brlsync1', 'flush chain inet brindle b', 'brlsync2']);
  s.dispose();
});

test('nft session: an error before the marker rejects that call only', async () => {
  const { s } = session((line, f) => {
    if (line.includes('missing')) f.stderr.write(`Error: Could not process rule: No such file or directory\n${line}\n      ^^^^\n`);
    if (line.startsWith('brlsync')) f.stderr.write(markerError(line));
  });
  await assert.rejects(s.run('add rule inet brindle missing counter\n'), (e: Error & { stderr?: string }) => /No such file or directory/.test(e.message) && /missing/.test(e.stderr ?? ''));
  await s.run('add rule inet brindle a counter\n');
  s.dispose();
});

test('nft session: a process that exits mid-call rejects it, and the next call starts another', async () => {
  let first = true;
  const { s, fakes } = session((line, f) => {
    if (!line.startsWith('brlsync')) return;
    if (first) {
      first = false;
      f.exitCode = 1;
      f.emit('exit', 1, null);
      return;
    }
    f.stderr.write(markerError(line));
  });
  await assert.rejects(s.run('flush chain inet brindle a\n'), /exited with code 1/);
  await s.run('flush chain inet brindle a\n');
  assert.equal(fakes.length, 2);
  assert.equal(s.starts, 2);
  s.dispose();
});

test('nft session: a call never answered times out and the process is killed', async () => {
  const { s, fakes } = session(() => undefined, 100);
  await assert.rejects(s.run('flush chain inet brindle a\n'), /no answer within 100 ms/);
  assert.equal(fakes[0]!.signalCode, 'SIGKILL');
  s.dispose();
  await assert.rejects(s.run('flush chain inet brindle a\n'), /session closed/);
});
