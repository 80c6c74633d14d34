import type { Command } from 'commander';
import { endpointLabel, FlowEvaluator, type FlowPeer, type FlowSpec } from '../../calc/explain.js';
import { renderExplanation } from '../../calc/explain-text.js';
import { computeMatrix, diffMatrices, matrixToJson, type MatrixDiff, type ReachabilityMatrix } from '../../calc/matrix.js';
import { EndpointNames } from '../policy/endpoint-names.js';
import { renderMatrixText } from '../policy/matrix-text.js';
import { deletedIdentity, overlayResources, previewAction, type PreviewChange } from '../../calc/preview.js';
import { protocolHasPorts, protocolNumber } from '../../calc/rule-matcher.js';
import { formatIp, tryParseIp } from '../../net/cidr.js';
import type { CalcSnapshot } from '../../calc/types.js';
import { computeSnapshot } from '../../calc/snapshot.js';
import type { Resource } from '../../api/types.js';
import { ResourceClient } from '../../datastore/resource-client.js';
import { NotFoundError, UsageError } from '../../errors.js';
import { readManifests, type ManifestDocument } from '../resources/manifest-reader.js';
import type { CliContext } from '../context.js';
import { registerCounters } from './policy-counters.js';

/**
 * `brindle policy explain|matrix|preview`: what the policy calculation says about flows between
 * endpoints. Loads every resource, computes the calculation snapshot for all nodes (hostname `*`),
 * and evaluates flows with the same code the node agent's dataplane input comes from. Nothing is
 * sent on the wire: verdicts are computed, not probed.
 */
export function register(program: Command, ctx: CliContext): void {
  const policy = program.command('policy').description('explain and preview what network policy allows (computed, no packets sent)');
  registerCounters(policy, ctx);

  policy
    .command('explain')
    .description('explain the verdict for one flow: egress of the source, then ingress of the destination, tier by tier')
    .requiredOption('--from <peer>', 'source: namespace/workload (the pod), namespace/name of a workload endpoint, a host endpoint name, or an IP')
    .requiredOption('--to <peer>', 'destination: namespace/workload (the pod), namespace/name of a workload endpoint, a host endpoint name, or an IP')
    .option('--protocol <p>', 'TCP, UDP, SCTP, ICMP, ICMPv6 or a protocol number', 'TCP')
    .option('--port <n>', 'destination port (required for TCP, UDP and SCTP)')
    .option('-6, --ipv6', 'between two endpoints, use their IPv6 addresses (an IP peer sets the family itself)')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (o: { from: string; to: string; protocol: string; port?: string; ipv6?: boolean; output: string }) => {
      const flow = flowSpec(o.protocol, o.port, true);
      const format = outputFormat(o.output);
      const { snapshot, resources } = await loadAll(ctx);
      const ev = new FlowEvaluator(snapshot);
      const names = endpointNames(snapshot, resources);
      const from = peer(ev, names, o.from, '--from');
      const to = peer(ev, names, o.to, '--to');
      const family = protocolFamily(o.protocol, o.ipv6) ?? (o.ipv6 ? 6 : undefined);
      let x;
      try {
        x = family !== undefined && from.ip === undefined && to.ip === undefined ? ev.explain(from, to, flow, family) : ev.explain(from, to, flow);
      } catch (err) {
        const msg = (err as Error).message;
        if (/has no IPv4 address/.test(msg)) throw new UsageError(`${msg} (use -6/--ipv6 for its IPv6 address)`);
        throw new UsageError(msg);
      }
      if (family !== undefined && x.flow.family !== family) throw new UsageError(`--protocol ${o.protocol} is IPv${family} only, but the flow's addresses are IPv${x.flow.family}`);
      ctx.out(format === 'json' ? JSON.stringify(x, null, 2) : renderExplanation(x));
    });

  policy
    .command('matrix')
    .description('reachability of every workload endpoint to every other (rows: source, columns: destination; . allowed, X denied)')
    .option('--protocol <p>', 'TCP, UDP, SCTP, ICMP, ICMPv6 or a protocol number', 'TCP')
    .option('--port <n>', 'destination port', '80')
    .option('-n, --namespace <ns>', 'only endpoints of this namespace')
    .option('-6, --ipv6', 'use the endpoints\' IPv6 addresses (endpoints without one are left out)')
    .option('--wide', 'label the columns with the full endpoint names, however long the lines get')
    .option('-o, --output <format>', 'text, wide (as --wide) or json', 'text')
    .action(async (o: { protocol: string; port: string; namespace?: string; ipv6?: boolean; wide?: boolean; output: string }) => {
      const flow = flowSpec(o.protocol, o.port, false);
      const wide = o.wide || o.output === 'wide';
      const format = o.output === 'wide' ? 'text' : outputFormat(o.output);
      const family = protocolFamily(o.protocol, o.ipv6) ?? (o.ipv6 ? 6 : 4);
      const { snapshot, resources } = await loadAll(ctx);
      const m = computeMatrix(snapshot, { ...flow, ...(o.namespace ? { namespace: o.namespace } : {}), family });
      if (format === 'json') return ctx.out(JSON.stringify(matrixToJson(m), null, 2));
      const names = endpointNames(snapshot, resources);
      const { text, numbered } = renderMatrixText(m, m.endpoints.map((label) => names.short(snapshot.endpoints.get(`wep:${label}`)!)), { wide: !!wide });
      ctx.out(matrixHeader(m, numbered) + text);
    });

  policy
    .command('preview')
    .description('show the matrix cells that would change if the files were applied (nothing is written)')
    .option('-f, --filename <path>', 'file, directory or "-" (stdin) with documents to preview as applied, read as apply reads them (repeatable); a document annotated brindle.io/preview: delete is previewed as deleted', collect, [])
    .option('-R, --recursive', 'read directories recursively')
    .option('--delete <path>', 'file, directory or "-" with documents to preview as deleted (only kind, name and namespace are read; repeatable)', collect, [])
    .option('--protocol <p>', 'TCP, UDP, SCTP, ICMP, ICMPv6 or a protocol number', 'TCP')
    .option('--port <n>', 'destination port', '80')
    .option('-n, --namespace <ns>', 'only endpoints of this namespace')
    .option('-6, --ipv6', 'use the endpoints\' IPv6 addresses (endpoints without one are left out)')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (o: { filename: string[]; recursive?: boolean; delete: string[]; protocol: string; port: string; namespace?: string; ipv6?: boolean; output: string }) => {
      const flow = flowSpec(o.protocol, o.port, false);
      const format = outputFormat(o.output);
      const family = protocolFamily(o.protocol, o.ipv6) ?? (o.ipv6 ? 6 : 4);
      if (o.filename.length === 0 && o.delete.length === 0) throw new UsageError('give -f FILE (documents to preview as applied) and/or --delete FILE');
      if (o.filename.includes('-') && o.delete.includes('-')) throw new UsageError('only one of -f and --delete can read stdin ("-")');
      const stdin = o.filename.includes('-') || o.delete.includes('-') ? await readStdin(ctx) : '';
      const read = (paths: string[]) => (paths.length === 0 ? [] : readManifests(paths, { recursive: !!o.recursive, readStdin: () => stdin }));
      const client = new ResourceClient(await ctx.datastore('read'));
      const changes = await previewChanges(client, read(o.filename), read(o.delete));
      const current = (await client.listAll()).items;
      const opts = { ...flow, ...(o.namespace ? { namespace: o.namespace } : {}), family };
      const before = computeMatrix(snapshotOf(current), opts);
      const after = computeMatrix(snapshotOf(overlayResources(current, changes)), opts);
      const diff = diffMatrices(before, after);
      if (format === 'json') {
        ctx.out(JSON.stringify({ protocol: after.protocol, ...(after.port !== undefined ? { port: after.port } : {}), documents: changes.map((c) => ({ action: c.action, kind: c.resource.kind, namespace: c.resource.metadata.namespace, name: c.resource.metadata.name })), ...diff }, null, 2));
      } else {
        ctx.out(renderPreview(changes, diff, after));
      }
    });
}

