/**
 * Runs inside a node netns (started by cni.bench.ts with `ip netns exec`) and invokes CNI plugins
 * the way a runtime on that node does: a direct exec with CNI_* variables and the configuration on
 * stdin. Reads a list of invocations as JSON on stdin, runs them in order, and prints the wall time
 * and CPU time (its own and its children's) of each, and whether it succeeded, so the netns entry
 * cost is paid once, not per sample.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

interface Invocation {
  file: string;
  args?: string[];
  env?: Record<string, string>;
  stdin?: string;
}

/** CPU time (user + system, ms) of this process's reaped children so far, from /proc/self/stat (10 ms ticks). */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * 10; // cutime, cstime (fields 16, 17)
}

function once(inv: Invocation): Promise<{ ms: number; cpuMs: number; ok: boolean; out: string }> {
  const cpu0 = childrenCpuMs();
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(inv.file, inv.args ?? [], { env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...inv.env }, stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, cpuMs: childrenCpuMs() - cpu0, ok: code === 0, out }));
    child.stdin.end(inv.stdin ?? '');
  });
}

const jobs = JSON.parse(readFileSync(0, 'utf8')) as Invocation[];
const results: { ms: number; cpuMs: number; ok: boolean; out: string }[] = [];
for (const j of jobs) results.push(await once(j));
process.stdout.write(JSON.stringify(results));
