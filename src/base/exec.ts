/**
 * Every external command Brindle runs (nft, ip, birdc, sysctl…) goes through an Exec, so that it
 * can run inside a network namespace and be faked in tests. `netns` runs the command with
 * `ip netns exec NAME` (a namespace under /run/netns); code that already runs inside its node's
 * namespace (the agent under `ip netns exec`) leaves it unset. A command that exits non-zero, times
 * out or cannot be started rejects with an ExecError carrying its exit code and stderr.
 */
import type { spawn as Spawn } from 'node:child_process';
import { ExecError } from '../errors.js';
import { requireBuiltin } from './builtin.js';

export interface ExecOptions {
  /**
   * Text for the command's stdin. A promise starts the command at once and writes its input when
   * it resolves (rejected: empty input); the timeout then counts from that moment.
   */
  stdin?: string | PromiseLike<string>;
  /** Kills the command after this long (default 30 s). */
  timeoutMs?: number;
  /** Network namespace name (under /run/netns) to run in. */
  netns?: string;
  env?: Record<string, string | undefined>;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export interface Exec {
  run(cmd: string, args: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
}

const DEFAULT_TIMEOUT_MS = 30_000;

let spawnFn: typeof Spawn | undefined;

/** Runs real processes. `node:child_process` is loaded on the first command (short-lived programs that never start one, or start them through run-sync.ts, do not pay its ~5 ms). */
export class ProcessExec implements Exec {
  run(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (spawnFn) return this.start(spawnFn, cmd, args, opts);
    try {
      spawnFn = requireBuiltin<typeof import('node:child_process')>('node:child_process').spawn;
    } catch (err) {
      return Promise.reject(err);
    }
    return this.start(spawnFn, cmd, args, opts);
  }

  private start(spawn: typeof Spawn, cmd: string, args: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    const [file, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, cmd, ...args]] : [cmd, [...args]];
    const shown = [cmd, ...args].join(' ');
    return new Promise((resolve, reject) => {
      const child = spawn(file, argv, {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: opts.env ? { ...process.env, ...opts.env } : process.env,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      let timer: NodeJS.Timeout | undefined;
      let finished = false;
      const arm = () => {
        timer = setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      };
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) => {
        finished = true;
        clearTimeout(timer);
        reject(new ExecError(`${cmd}: cannot run: ${e.message}`, null, '', { cause: e }));
      });
      child.on('close', (code, signal) => {
        finished = true;
        clearTimeout(timer);
        const stdout = Buffer.concat(out).toString('utf8');
        const stderr = Buffer.concat(err).toString('utf8');
        if (timedOut) return reject(new ExecError(`${shown}: timed out after ${opts.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`, null, stderr));
        if (code !== 0) {
          const why = stderr.trim().split('\n').slice(0, 5).join('; ') || (signal ? `killed by ${signal}` : `exit code ${code}`);
          const e = new ExecError(`${shown}${opts.netns ? ` (netns ${opts.netns})` : ''}: ${why}`, code, stderr);
          e.stdout = stdout;
          return reject(e);
        }
        resolve({ stdout, stderr });
      });
      child.stdin.on('error', () => undefined); // a command that exits before reading stdin
      const input = opts.stdin ?? '';
      if (typeof input === 'string') {
        arm();
        child.stdin.end(input);
      } else {
        // The timeout counts from when the input is written: the command is idle until then.
        const write = (t: string) => {
          if (!finished) arm();
          child.stdin.end(t);
        };
        Promise.resolve(input).then(write, () => write(''));
      }
    });
  }
}

export interface RecordedCall {
  cmd: string;
  args: string[];
  opts: ExecOptions;
}

/** A fake for tests: records every call and answers from a handler (default: empty success). */
export class FakeExec implements Exec {
  readonly calls: RecordedCall[] = [];
  constructor(private readonly handler: (call: RecordedCall) => ExecResult | Promise<ExecResult> = () => ({ stdout: '', stderr: '' })) {}
  async run(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const call = { cmd, args: [...args], opts };
    this.calls.push(call);
    return this.handler(call);
  }
}
