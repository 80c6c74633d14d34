import type { Command } from 'commander';
import { FlowEvaluator } from '../../calc/explain.js';
import { computeSnapshot } from '../../calc/snapshot.js';
import { ResourceClient } from '../../datastore/resource-client.js';
import { UsageError } from '../../errors.js';
import { buildComplianceReport, renderComplianceHtml, type Zone } from '../../flows/compliance-report.js';
import { parseSince } from '../../flows/flow-filter.js';
import { defaultFlowStorePath, SqliteFlowStore } from '../../flows/flow-store.js';
import { parseSelector } from '../../selector/index.js';
import type { CliContext } from '../context.js';

/** `brindle report compliance`: zone boundaries, from recorded flows and from the policy calculation. */
export function register(program: Command, ctx: CliContext): void {
  const report = program.command('report').description('reports over recorded flows and current policy');
  report
    .command('compliance')
    .description('which flows crossed a zone boundary in a period, and whether current policy allows any cross-zone flow at all (computed)')
    .requiredOption('--zone <name=selector...>', 'a zone: NAME=SELECTOR over workload labels, e.g. pci=\'pci == "true"\' (repeatable; a workload belongs to the first zone it matches)')
    .option('--since <t>', 'start of the period: 30m, 24h, 7d or a time', '24h')
    .option('--until <t>', 'end of the period (default now)')
    .option('--flow-store <path>', 'SQLite file of flow records (default: the embedded datastore file)')
    .option('-o, --output <format>', 'json or html', 'json')
    .action(async (o: { zone: string[]; since: string; until?: string; flowStore?: string; output: string }) => {
      if (o.output !== 'json' && o.output !== 'html') throw new UsageError(`-o/--output must be json or html, got "${o.output}"`);
      const zones: Zone[] = o.zone.map((z) => {
        const i = z.indexOf('=');
        if (i <= 0 || z[i + 1] === '=') throw new UsageError(`--zone must be NAME=SELECTOR, got "${z}"`);
        try {
          return { name: z.slice(0, i), selector: parseSelector(z.slice(i + 1)) };
        } catch (err) {
          throw new UsageError(`--zone ${z}: ${(err as Error).message}`);
        }
      });
      const now = Date.now();
      const since = parseSince(o.since, now);
      const until = o.until ? parseSince(o.until, now, '--until') : now;
      const { items } = await new ResourceClient(await ctx.datastore('read')).listAll();
      const snapshot = computeSnapshot(items, { hostname: '*' });
      const store = new SqliteFlowStore(o.flowStore ?? defaultFlowStorePath(ctx.datastoreUrl));
      let flows;
      try {
        flows = store.query({ since, until }).map((f) => f.record);
      } finally {
        await store.close();
      }
      const r = buildComplianceReport({ zones, flows, snapshot, evaluator: new FlowEvaluator(snapshot), since, until });
      ctx.out(o.output === 'json' ? JSON.stringify(r, null, 2) : renderComplianceHtml(r));
    });
}
