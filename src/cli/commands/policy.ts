import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { endpointLabel, FlowEvaluator, type FlowPeer, type FlowSpec } from '../../calc/explain.js';
import { renderExplanation } from '../../calc/explain-text.js';
import { computeMatrix, diffMatrices, matrixToJson, renderMatrix, type MatrixDiff, type ReachabilityMatrix } from '../../calc/matrix.js';
import { overlayResources, prepareDocuments, type PreviewChange } from '../../calc/preview.js';
import { protocolHasPorts, protocolNumber } from '../../calc/rule-matcher.js';
import { formatIp, tryParseIp } from '../../net/cidr.js';
import type { CalcSnapshot } from '../../calc/types.js';
import { computeSnapshot } from '../../calc/snapshot.js';
import type { Resource } from '../../api/types.js';
import { ResourceClient } from '../../datastore/resource-client.js';
import { NotFoundError, UsageError, ValidationError } from '../../errors.js';
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
    .requiredOption('--from <peer>', 'source: namespace/name of a workload endpoint, a host endpoint name, or an IP')
    .requiredOption('--to <peer>', 'destination: namespace/name of a workload endpoint, a host endpoint name, or an IP')
    .option('--protocol <p>', 'TCP, UDP, SCTP, ICMP, ICMPv6 or a protocol number', 'TCP')
    .option('--port <n>', 'destination port (required for TCP, UDP and SCTP)')
    .option('-6, --ipv6', 'between two endpoints, use their IPv6 addresses (an IP peer sets the family itself)')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (o: { from: string; to: string; protocol: string; port?: string; ipv6?: boolean; output: string }) => {
      const flow = flowSpec(o.protocol, o.port, true);
      const format = outputFormat(o.output);
      const ev = new FlowEvaluator(await loadSnapshot(ctx));
      const from = peer(ev, o.from, '--from');
      const to = peer(ev, o.to, '--to');
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
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (o: { protocol: string; port: string; namespace?: string; ipv6?: boolean; output: string }) => {
      const flow = flowSpec(o.protocol, o.port, false);
      const format = outputFormat(o.output);
      const family = protocolFamily(o.protocol, o.ipv6) ?? (o.ipv6 ? 6 : 4);
      const m = computeMatrix(await loadSnapshot(ctx), { ...flow, ...(o.namespace ? { namespace: o.namespace } : {}), family });
      ctx.out(format === 'json' ? JSON.stringify(matrixToJson(m), null, 2) : matrixHeader(m) + renderMatrix(m));
    });

  policy
    .command('preview')
    .description('show the matrix cells that would change if FILE were applied (nothing is written)')
    .requiredOption('-f, --filename <file>', 'YAML/JSON documents to preview as applied (created or replaced); "-" reads stdin; a document annotated brindle.io/preview: delete is previewed as deleted')
    .option('--delete <file>', 'documents to preview as deleted (only kind, name and namespace are read)')
    .option('--protocol <p>', 'TCP, UDP, SCTP, ICMP, ICMPv6 or a protocol number', 'TCP')
    .option('--port <n>', 'destination port', '80')
    .option('-n, --namespace <ns>', 'only endpoints of this namespace')
    .option('-6, --ipv6', 'use the endpoints\' IPv6 addresses (endpoints without one are left out)')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (o: { filename: string; delete?: string; protocol: string; port: string; namespace?: string; ipv6?: boolean; output: string }) => {
      const flow = flowSpec(o.protocol, o.port, false);
      const format = outputFormat(o.output);
      const changes: PreviewChange[] = [
        ...prepareDocuments(parseDocs(await readInput(ctx, o.filename), o.filename), 'apply'),
        ...(o.delete ? prepareDocuments(parseDocs(await readInput(ctx, o.delete), o.delete), 'delete') : []),
      ];
      // What `brindle apply` would refuse (a policy in a tier that does not exist, overlapping
      // pools…) is refused here too, rather than previewed as if it could be applied.
      const applied = changes.filter((c) => c.action === 'apply');
      const refIssues = await new ResourceClient(await ctx.datastore()).checkReferences(applied.map((c) => c.resource));
      if (refIssues.length > 0) {
        const { index, issues } = refIssues[0]!;
        const r = applied[index]!.resource;
        throw new ValidationError(`document ${changes.indexOf(applied[index]!) + 1}: ${r.kind} ${r.metadata.namespace ? `${r.metadata.namespace}/` : ''}${r.metadata.name}`, issues);
      }
      const current = await loadResources(ctx);
      const opts = { ...flow, ...(o.namespace ? { namespace: o.namespace } : {}), family: protocolFamily(o.protocol, o.ipv6) ?? (o.ipv6 ? 6 : 4) };
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

async function loadResources(ctx: CliContext): Promise<Resource[]> {
  const { items } = await new ResourceClient(await ctx.datastore()).listAll();
  return items;
}

function snapshotOf(resources: Resource[]): CalcSnapshot {
  return computeSnapshot(resources, { hostname: '*' });
}

async function loadSnapshot(ctx: CliContext): Promise<CalcSnapshot> {
  return snapshotOf(await loadResources(ctx));
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

function peer(ev: FlowEvaluator, ref: string, flag: string): FlowPeer {
  const ep = ev.findEndpoint(ref);
  if (ep) return { endpoint: ep };
  const ip = tryParseIp(ref);
  if (ip) {
    // An endpoint's own address is that endpoint: its policy applies to the flow.
    const text = formatIp(ip);
    const owners = ev.endpointsByIp(text);
    if (owners.length === 1) return { endpoint: owners[0]!, ip: text };
    if (owners.length > 1) throw new UsageError(`${flag} ${ref}: the address belongs to several endpoints (${owners.map(endpointLabel).join(', ')}); name one of them`);
    return { ip: text };
  }
  throw new NotFoundError(`${flag} ${ref}: no workload endpoint "namespace/name", host endpoint or IP address by that name`);
}

function matrixHeader(m: ReachabilityMatrix): string {
  const what = `${m.protocol}${m.port !== undefined ? ` port ${m.port}` : ''}`;
  return `Reachability (${what}; rows = source, columns = destination; . allowed, X denied; computed from policy, not probed)\n`;
}

async function readInput(ctx: CliContext, file: string): Promise<string> {
  if (file !== '-') {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
    }
  }
  const chunks: Buffer[] = [];
  for await (const c of ctx.io.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function parseDocs(text: string, file: string): unknown[] {
  const docs = parseAllDocuments(text);
  const out: unknown[] = [];
  for (const d of Array.isArray(docs) ? docs : [docs]) {
    if (d.errors.length > 0) throw new UsageError(`${file}: invalid YAML: ${d.errors[0]!.message}`);
    const v = d.toJS() as unknown;
    if (v === null || v === undefined) continue;
    if (typeof v === 'object' && (v as { kind?: unknown }).kind === 'List' && Array.isArray((v as { items?: unknown }).items)) out.push(...(v as { items: unknown[] }).items);
    else out.push(v);
  }
  return out;
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
