import { fileURLToPath } from 'node:url';
import type { Exec } from '../base/exec.js';
import type { Prober, ProbeTarget } from './conncheck.js';

/**
 * Runs `probe-main.js` inside a workload's network namespace (one Node process probes every target
 * of one source at once) and parses its answer. Each probe is bounded by `timeoutMs` (1 s as the
 * issue asks); the process by that plus its start-up.
 */
export class ProbeClient implements Prober {
  static readonly script = fileURLToPath(new URL('./probe-main.js', import.meta.url));

  constructor(private readonly exec: Exec, private readonly timeoutMs = 1000) {}

  async probe(fromNetns: string, targets: readonly ProbeTarget[]): Promise<boolean[]> {
    if (targets.length === 0) return [];
    // The probes end within timeoutMs; the rest is Node's start-up, slow only on a loaded machine,
    // so one more try before giving up.
    const args = [ProbeClient.script, JSON.stringify({ timeoutMs: this.timeoutMs, targets })];
    const run = () => this.exec.run(process.execPath, args, { netns: fromNetns, timeoutMs: this.timeoutMs + 45_000 });
    const { stdout } = await run().catch(run);
    const parsed = JSON.parse(stdout.trim().split('\n').pop() ?? '[]') as unknown;
    if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'boolean')) throw new Error(`prober in ${fromNetns} printed ${stdout.slice(0, 200)}`);
    return parsed;
  }
}
