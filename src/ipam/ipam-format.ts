import type { IpamCheckReport } from './ipam-report.js';
import type { IpamConfig } from './pool-selection.js';
import type { BlockUtilization, BorrowedIp, PoolUtilization } from './utilization.js';

/**
 * Text output of `brindle ipam show` and `brindle ipam check` (pure): aligned tables in the shape
 * of calicoctl's, and a problem listing that names each finding and why.
 */

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

function pct(part: bigint | number, whole: bigint | number): string {
  const w = BigInt(whole);
  if (w === 0n) return '0%';
  return `${(BigInt(part) * 100n) / w}%`;
}

/** Pools (and their blocks with `showBlocks`), then every orphaned block: those always show, as they still hold addresses. */
export function formatUtilization(pools: PoolUtilization[], showBlocks: boolean, orphans: BlockUtilization[] = []): string {
  const rows: string[][] = [];
  for (const p of pools) {
    rows.push(['IP Pool', p.name + (p.disabled ? ' (disabled)' : ''), p.cidr, String(p.capacity), `${p.inUse} (${pct(p.inUse, p.capacity)})`, `${p.available} (${pct(p.available, p.capacity)})`]);
    if (!showBlocks) continue;
    for (const b of p.blocks) {
      const extra = b.coolingDown > 0 ? `, ${b.coolingDown} cooling down` : '';
      rows.push(['Block', b.node ?? '<no node>', b.cidr, String(b.capacity), `${b.inUse} (${pct(b.inUse, b.capacity)})`, `${b.available} (${pct(b.available, b.capacity)})${extra}`]);
    }
  }
  for (const b of orphans) rows.push(['Orphaned block', b.node ?? '<no node>', b.cidr, String(b.capacity), `${b.inUse} (${pct(b.inUse, b.capacity)})`, `${b.available} (${pct(b.available, b.capacity)})`]);
  if (rows.length === 0) return 'No IP pools are configured.';
  const out = table(['GROUPING', 'NAME/NODE', 'CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS FREE'], rows);
  if (orphans.length === 0) return out;
  const n = orphans.length;
  return `${out.trimEnd()}\n${n} orphaned block${n === 1 ? ' belongs' : 's belong'} to no IP pool (${n === 1 ? 'its pool was' : 'their pools were'} deleted): ${n === 1 ? 'it keeps its' : 'they keep their'} addresses in use, and a new pool over ${n === 1 ? 'it' : 'them'} must use the same block size. ${n === 1 ? 'It goes' : 'Each goes'} away when its last address is released (brindle ipam release).`;
}

export function formatBorrowed(ips: BorrowedIp[]): string {
  if (ips.length === 0) return 'No borrowed addresses.';
  return table(
    ['IP', 'BORROWING-NODE', 'BLOCK', 'BLOCK OWNER', 'TYPE', 'ALLOCATED-TO'],
    ips.map((i) => [i.ip, i.borrowingNode ?? '', i.block, i.blockOwner ?? '<no node>', i.type ?? 'workload', i.allocatedTo ?? i.handleId ?? '']),
  );
}

export function formatConfig(c: IpamConfig): string {
  return table(
    ['NAME', 'VALUE'],
    [
      ['StrictAffinity', String(c.strictAffinity)],
      ['AutoAllocateBlocks', String(c.autoAllocateBlocks)],
      ['MaxBlocksPerHost', c.maxBlocksPerHost === 0 ? '0 (limit 20)' : String(c.maxBlocksPerHost)],
      ['IPCooldownSeconds', String(c.ipCooldownSeconds)],
    ],
  );
}

export function formatCheck(r: IpamCheckReport): string {
  const lines: string[] = [
    `Checked ${r.summary.blocks} blocks, ${r.summary.allocatedIps} allocated addresses, ${r.summary.handles} handles, ${r.summary.affinities} block affinities.`,
  ];
  const section = (title: string, items: string[]) => {
    if (items.length === 0) return;
    lines.push(`${title} (${items.length}):`);
    for (const i of items) lines.push(`  ${i}`);
  };
  section('Leaked addresses (allocated, owner gone)', r.leakedIps.map((l) => `${l.ip} handle ${l.handleId ?? '<none>'}: ${l.reason}`));
  section('Addresses in use but not allocated', r.inUseButUnallocated.map((u) => `${u.ip} used by ${u.owner}`));
  section('Allocated addresses outside every IP pool', r.ipsOutsidePools.map((o) => `${o.ip} in block ${o.block} (handle ${o.handleId ?? '<none>'})`));
  section('Addresses with more than one owner', r.multiplyOwnedIps.map((m) => `${m.ip}: ${m.owners.join('; ')}`));
  section('Handles with no addresses', r.handlesWithNoIps.map((h) => h.handleId));
  section('Handle counts that disagree with their blocks', r.handleMismatches.map((m) => `${m.handleId} in ${m.block}: handle says ${m.handleCount}, block holds ${m.allocated}`));
  section('Inconsistent block affinities', r.danglingAffinities.map((d) => `${d.node} ${d.cidr} (${d.state}): ${d.reason}`));
  section('Blocks whose node holds no affinity for them', r.blocksWithoutAffinity.map((b) => `${b.cidr} (node ${b.node}, ${b.inUse} in use)`));
  section('Invalid blocks', r.invalidBlocks.map((b) => `${b.cidr}: ${b.problems.join('; ')}`));
  lines.push(r.summary.problems === 0 ? 'No problems found.' : `Found ${r.summary.problems} problem${r.summary.problems === 1 ? '' : 's'}.`);
  return lines.join('\n');
}
