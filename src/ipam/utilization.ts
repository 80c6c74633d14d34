import { affinityNode, allocationAt, blockCidr, freeCount, inUseOrdinals, type AllocationBlock } from './block.js';
import { cidrContains, cidrCovers, cidrSize, formatCidr, formatIp, ipAt, type Cidr } from '../net/cidr.js';
import type { IpamPool } from './pool-selection.js';

/**
 * Address accounting per pool and per block (pure), for `brindle ipam show`. Pool figures cover the
 * whole pool, including space no block has been carved from yet.
 */

export interface BlockUtilization {
  cidr: string;
  node: string | undefined;
  capacity: number;
  inUse: number;
  coolingDown: number;
  /** Free and not reserved. */
  available: number;
}

export interface PoolUtilization {
  name: string;
  cidr: string;
  disabled: boolean;
  capacity: bigint;
  inUse: number;
  /** Addresses a new allocation could take: not in use, not cooling down, not reserved. */
  available: bigint;
  blocks: BlockUtilization[];
}

export interface BorrowedIp {
  ip: string;
  block: string;
  blockOwner: string | undefined;
  borrowingNode: string | undefined;
  handleId: string | null;
  type: string | undefined;
  allocatedTo: string | undefined;
}

export function utilization(pools: IpamPool[], blocks: AllocationBlock[], reservations: Cidr[]): PoolUtilization[] {
  const reserved = (ip: ReturnType<typeof ipAt>) => reservations.some((r) => cidrContains(r, ip));
  return pools.map((p) => {
    const mine = blocks.filter((b) => cidrCovers(p.cidr, blockCidr(b))).sort((a, b) => (blockCidr(a).base < blockCidr(b).base ? -1 : 1));
    const blockRows = mine.map((b): BlockUtilization => {
      const capacity = b.allocations.length;
      const inUse = inUseOrdinals(b).length;
      const coolingDown = b.allocations.filter((a) => a !== null).length - inUse;
      return { cidr: b.cidr, node: affinityNode(b), capacity, inUse, coolingDown, available: freeCount(b, reserved) };
    });
    const inUse = blockRows.reduce((s, b) => s + b.inUse, 0);
    const coolingDown = blockRows.reduce((s, b) => s + b.coolingDown, 0);
    // Reserved addresses are never handed out; those already held (or cooling down) are counted once.
    let reservedHeld = 0;
    for (const b of mine) b.allocations.forEach((a, o) => void (a !== null && reserved(ipAt(blockCidr(b), o)) && reservedHeld++));
    const reservedFree = reservedCount(reservations, p.cidr) - BigInt(reservedHeld);
    const capacity = cidrSize(p.cidr);
    const available = capacity - BigInt(inUse + coolingDown) - reservedFree;
    return { name: p.name, cidr: formatCidr(p.cidr), disabled: p.disabled, capacity, inUse, available, blocks: blockRows };
  });
}

/**
 * Blocks inside no IP pool: left by a deleted pool while some of their addresses are in use. They
 * still hold those addresses and still fix the block size of a new pool over them.
 */
export function orphanedBlocks(pools: IpamPool[], blocks: AllocationBlock[]): BlockUtilization[] {
  return blocks
    .filter((b) => !pools.some((p) => cidrCovers(p.cidr, blockCidr(b))))
    .sort((a, b) => blockCidr(a).family - blockCidr(b).family || (blockCidr(a).base < blockCidr(b).base ? -1 : 1))
    .map((b) => {
      const inUse = inUseOrdinals(b).length;
      return { cidr: b.cidr, node: affinityNode(b), capacity: b.allocations.length, inUse, coolingDown: b.allocations.filter((a) => a !== null).length - inUse, available: freeCount(b, () => false) };
    });
}

/** How many addresses of `pool` the reservations cover (overlapping reservations counted once). */
function reservedCount(reservations: Cidr[], pool: Cidr): bigint {
  const poolEnd = pool.base + cidrSize(pool);
  const spans = reservations
    .filter((r) => r.family === pool.family)
    .map((r) => [r.base > pool.base ? r.base : pool.base, r.base + cidrSize(r) < poolEnd ? r.base + cidrSize(r) : poolEnd] as const)
    .filter(([lo, hi]) => lo < hi)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let total = 0n;
  let covered = pool.base;
  for (const [lo, hi] of spans) {
    const from = lo > covered ? lo : covered;
    if (hi > from) total += hi - from;
    if (hi > covered) covered = hi;
  }
  return total;
}

/** Addresses allocated to a node other than the block's owner (the `node` attribute tells which). */
export function borrowedIps(blocks: AllocationBlock[]): BorrowedIp[] {
  const out: BorrowedIp[] = [];
  for (const b of blocks) {
    const owner = affinityNode(b);
    for (const o of inUseOrdinals(b)) {
      const live = allocationAt(b, o)!;
      const node = live.attrs['node'];
      if (node === undefined || node === owner) continue;
      out.push({
        ip: formatIp(ipAt(blockCidr(b), o)),
        block: b.cidr,
        blockOwner: owner,
        borrowingNode: node,
        handleId: live.handleId,
        type: live.attrs['type'],
        allocatedTo: live.attrs['workload'] ? `${live.attrs['namespace'] ?? 'default'}/${live.attrs['workload']}` : undefined,
      });
    }
  }
  return out;
}
