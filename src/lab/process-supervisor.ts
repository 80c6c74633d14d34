import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LabProcess } from './lab-state.js';

/**
 * Starts the lab's long-lived processes (agents, etcd members, relays, workload servers) so that
 * they outlive the `brindle lab` command that started them: detached in their own process group,
 * stdout and stderr appended to a log file, optionally inside a network namespace through `ip
 * netns exec` (which execs the command, so the PID is the command's). A process is identified by
 * PID plus its kernel start time, and only a process matching both is ever signalled, so a PID
 * reused after a crash is left alone. Does not restart anything by itself.
 */

export interface DaemonSpec {
  role: string;
  cmd: string;
  args: readonly string[];
  netns?: string;
  log: string;
  env?: Record<string, string>;
  cwd?: string;
}

export function startDaemon(spec: DaemonSpec): LabProcess {
  mkdirSync(dirname(spec.log), { recursive: true });
  const fd = openSync(spec.log, 'a');
  const [file, argv] = spec.netns ? ['ip', ['netns', 'exec', spec.netns, spec.cmd, ...spec.args]] : [spec.cmd, [...spec.args]];
  try {
    const child = spawn(file, argv, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...spec.env },
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
    });
    if (child.pid === undefined) throw new Error(`cannot start ${spec.role} (${spec.cmd})`);
    child.on('error', () => undefined);
    child.unref();
    return { role: spec.role, pid: child.pid, startTime: startTimeOf(child.pid) ?? '', ...(spec.netns ? { netns: spec.netns } : {}), log: spec.log };
  } finally {
    closeSync(fd);
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or undefined if gone. */
export function startTimeOf(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after its last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  if (state === 'Z' || state === 'X') return undefined; // a zombie has exited
  return rest[19];
}

export function isRunning(p: Pick<LabProcess, 'pid' | 'startTime'>): boolean {
  const t = startTimeOf(p.pid);
  return t !== undefined && (p.startTime === '' || t === p.startTime);
}

/**
 * SIGTERM to the process (and its process group, which it leads: children such as BIRD go too),
 * SIGKILL after `graceMs`. Resolves once it is gone. A process that is not ours (start time
 * differs) or already gone is left alone.
 */
export async function stopProcess(p: Pick<LabProcess, 'pid' | 'startTime'>, graceMs = 3000): Promise<void> {
  if (!isRunning(p)) return;
  signal(p.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(p)) return;
    await sleep(20);
  }
  signal(p.pid, 'SIGKILL');
  const hard = Date.now() + 2000;
  while (Date.now() < hard && isRunning(p)) await sleep(20);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, sig);
    } catch {
      // no such group / process
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Last `lines` lines of a log file, for error messages. */
export function logTail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