/**
 * The changes a preview overlays, checked as `brindle apply` and `brindle delete -f` check them
 * (the ResourceClient's batch rules): what apply or delete would refuse is refused here (exit 2),
 * rather than previewed as if it could be done. Problems are named `file[index]`.
 */
async function previewChanges(client: ResourceClient, applied: ManifestDocument[], deleted: ManifestDocument[]): Promise<PreviewChange[]> {
  const actions = applied.map((d) => previewAction(d.doc, d.origin));
  const toApply = applied.filter((_, i) => actions[i] === 'apply');
  const prepared = toApply.length > 0 ? client.prepareBatch(toApply) : [];
  await client.checkBatch(prepared, { mode: 'apply' });
  const byOrigin = new Map(prepared.map((p) => [p.origin, p.resource]));
  const changes: PreviewChange[] = applied.map((d, i) => (actions[i] === 'apply' ? { action: 'apply', resource: byOrigin.get(d.origin)! } : { action: 'delete', resource: deletedIdentity(d.doc, d.origin) }));
  for (const d of deleted) changes.push({ action: 'delete', resource: deletedIdentity(d.doc, d.origin) });
  const deletes = changes.filter((c) => c.action === 'delete');
  const origins = [...applied.filter((_, i) => actions[i] === 'delete'), ...deleted].map((d) => d.origin);
  await client.checkDeleteBatch(deletes.map((c, i) => ({ kind: c.resource.kind, name: c.resource.metadata.name, origin: origins[i]!, ...(c.resource.metadata.namespace !== undefined ? { namespace: c.resource.metadata.namespace } : {}) })));
  return changes;
}

async function loadResources(ctx: CliContext): Promise<Resource[]> {
  const { items } = await new ResourceClient(await ctx.datastore('read')).listAll();
  return items;
}

