import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

/** Runs assign-worker processes and collects their results; kills them by PID on dispose. */

export interface WorkerResult {
  node: string;
  acknowledged: { handle: string; ip: string }[];
  failedAttempts: string[];
  errors: string[];
  elapsedMs: number;
  exitCode: number | null;
  stderr: string;
}

export const WORKER_JS = join(REPO_ROOT, 'dist', 'test', 'ipam', 'assign-worker.js');

export class WorkerPool {
  private readonly children = new Set<ChildProcess>();
  /** Sum of `progress` counts reported so far by all workers. */
  progress = 0;

  /** `startAt` (epoch ms): the worker waits until then after connecting (see assign-worker). */
  run(url: string, node: string, count: number, prefix: string, timeoutMs: number, startAt?: number): Promise<WorkerResult> {
    const args = [WORKER_JS, url, node, String(count), prefix, ...(startAt === undefined ? [] : [String(startAt)])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    let out = '';
    let err = '';
    let last = 0;
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = [...out.matchAll(/^progress (\d+)$/gm)].pop();
      if (m) {
        const n = Number(m[1]);
        this.progress += n - last;
        last = n;
      }
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`worker ${prefix} on ${node} did not finish within ${timeoutMs} ms; stderr: ${err.slice(-2000)}`));
      }, timeoutMs);
      child.on('exit', (code) => {
        clearTimeout(timer);
        this.children.delete(child);
        const line = out.split('\n').find((l) => l.startsWith('result '));
        if (!line) return reject(new Error(`worker ${prefix} exited ${code} without a result; stderr: ${err.slice(-2000)}`));
        resolve({ ...(JSON.parse(line.slice(7)) as Omit<WorkerResult, 'exitCode' | 'stderr'>), exitCode: code, stderr: err });
      });
    });
  }

  dispose(): void {
    for (const c of this.children) {
      if (c.pid !== undefined && c.exitCode === null) c.kill('SIGKILL');
    }
    this.children.clear();
  }
}
