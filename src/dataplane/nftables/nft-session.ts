/**
 * A long-lived `nft -i` process that applies transactions without paying nft's start-up cost each
 * time. A fresh `nft -f` loads its libraries, parses iproute2's tables and dumps the table's
 * chains and sets before it can send a batch: with 1,000 endpoints and 1,000 policies that is
 * 30–40 ms for a two-rule change. The interactive process keeps its start-up state, so the same
 * change takes 5–10 ms (measured in bench/agent-dataplane.bench.ts).
 *
 * Each transaction is written as one line (the script's commands joined with `;`): nft sends one
 * line as one netlink batch, so the kernel applies it all or nothing, exactly like `nft -f`. nft
 * prints nothing on success and its errors on stderr; to know when a line is done, every line is
 * followed by a marker line that nft refuses at once with a syntax error (before any netlink
 * traffic), which echoes the marker back on stderr. What stderr holds before the marker's error is
 * the transaction's own error, if any.
 *
 * What it does not do: listings (they go through `nft -j list` as before) and scripts too large
 * for one line (the caller uses `nft -f` for those). A session that dies, or does not answer in
 * time, is killed; the call rejects and the next call starts a new process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Disposable } from '../../base/lifecycle.js';
import { ExecError } from '../../errors.js';

export type NftSpawner = (argv: readonly string[]) => ChildProcess;

const defaultSpawner: NftSpawner = (argv) => spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });

interface Pending {
  marker: string;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class NftSession implements Disposable {
  private child: ChildProcess | undefined;
  private stderr = '';
  private pending: Pending | undefined;
  private queue: Promise<void> = Promise.resolve();
  private seq = 0;
  private disposed = false;
  /** Processes started so far (a restart after a failure counts). */
  starts = 0;

  constructor(private readonly opts: { netns?: string; timeoutMs?: number; spawner?: NftSpawner } = {}) {}

  /** Applies one script (newline-separated nft commands) as one atomic transaction. */
  run(script: string): Promise<void> {
    const line = toOneLine(script);
    const next = this.queue.then(() => this.send(line));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private start(): ChildProcess {
    const argv = this.opts.netns ? ['ip', 'netns', 'exec', this.opts.netns, 'nft', '-i'] : ['nft', '-i'];
    const child = (this.opts.spawner ?? defaultSpawner)(argv);
    this.starts++;
    this.stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => this.onStderr(d));
    child.stdin!.on('error', () => undefined); // reported through 'exit'
    const gone = (why: string) => {
      if (this.child === child) this.child = undefined;
      this.fail(new ExecError(`nft -i: ${why}`, null, this.stderr));
    };
    child.on('error', (e) => gone(`cannot run: ${e.message}`));
    child.on('exit', (code, signal) => gone(signal ? `killed by ${signal}` : `exited with code ${code}`));
    this.child = child;
    return child;
  }

  private send(line: string): Promise<void> {
    if (this.disposed) return Promise.reject(new ExecError('nft -i: session closed', null, ''));
    const child = this.child ?? this.start();
    const marker = `brlsync${++this.seq}`;
    return new Promise<void>((resolve, reject) => {
      const timeoutMs = this.opts.timeoutMs ?? 60_000;
      const timer = setTimeout(() => {
        this.fail(new ExecError(`nft -i: no answer within ${timeoutMs} ms`, null, this.stderr));
        this.kill();
      }, timeoutMs);
      this.pending = { marker, resolve, reject, timer };
      child.stdin!.write(`${line}\n${marker}\n`);
    });
  }

  private onStderr(d: string): void {
    this.stderr += d;
    const p = this.pending;
    if (!p) return;
    // The marker's own error: "Error: syntax error, …\n<marker>\n   ^\n".
    const echo = this.stderr.indexOf(`\n${p.marker}\n`);
    if (echo < 0) return;
    const caret = this.stderr.indexOf('\n', echo + p.marker.length + 2);
    if (caret < 0) return;
    const markerError = this.stderr.lastIndexOf('Error:', echo);
    const own = this.stderr.slice(0, Math.max(0, markerError)).trim();
    this.stderr = this.stderr.slice(caret + 1);
    this.pending = undefined;
    clearTimeout(p.timer);
    if (/^Error:/m.test(own)) {
      const why = own.split('\n').filter((l) => l.startsWith('Error:')).slice(0, 5).join('; ');
      p.reject(new ExecError(`nft -i: ${why}`, 1, own));
    } else {
      p.resolve();
    }
  }

  private fail(e: Error): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.reject(e);
  }

  private kill(): void {
    const c = this.child;
    this.child = undefined;
    if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }

  dispose(): void {
    this.disposed = true;
    this.fail(new ExecError('nft -i: session closed', null, ''));
    this.kill();
  }
}

/** One line of commands; nft reads `a; b; c` as one batch. Empty lines and comments are dropped. */
export function toOneLine(script: string): string {
  return script.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).join('; ');
}
