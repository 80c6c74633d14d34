import { request } from 'node:http';
import type { Command } from 'commander';
import { runDirFor } from '../../agent/config.js';
import type { CountersReport } from '../../dataplane/counters.js';
import { UnavailableError, UsageError } from '../../errors.js';
import type { CliContext } from '../context.js';

/** GET `path` from the agent's status socket. */
export function getFromAgent(socketPath: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) reject(new UnavailableError(`agent at ${socketPath}: ${path}: HTTP ${res.statusCode}: ${body.trim()}`));
        else resolve(body);
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => reject(new UnavailableError(`cannot reach the agent at ${socketPath} (is 'brindle agent' running for this node?): ${e.message}`)));
    req.end();
  });
}

function renderCounters(r: CountersReport): string {
  const rows: string[][] = [['ENDPOINT/POLICY', 'DIRECTION', 'RULE', 'ACTION', 'PACKETS', 'BYTES', 'MATCH']];
  for (const c of r.rules) {
    rows.push([`${c.kind === 'profile' ? 'profile ' : ''}${c.key}`, c.direction, c.ruleIndex < 0 ? '-' : String(c.ruleIndex), c.action, String(c.packets), String(c.bytes), c.text]);
  }
  for (const e of r.endpoints) rows.push([e.endpoint, e.direction, '-', e.what, String(e.packets), String(e.bytes), '']);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** `brindle policy counters --node NAME`: per-rule packet/byte counters from the node's agent. */
export function registerCounters(policy: Command, ctx: CliContext): void {
  policy
    .command('counters')
    .description("per policy rule and per endpoint: packets and bytes the kernel's rules allowed or denied (asks the node's agent)")
    .requiredOption('--node <name>', 'node whose agent to ask')
    .option('--run-dir <dir>', "the agent's run directory (default /run/brindle/nodes/<node>)")
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (o: { node: string; runDir?: string; output: string }) => {
      if (o.output !== 'text' && o.output !== 'json') throw new UsageError(`-o: ${o.output} is not text or json`);
      const body = await getFromAgent(`${o.runDir ?? runDirFor(o.node)}/agent.sock`, '/counters');
      const report = JSON.parse(body) as CountersReport;
      ctx.out(o.output === 'json' ? JSON.stringify(report, null, 2) : renderCounters(report));
    });
}