function snapshotOf(resources: Resource[]): CalcSnapshot {
  return computeSnapshot(resources, { hostname: '*' });
}

async function loadAll(ctx: CliContext): Promise<{ snapshot: CalcSnapshot; resources: Resource[] }> {
  const resources = await loadResources(ctx);
  return { snapshot: snapshotOf(resources), resources };
}

function endpointNames(snapshot: CalcSnapshot, resources: Resource[]): EndpointNames {
  return new EndpointNames([...snapshot.endpoints.values()], resources.filter((r) => r.kind === 'WorkloadEndpoint'));
}

function flowSpec(protocol: string, port: string | undefined, portRequired: boolean): FlowSpec {
  let n: number;
  try {
    n = protocolNumber(protocol);
  } catch (err) {
    throw new UsageError(`--protocol: ${(err as Error).message}`);
  }
  if (!protocolHasPorts(n)) return { protocol };
  if (port === undefined) {
    if (portRequired) throw new UsageError(`--port is required for protocol ${protocol}`);
    return { protocol };
  }
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw new UsageError(`--port must be a number 1-65535, got "${port}"`);
  return { protocol, port: Number(port) };
}

/** ICMP exists only in IPv4 and ICMPv6 only in IPv6 (Felix renders them in that family's rules alone). */
function protocolFamily(protocol: string, ipv6: boolean | undefined): 4 | 6 | undefined {
  const n = protocolNumber(protocol);
  if (n === 58) return 6;
  if (n !== 1) return undefined;
  if (ipv6) throw new UsageError('--protocol ICMP is IPv4 only: use --protocol ICMPv6 with -6/--ipv6');
  return 4;
}

function outputFormat(o: string): 'text' | 'json' {
  if (o === 'text' || o === 'json') return o;
  throw new UsageError(`-o/--output must be text or json, got "${o}"`);
}

function peer(ev: FlowEvaluator, names: EndpointNames, ref: string, flag: string): FlowPeer {
  const ip = tryParseIp(ref);
  if (ip) {
    // An endpoint's own address is that endpoint: its policy applies to the flow.
    const text = formatIp(ip);
    const owners = ev.endpointsByIp(text);
    if (owners.length === 1) return { endpoint: owners[0]!, ip: text };
    if (owners.length > 1) throw new UsageError(`${flag} ${ref}: the address belongs to several endpoints (${owners.map((e) => names.describe(e)).join(', ')}); name one of them`);
    return { ip: text };
  }
  const found = names.resolve(ref);
  if (found.length === 1) return { endpoint: found[0]! };
  if (found.length > 1) throw new UsageError(`${flag} ${ref} names several endpoints: ${found.map((e) => endpointLabel(e)).join(', ')}; give one of these`);
  const { shown, more } = names.candidates(ref);
  const list = shown.length === 0 ? 'there are no endpoints' : `endpoints: ${shown.join(', ')}${more > 0 ? ` and ${more} more (brindle get wep -A)` : ''}`;
  throw new NotFoundError(`${flag} ${ref}: no workload endpoint, workload, host endpoint or IP address by that name; ${list}`);
}

function matrixHeader(m: ReachabilityMatrix, numbered: boolean): string {
  const what = `${m.protocol}${m.port !== undefined ? ` port ${m.port}` : ''}`;
  const cols = numbered ? 'columns = destination by row number' : 'columns = destination';
  return `Reachability (${what}; rows = source, ${cols}; . allowed, X denied; computed from policy, not probed)\n`;
}

async function readStdin(ctx: CliContext): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of ctx.io.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function renderPreview(changes: PreviewChange[], diff: MatrixDiff, after: ReachabilityMatrix): string {
  const what = `${after.protocol}${after.port !== undefined ? ` port ${after.port}` : ''}`;
  const lines = [`Preview (${what}; nothing was written):`];
  for (const c of changes) lines.push(`  would ${c.action === 'apply' ? 'apply ' : 'delete'} ${c.resource.kind} ${c.resource.metadata.namespace ? `${c.resource.metadata.namespace}/` : ''}${c.resource.metadata.name}`);
  if (diff.changes.length === 0) lines.push('No reachability change.');
  else {
    lines.push(`${diff.changes.length} cell${diff.changes.length === 1 ? '' : 's'} would change:`);
    const w = Math.max(...diff.changes.map((c) => `${c.from} → ${c.to}`.length));
    for (const c of diff.changes) lines.push(`  ${`${c.from} → ${c.to}`.padEnd(w)}  ${word(c.before)} → ${word(c.after)}`);
  }
  if (diff.addedEndpoints.length) lines.push(`New endpoints (not compared): ${diff.addedEndpoints.join(', ')}`);
  if (diff.removedEndpoints.length) lines.push(`Removed endpoints (not compared): ${diff.removedEndpoints.join(', ')}`);
  return lines.join('\n') + '\n';
}

function word(allowed: boolean): string {
  return allowed ? 'allowed' : 'denied';
}
