import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { AllowedUse } from '../../api/types.js';
import { AlreadyExistsError, NotFoundError, UsageError } from '../../errors.js';
import { formatCidr, parseCidr } from '../../net/cidr.js';
import { IpamClient, type AssignedAddress } from '../../ipam/ipam-client.js';
import { formatBorrowed, formatCheck, formatConfig, formatUtilization } from '../../ipam/ipam-format.js';
import type { IpamCheckReport } from '../../ipam/ipam-report.js';
import { findPool, splitCidr } from '../../ipam/pool-selection.js';
import type { CliContext } from '../context.js';

/**
 * Registers `brindle ipam assign|release|show|check|configure|split`, the command-line face of
 * IpamClient (calicoctl's `ipam` commands plus `assign`). Refusals (pool exhausted, no pool for the
 * node, unknown handle, address outside every pool) exit 1 with one `Error:` line and change
 * nothing; bad flags exit 2.
 */
export function register(program: Command, ctx: CliContext): void {
  const ipam = program.command('ipam').description('IP address management: assign, release, inspect and repair block-affine allocations');
  const client = async (access: 'read' | 'write' = 'write') => new IpamClient(await ctx.datastore(access));
  const collect = (v: string, prev: string[]) => [...prev, v];

  ipam
    .command('assign')
    .description('assign addresses to a handle on a node and print them')
    .requiredOption('--node <node>', 'node the addresses are for')
    .requiredOption('--handle <id>', 'handle that will own the addresses (e.g. k8s-pod-network.<container id>)')
    .option('--count <n>', 'addresses per family', '1')
    .option('--ipv4', 'IPv4 only (the default)')
    .option('--ipv6', 'IPv6 only')
    .option('--dual', 'one set of each family')
    .option('--pool <name|cidr>', 'draw only from this pool (repeatable)', collect, [])
    .option('--ip <addr>', 'assign this specific address')
    .option('--use <use>', 'intended use: Workload or Tunnel', 'Workload')
    .option('--attr <k=v>', 'attribute stored with the allocation (repeatable): workload, namespace, node, type', collect, [])
    .option('-o, --output <format>', 'text (one address per line) or json', 'text')
    .action(async (o: { node: string; handle: string; count: string; ipv4?: boolean; ipv6?: boolean; dual?: boolean; pool: string[]; ip?: string; use: string; attr: string[]; output: string }) => {
      if (!['text', 'json'].includes(o.output)) throw new UsageError(`--output must be text or json, not "${o.output}"`);
      if ([o.ipv4, o.ipv6, o.dual].filter(Boolean).length > 1) throw new UsageError('give at most one of --ipv4, --ipv6, --dual');
      if (!['Workload', 'Tunnel'].includes(o.use)) throw new UsageError(`--use must be Workload or Tunnel, not "${o.use}"`);
      const count = Number(o.count);
      if (!Number.isInteger(count) || count < 1 || count > 65536) throw new UsageError(`--count must be an integer from 1 to 65536, not "${o.count}"`);
      const attrs: Record<string, string> = { node: o.node };
      for (const kv of o.attr) {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new UsageError(`--attr must look like key=value, not "${kv}"`);
        attrs[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      const c = await client();
      // An address of a node that does not exist is what `ipam check` reports as leaked: refuse it.
      if (!(await c.resources.nodeLabels(o.node))) {
        const node = JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: o.node } });
        throw new NotFoundError(`node "${o.node}" does not exist: create it first, e.g. echo '${node}' | brindle apply -f -`);
      }
      let result: { ipv4: AssignedAddress[]; ipv6: AssignedAddress[] };
      if (o.ip) {
        if (o.count !== '1' || o.dual || o.pool.length > 0) throw new UsageError('--ip cannot be combined with --count, --dual or --pool');
        const a = await c.assignIp({ ip: o.ip, node: o.node, handleId: o.handle, attrs, use: o.use as AllowedUse });
        result = a.ip.includes(':') ? { ipv4: [], ipv6: [a] } : { ipv4: [a], ipv6: [] };
      } else {
        const num4 = o.ipv6 ? 0 : count;
        const num6 = o.ipv6 || o.dual ? count : 0;
        result = await c.autoAssign({ node: o.node, handleId: o.handle, num4, num6, attrs, pools: o.pool, use: o.use as AllowedUse });
      }
      if (o.output === 'json') ctx.out(JSON.stringify({ handle: o.handle, node: o.node, ...result }, null, 2));
      else for (const a of [...result.ipv4, ...result.ipv6]) ctx.out(a.ip);
    });

  ipam
    .command('release')
    .description('release addresses by handle, by address, or the leaks listed in a check report')
    .option('--handle <id>', 'release every address of this handle')
    .option('--ip <addr>', 'release this address (repeatable)', collect, [])
    .option('--from-report <file>', 'release what `brindle ipam check -o FILE` found, re-validated now')
    .action(async (o: { handle?: string; ip: string[]; fromReport?: string }) => {
      const given = [o.handle !== undefined, o.ip.length > 0, o.fromReport !== undefined].filter(Boolean).length;
      if (given !== 1) throw new UsageError('give exactly one of --handle, --ip, --from-report');
      const c = await client();
      if (o.handle !== undefined) {
        if (!(await c.store.getHandle(o.handle))) throw new NotFoundError(`IPAM handle "${o.handle}" does not exist`);
        const ips = await c.releaseByHandle(o.handle);
        ctx.out(`Released ${ips.length} address${ips.length === 1 ? '' : 'es'} of handle ${o.handle}${ips.length ? `: ${ips.join(' ')}` : ''}`);
      } else if (o.ip.length > 0) {
        const r = await c.releaseIps(o.ip.map((ip) => ({ ip })));
        for (const ip of r.released) ctx.out(`Released ${ip}`);
        for (const ip of r.notAllocated) ctx.out(`${ip} was not assigned; nothing to release`);
      } else {
        let report: IpamCheckReport;
        try {
          report = JSON.parse(readFileSync(o.fromReport!, 'utf8')) as IpamCheckReport;
        } catch (err) {
          throw new UsageError(`cannot read report ${o.fromReport}: ${(err as Error).message}`);
        }
        const s = await c.releaseFromReport(report);
        ctx.out(`Released ${s.releasedIps.length} leaked address${s.releasedIps.length === 1 ? '' : 'es'}${s.releasedIps.length ? `: ${s.releasedIps.join(' ')}` : ''}`);
        for (const h of s.skippedHandles) ctx.out(`Skipped handle ${h.handleId}: ${h.reason}`);
        if (s.deletedHandles.length) ctx.out(`Deleted empty handles: ${s.deletedHandles.join(' ')}`);
        if (s.repairedHandles.length) ctx.out(`Recounted handles: ${s.repairedHandles.join(' ')}`);
        for (const a of s.deletedAffinities) ctx.out(`Removed stale affinity of ${a.node} for ${a.cidr}`);
        if (s.repairedBlocks.length) ctx.out(`Repaired blocks without affinity: ${s.repairedBlocks.join(' ')}`);
      }
    });

  ipam
    .command('show')
    .description('show pool and block usage, borrowed addresses, one address, or the IPAM configuration')
    .option('--show-blocks', 'list each block under its pool')
    .option('--show-borrowed', 'list addresses allocated from other nodes\' blocks')
    .option('--ip <addr>', 'show who holds this address')
    .option('--show-configuration', 'show the IPAM configuration')
    .action(async (o: { showBlocks?: boolean; showBorrowed?: boolean; ip?: string; showConfiguration?: boolean }) => {
      const c = await client('read');
      if (o.ip) {
        const d = await c.describeIp(o.ip);
        if (!d) ctx.out(`IP ${o.ip} is not assigned`);
        else {
          ctx.out(`IP ${d.ip} is in use (block ${d.block}, owned by ${d.blockOwner ?? 'no node'})`);
          ctx.out(`  handle: ${d.handleId ?? '<none>'}`);
          for (const [k, v] of Object.entries(d.attrs).sort()) ctx.out(`  ${k}: ${v}`);
        }
        return;
      }
      if (o.showConfiguration) return ctx.out(formatConfig(await c.getConfig()));
      if (o.showBorrowed) return ctx.out(formatBorrowed(await c.borrowedIps()));
      ctx.out(formatUtilization(await c.getUtilization(), o.showBlocks ?? false, await c.orphanedBlocks()));
    });

  ipam
    .command('check')
    .description('audit IPAM: leaks, unallocated addresses in use, handle and affinity inconsistencies')
    .option('-o, --output <file>', 'also write the full report as JSON (input of `release --from-report`)')
    .action(async (o: { output?: string }) => {
      const report = await (await client('read')).check();
      if (o.output) {
        writeFileSync(o.output, JSON.stringify(report, null, 2) + '\n');
      }
      ctx.out(formatCheck(report));
      if (o.output) ctx.out(`Report written to ${o.output}`);
    });

  ipam
    .command('configure')
    .description('change the IPAM configuration (IPAMConfiguration "default")')
    .option('--strict-affinity <bool>', 'true: never borrow addresses from other nodes\' blocks')
    .option('--max-blocks-per-host <n>', 'blocks one node may own (0 = default limit of 20)')
    .option('--ip-cooldown-seconds <n>', 'seconds a released address waits before reuse (0-1200)')
    .action(async (o: { strictAffinity?: string; maxBlocksPerHost?: string; ipCooldownSeconds?: string }) => {
      const patch: { strictAffinity?: boolean; maxBlocksPerHost?: number; ipCooldownSeconds?: number } = {};
      if (o.strictAffinity !== undefined) {
        if (!['true', 'false'].includes(o.strictAffinity)) throw new UsageError(`--strict-affinity must be true or false, not "${o.strictAffinity}"`);
        patch.strictAffinity = o.strictAffinity === 'true';
      }
      if (o.maxBlocksPerHost !== undefined) patch.maxBlocksPerHost = intFlag('--max-blocks-per-host', o.maxBlocksPerHost);
      if (o.ipCooldownSeconds !== undefined) patch.ipCooldownSeconds = intFlag('--ip-cooldown-seconds', o.ipCooldownSeconds);
      if (Object.keys(patch).length === 0) throw new UsageError('give at least one of --strict-affinity, --max-blocks-per-host, --ip-cooldown-seconds');
      ctx.out(formatConfig(await (await client()).configure(patch)));
    });

  ipam
    .command('split')
    .description('split an IP pool into N equal pools (N a power of 2), as calicoctl ipam split')
    .argument('<number>', 'how many pools')
    .option('--cidr <cidr>', 'CIDR of the pool to split')
    .option('--name <name>', 'name of the pool to split')
    .action(async (numText: string, o: { cidr?: string; name?: string }) => {
      if ((o.cidr === undefined) === (o.name === undefined)) throw new UsageError('give exactly one of --cidr, --name');
      const parts = intFlag('<number>', numText);
      const c = await client();
      const pool = findPool(await c.resources.pools(), o.name ?? formatCidr(parseCidr(o.cidr!)));
      if (!pool) throw new NotFoundError(`no IP pool ${o.name ? `named "${o.name}"` : `with CIDR ${o.cidr}`}`);
      const cidrs = splitCidr(pool.cidr, parts);
      if (cidrs[0]!.prefix > pool.blockSize) throw new UsageError(`cannot split ${formatCidr(pool.cidr)} into ${parts}: each part would be smaller than its /${pool.blockSize} blocks`);
      const raw = (await c.resources.rawPool(pool.name))!;
      // As calicoctl: disable the old pool, create the parts enabled, delete the old pool.
      await c.resources.updatePool({ ...raw, spec: { ...raw.spec, disabled: true } });
      const created: string[] = [];
      for (const [i, cidr] of cidrs.entries()) {
        const name = `split-${pool.name}-${i}`;
        // A part left by an interrupted split of this pool is kept, so running the split again finishes it.
        const existing = await c.resources.rawPool(name);
        if (existing) {
          if (formatCidr(parseCidr(existing.spec.cidr)) !== formatCidr(cidr)) {
            throw new AlreadyExistsError(`cannot split ${pool.name}: IP pool ${name} already exists with CIDR ${existing.spec.cidr}, not ${formatCidr(cidr)}; delete or rename it first (${pool.name} is left disabled)`);
          }
          created.push(`Kept ${name} with CIDR ${formatCidr(cidr)} (created by an earlier, interrupted split)`);
          continue;
        }
        const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, ...meta } = raw.metadata;
        await c.resources.createReplacementPool({ ...raw, metadata: { ...meta, name }, spec: { ...raw.spec, cidr: formatCidr(cidr), disabled: false } });
        created.push(`Created ${name} with CIDR ${formatCidr(cidr)}`);
      }
      const disabled = (await c.resources.rawPool(pool.name))!;
      await c.resources.deletePool(disabled);
      ctx.out(`IP pool ${pool.name} was split into ${parts} pools.`);
      for (const line of created) ctx.out(line);
    });
}

function intFlag(name: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw new UsageError(`${name} must be a non-negative integer, not "${text}"`);
  return n;
}
