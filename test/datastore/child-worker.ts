import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs one of the compiled worker scripts beside this file (`cas-worker.js`, `write-worker.js`) as a
 * child Node process, collecting its output. A child still running after `timeoutMs` is SIGKILLed
 * by PID; `killAllWorkers()` (call it from `after`) kills any that are left.
 */

export interface WorkerResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const running = new Set<ChildProcess>();

export function startWorker(script: string, args: string[], timeoutMs = 60_000): { child: ChildProcess; done: Promise<WorkerResult> } {
  const child = spawn(process.execPath, [join(here, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => {
    stderr += `\n(killed after ${timeoutMs} ms)`;
    if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  }, timeoutMs);
  const done = new Promise<WorkerResult>((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, done };
}

export function runWorker(script: string, args: string[], timeoutMs = 60_000): Promise<WorkerResult> {
  return startWorker(script, args, timeoutMs).done;
}

export function killAllWorkers(): void {
  for (const child of running) {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
