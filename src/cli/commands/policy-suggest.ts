import type { Command } from 'commander';
import { stringify } from 'yaml';
import { UsageError } from '../../errors.js';
import { parseSince } from '../../flows/flow-filter.js';
import { defaultFlowStorePath, SqliteFlowStore } from '../../flows/flow-store.js';
import { suggestPolicies } from '../../flows/policy-suggest.js';
import type { CliContext } from '../context.js';

/** `brindle policy suggest`: least-privilege staged policies for a namespace from recorded flows. */
export function registerSuggest(policy: Command, ctx: CliContext): void {
  policy
    .command('suggest')
    .description('suggest least-privilege policies for a namespace from recorded flows, as StagedNetworkPolicies (check with `policy preview --staged -f FILE`)')
    .requiredOption('-n, --namespace <ns>', 'namespace whose workloads get policies')
    .option('--since <t>', 'learn from flows since: 30m, 24h, 7d or a time', '24h')
    .option('--tier <name>', 'tier of the suggested policies', 'default')
    .option('--include-denied', 'also allow what was denied (default: only observed allowed traffic)')
    .option('--flow-store <path>', 'SQLite file of flow records (default: the embedded datastore file)')
    .option('-o, --output <format>', 'yaml or json', 'yaml')
    .action(async (o: { namespace: string; since: string; tier: string; includeDenied?: boolean; flowStore?: string; output: string }) => {
      if (o.output !== 'yaml' && o.output !== 'json') throw new UsageError(`-o/--output must be yaml or json, got "${o.output}"`);
      const store = new SqliteFlowStore(o.flowStore ?? defaultFlowStorePath(ctx.datastoreUrl));
      let flows;
      try {
        flows = store.query({ since: parseSince(o.since, Date.now()) }).map((f) => f.record);
      } finally {
        await store.close();
      }
      const docs = suggestPolicies(flows, { namespace: o.namespace, tier: o.tier, ...(o.includeDenied ? { includeDenied: true } : {}) });
      if (docs.length === 0) {
        ctx.err(`no recorded flows to or from workloads of namespace ${o.namespace} since ${o.since}`);
        return;
      }
      if (o.output === 'json') ctx.out(JSON.stringify(docs.length === 1 ? docs[0] : { apiVersion: 'v1', kind: 'List', items: docs }, null, 2));
      else ctx.out(docs.map((d) => stringify(d)).join('---\n'));
    });
}
