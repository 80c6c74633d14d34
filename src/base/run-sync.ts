/**
 * Runs one command to completion synchronously, for the few short-lived programs whose start-up
 * is the product (the CNI plugin runs once per container and has nothing else to do while its
 * command runs). Loading `node:child_process` costs ~5 ms of every such start (it pulls in the
 * stream, net and serialization layers for asynchronous children), so this asks Node's own
 * synchronous spawner (`process.binding('spawn_sync')`, what `child_process.spawnSync` calls)
 * directly, and only falls back to `child_process.spawnSync` where that binding is not offered
 * (or under --pending-deprecation, which would print a warning for it).
 * Everything else runs commands through Exec (exec.ts).
 */
import { requireBuiltin } from './builtin.js';

export interface SyncRunOptions {
  /** Kills the command (SIGKILL) after this long. */
  timeoutMs: number;
  env?: Record<string, string | undefined>;
}

export interface SyncRunResult {
  /** Exit code, or null when a signal ended it. */
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Set when the command could not be started at all (e.g. ENOENT). */
  startError?: string;
}

export type SyncRunner = (file: string, args: readonly string[], opts: SyncRunOptions) => SyncRunResult;

interface SpawnSyncBinding {
  spawn(options: Record<string, unknown>): { status?: number | null; signal?: string | null; output?: (Uint8Array | null)[] | null; error?: number };
}

const ETIMEDOUT = -110;
const MAX_BUFFER = 16 * 1024 * 1024;

let binding: SpawnSyncBinding | null | undefined;

function spawnSyncBinding(): SpawnSyncBinding | null {
  if (binding !== undefined) return binding;
  binding = null;
  const pending = process.execArgv.includes('--pending-deprecation') || /--pending-deprecation/.test(process.env['NODE_OPTIONS'] ?? '') || process.env['NODE_PENDING_DEPRECATION'] === '1';
  const get = (process as unknown as { binding?: (name: string) => unknown }).binding;
  if (pending || typeof get !== 'function') return binding;
  try {
    const b = get.call(process, 'spawn_sync') as SpawnSyncBinding | undefined;
    if (b && typeof b.spawn === 'function') binding = b;
  } catch {
    // not offered by this Node: the public API below
  }
  return binding;
}

function envPairs(env: Record<string, string | undefined> | undefined): string[] {
  const merged = { ...process.env, ...env };
  return Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined).map(([k, v]) => `${k}=${v}`);
}

/** The runner (the binding when offered, else child_process.spawnSync). `forcePublic` is for tests. */
export function runSync(file: string, args: readonly string[], opts: SyncRunOptions, forcePublic = false): SyncRunResult {
  const b = forcePublic ? null : spawnSyncBinding();
  if (b) {
    const r = b.spawn({
      file,
      args: [file, ...args],
      envPairs: envPairs(opts.env),
      stdio: [{ type: 'ignore' }, { type: 'pipe', readable: false, writable: true }, { type: 'pipe', readable: false, writable: true }],
      timeout: opts.timeoutMs,
      maxBuffer: MAX_BUFFER,
      killSignal: 9,
      detached: false,
      windowsHide: false,
      windowsVerbatimArguments: false,
    });
    if (r && typeof r === 'object' && ('output' in r || 'error' in r)) {
      const text = (i: number) => (r.output?.[i] ? Buffer.from(r.output[i]!.buffer, r.output[i]!.byteOffset, r.output[i]!.byteLength).toString('utf8') : '');
      const timedOut = r.error === ETIMEDOUT;
      return {
        status: r.status ?? null,
        signal: r.signal ?? null,
        stdout: text(1),
        stderr: text(2),
        timedOut,
        startError: r.error !== undefined && r.error !== 0 && !timedOut && r.output == null ? `cannot run ${file} (errno ${-r.error})` : undefined,
      };
    }
    throw new Error(`running ${file}: Node's spawn_sync binding answered in an unknown shape`);
  }
  const cp = requireBuiltin<typeof import('node:child_process')>('node:child_process');
  const r = cp.spawnSync(file, [...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_BUFFER, encoding: 'utf8' });
  const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    timedOut: code === 'ETIMEDOUT',
    startError: r.error && code !== 'ETIMEDOUT' ? `cannot run ${file}: ${r.error.message}` : undefined,
  };
}
