/**
 * BirdDriver: runs and supervises one BIRD for one node, in the node's run directory
 * (`bird.cfg`, `bird.ctl`, `bird.pid`, `bird.log`). `apply(text)`:
 *   - text unchanged since the last apply → nothing (no file write, no reload);
 *   - otherwise BIRD parses it first (`bird -p -c bird.cfg.new`); a text BIRD refuses is rejected
 *     and the running configuration stays; a good one is renamed into place and, if BIRD runs,
 *     loaded with `configure` over the control socket (what `birdc configure` does), else BIRD starts.
 * If BIRD exits without being asked to, the driver starts it again (after `restartDelayMs`, doubling
 * up to 10 s while it keeps dying young) with the last good configuration. A BIRD left over from a
 * previous agent (its PID in our pid file) is stopped before ours starts. `dispose()` stops BIRD.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Disposable } from '../base/lifecycle.js';
import type { Exec } from '../base/exec.js';
import { ValidationError } from '../errors.js';
import { BirdSocketClient } from './bird-socket.js';

export interface BirdDriverOptions {
  runDir: string;
  exec: Exec;
  /** Run BIRD inside this network namespace (tests); unset when the agent already runs inside it. */
  netns?: string;
  birdBinary?: string;
  restartDelayMs?: number;
  log?: (msg: string) => void;
  stopMode?: 'terminate' | 'keep-routes';
}

export interface BirdPaths {
  config: string;
  socket: string;
  pid: string;
  log: string;
}

export function birdPaths(runDir: string): BirdPaths {
  return { config: join(runDir, 'bird.cfg'), socket: join(runDir, 'bird.ctl'), pid: join(runDir, 'bird.pid'), log: join(runDir, 'bird.log') };
}

export class BirdDriver implements Disposable {
  readonly paths: BirdPaths;
  private child: ChildProcess | undefined;
  private applied: string | undefined;
  private disposed = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private delay: number;
  private startedAt = 0;
  private queue: Promise<unknown> = Promise.resolve();
  /** How many times BIRD was started (1 + restarts), for status and tests. */
  starts = 0;

  constructor(readonly opts: BirdDriverOptions) {
    this.paths = birdPaths(opts.runDir);
    this.delay = opts.restartDelayMs ?? 500;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get currentConfig(): string | undefined {
    return this.applied;
  }

  /** Applies a rendered configuration; calls are serialised. Resolves true when BIRD was (re)loaded. */
  apply(text: string): Promise<boolean> {
    const next = this.queue.then(() => this.applyNow(text));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async applyNow(text: string): Promise<boolean> {
    if (this.disposed) return false;
    if (text === this.applied && this.running) return false;
    mkdirSync(this.opts.runDir, { recursive: true });
    const candidate = `${this.paths.config}.new`;
    writeFileSync(candidate, text);
    try {
      await this.opts.exec.run(this.opts.birdBinary ?? 'bird', ['-p', '-c', candidate], { timeoutMs: 10_000 });
    } catch (err) {
      rmSync(candidate, { force: true });
      const why = err instanceof Error ? err.message : String(err);
      throw new ValidationError(`BIRD refuses the rendered configuration (running configuration kept): ${why}`, [{ path: 'bird.cfg', message: why }]);
    }
    renameSync(candidate, this.paths.config);
    this.applied = text;
    if (this.running) {
      await new BirdSocketClient(this.paths.socket, 10_000).command('configure');
      this.opts.log?.('BIRD reconfigured');
    } else {
      await this.start();
    }
    return true;
  }

  private async start(): Promise<void> {
    if (!this.opts.netns && inRootNetns()) throw new Error('refusing to start BIRD in the root network namespace (it would program its routes); run the agent inside the node\'s namespace');
    this.stopStale();
    rmSync(this.paths.socket, { force: true });
    const bird = this.opts.birdBinary ?? 'bird';
    const args = ['-f', '-c', this.paths.config, '-s', this.paths.socket, '-P', this.paths.pid];
    const [file, argv] = this.opts.netns ? ['ip', ['netns', 'exec', this.opts.netns, bird, ...args]] : [bird, args];
    const logFd = openSync(this.paths.log, 'a');
    const child = spawn(file, argv, { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    this.child = child;
    this.starts++;
    this.startedAt = Date.now();
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    await this.waitForSocket(child);
    this.opts.log?.(`BIRD started (pid ${child.pid})`);
  }

  private async waitForSocket(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + 10_000;
    const client = new BirdSocketClient(this.paths.socket, 1000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`BIRD exited at start-up (see ${this.paths.log})`);
      try {
        await client.command('show status');
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`BIRD's control socket ${this.paths.socket} did not answer within 10 s`, { cause: err });
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    if (this.disposed) return;
    this.opts.log?.(`BIRD exited unexpectedly (${signal ?? `code ${code}`}); restarting`);
    // Dying again soon after a start doubles the next wait (up to 10 s); a BIRD that ran a while restarts at once.
    const base = this.opts.restartDelayMs ?? 500;
    const wait = this.delay;
    this.delay = Date.now() - this.startedAt < 5000 ? Math.min(Math.max(wait, 100) * 2, 10_000) : base;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.queue = this.queue.then(() => (this.disposed || this.running ? undefined : this.start())).catch((e) => this.opts.log?.(`BIRD restart failed: ${String(e)}`));
    }, wait);
  }

  /** A BIRD from an earlier agent run, found by our pid file, is stopped (it owns our socket path). */
  private stopStale(): void {
    if (!existsSync(this.paths.pid)) return;
    const pid = Number(readFileSync(this.paths.pid, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1 || pid === this.child?.pid) return;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes(this.paths.socket)) process.kill(pid, 'SIGKILL');
    } catch {
      // not running any more
    }
    rmSync(this.paths.pid, { force: true });
  }

  /** Stops BIRD (a later `apply` starts it again). Serialised with applies. */
  stop(): Promise<void> {
    const next = this.queue.then(() => this.kill(this.opts.stopMode === 'keep-routes' ? 'SIGKILL' : 'SIGTERM'));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.applied = undefined;
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.paths.socket, { force: true });
  }

  /**
   * Stops BIRD for good. `stopMode: 'terminate'` (default) lets BIRD say goodbye, so peers
   * withdraw its routes at once; `'keep-routes'` kills it, so its kernel routes stay and peers keep
   * its routes for the graceful-restart time (fail static while the agent restarts).
   */
  async dispose(): Promise<void> {
    this.disposed = true;
    await this.kill(this.opts.stopMode === 'keep-routes' ? 'SIGKILL' : 'SIGTERM');
  }
}

function inRootNetns(): boolean {
  try {
    return readlinkSync('/proc/self/ns/net') === readlinkSync('/proc/1/ns/net');
  } catch {
    return false;
  }
}
