import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Exec } from '../base/exec.js';
import type { Disposable } from '../base/lifecycle.js';
import { CONNTRACK_SYSCTLS, renderUlogdConfig, type NetlinkBuffer } from './ulogd-config.js';
import { parseUlogdLine, type UlogdEvent } from './ulogd-event.js';
import { ulogdOverrun, type OverrunSource } from './ulogd-log.js';

export interface UlogdCollectorOptions {
  /** Directory for ulogd's config, log and the collector socket (short path: socket names ≤ 107 bytes). */
  runDir: string;
  /** Namespace ulogd runs in (under /run/netns); unset: the current one (the agent already runs in its node's netns). */
  netns?: string;
  conntrack?: boolean;
  /** The conntrack subscription's netlink receive buffer (tests: a small one, to see an overrun counted). */
  netlinkBuffer?: NetlinkBuffer;
  /** Extra sysctls for the namespace (e.g. a short TIME_WAIT in tests). */
  sysctls?: Record<string, string>;
  ulogdPath?: string;
  /**
   * Every this many ms, list the conntrack table (`conntrack -L`): a dump evicts expired entries at
   * once, so their DESTROY events are not left to the kernel's garbage collector, which on a quiet
   * table may wait up to a minute. Costs a dump of the table; off by default.
   */
  conntrackSweepMs?: number;
  exec: Exec;
  now?: () => number;
  onEvent(ev: UlogdEvent): void;
  onError?(err: Error): void;
  /** The kernel dropped events (a netlink receive buffer overflowed); `line` is ulogd's report. */
  onOverrun?(source: OverrunSource, line: string): void;
  /** A line on the socket that is not an event (counted in `badLines`). */
  onBadLine?(line: string): void;
}

/**
 * The kernel side of flow logging for one node: turns on conntrack accounting in the node's
 * namespace, listens on a unix socket, and runs ulogd2 there with NFLOG (denied/allowed groups)
 * and conntrack-DESTROY stacks whose JSON outputs connect to that socket. Each line becomes one
 * event. ulogd does the netlink decoding; nothing here parses a kernel format. ulogd logs to its
 * stdout, which the collector copies to `<runDir>/ulogd.log` and reads for netlink overruns (events
 * the kernel dropped: counted in `overruns` and reported, never silent). `dispose` stops ulogd (by
 * its PID) and closes the socket.
 */
export class UlogdCollector implements Disposable {
  private server: Server | undefined;
  private child: ChildProcess | undefined;
  private readonly sockets = new Set<Socket>();
  private sweep: ReturnType<typeof setInterval> | undefined;
  readonly socketPath: string;
  private log: WriteStream | undefined;
  private logTail = '';
  lines = 0;
  badLines = 0;
  readonly overruns: Record<OverrunSource, number> = { conntrack: 0, nflog: 0 };

  constructor(private readonly o: UlogdCollectorOptions) {
    this.socketPath = join(o.runDir, 'flows.sock');
  }

  async start(): Promise<void> {
    mkdirSync(this.o.runDir, { recursive: true });
    const sysctls = { ...(this.o.conntrack !== false ? CONNTRACK_SYSCTLS : {}), ...(this.o.sysctls ?? {}) };
    const args = Object.entries(sysctls).map(([k, v]) => `${k}=${v}`);
    if (args.length > 0) await this.o.exec.run('sysctl', ['-qw', ...args], { ...(this.o.netns ? { netns: this.o.netns } : {}), timeoutMs: 5_000 });
    rmSync(this.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server = createServer((s) => this.accept(s));
      this.server.once('error', reject);
      this.server.listen(this.socketPath, () => resolve());
    });
    const conf = join(this.o.runDir, 'ulogd.conf');
    writeFileSync(conf, renderUlogdConfig({ socketPath: this.socketPath, logFile: 'stdout', ...(this.o.conntrack !== undefined ? { conntrack: this.o.conntrack } : {}), ...(this.o.netlinkBuffer ? { netlinkBuffer: this.o.netlinkBuffer } : {}) }));
    const ulogd = this.o.ulogdPath ?? 'ulogd';
    const [cmd, argv] = this.o.netns ? ['ip', ['netns', 'exec', this.o.netns, ulogd, '-c', conf]] : [ulogd, ['-c', conf]];
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.log = createWriteStream(join(this.o.runDir, 'ulogd.log'), { flags: 'a' });
    this.log.on('error', () => undefined);
    if (child.stdout) this.readLog(child.stdout);
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
    child.on('exit', (code, signal) => {
      if (this.child === child) {
        this.child = undefined;
        this.o.onError?.(new Error(`ulogd exited (${signal ?? `code ${code}`}): ${stderr.trim() || this.lastLog() || `see ${join(this.o.runDir, 'ulogd.log')}`}`));
      }
    });
    // ulogd connects its JSON outputs while initialising; wait (bounded) until all are connected.
    const want = this.o.conntrack !== false ? 3 : 2;
    const deadline = Date.now() + 5_000;
    while (this.sockets.size < want && Date.now() < deadline && this.child) await new Promise((r) => setTimeout(r, 20));
    if (!this.child) throw new Error(`ulogd did not start: ${stderr.trim() || this.lastLog() || `see ${join(this.o.runDir, 'ulogd.log')}`}`);
    if (this.sockets.size < want) throw new Error(`ulogd did not connect its outputs to ${this.socketPath} within 5 s`);
    if (this.o.conntrackSweepMs && this.o.conntrack !== false) {
      let busy = false;
      this.sweep = setInterval(() => {
        if (busy) return;
        busy = true;
        void this.o.exec.run('conntrack', ['-L', '-o', 'id'], { ...(this.o.netns ? { netns: this.o.netns } : {}), timeoutMs: 10_000 }).catch(() => undefined).finally(() => (busy = false));
      }, this.o.conntrackSweepMs);
    }
  }

  /** ulogd's log lines: copied to ulogd.log, overruns counted and reported. */
  private readLog(out: NodeJS.ReadableStream): void {
    let rest = '';
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => {
      this.log?.write(chunk);
      this.logTail = (this.logTail + chunk).slice(-2000);
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        const source = ulogdOverrun(line);
        if (!source) continue;
        this.overruns[source]++;
        this.o.onOverrun?.(source, line);
      }
    });
  }

  private lastLog(): string {
    return this.logTail.trim().split('\n').slice(-3).join('; ');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private accept(s: Socket): void {
    this.sockets.add(s);
    let rest = '';
    s.setEncoding('utf8');
    s.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      const now = this.o.now?.() ?? Date.now();
      for (const line of parts) {
        if (line.trim() === '') continue;
        this.lines++;
        const ev = parseUlogdLine(line, now);
        if (ev) this.o.onEvent(ev);
        else {
          this.badLines++;
          this.o.onBadLine?.(line);
        }
      }
    });
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => this.sockets.delete(s));
  }

  dispose(): void {
    if (this.sweep) clearInterval(this.sweep);
    const c = this.child;
    this.child = undefined;
    if (c?.pid) {
      try {
        // ip netns exec execs ulogd in place, so this PID is ulogd's.
        process.kill(c.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    for (const s of this.sockets) s.destroy();
    this.log?.end();
    this.log = undefined;
    this.server?.close();
    rmSync(this.socketPath, { force: true });
  }
}
