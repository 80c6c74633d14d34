import { cidrSize, formatCidr, formatIp, ipAt, ordinalOf, parseCidr, type Cidr, type IpAddr } from '../net/cidr.js';

/**
 * The allocation block (Calico's AllocationBlock) and the pure operations on it. A block holds one
 * slot per address (`allocations[ordinal]` = index into `attributes`, null = free), a FIFO of free
 * ordinals (`unallocated`: allocation takes the head, release appends to the tail, so the address
 * free for longest is reused first), and per-ordinal sequence numbers that let a release prove it
 * refers to the allocation it thinks it does. Functions here mutate the block they are given; the
 * I/O layer gives them a fresh copy for every compare-and-swap attempt. Nothing here does I/O.
 */

export interface AllocationAttribute {
  handle_id: string | null;
  secondary: Record<string, string> | null;
  /** Set on the attribute of released addresses that are cooling down (ISO time). */
  releasedAt?: string;
}

export interface AllocationBlock {
  cidr: string;
  /** `host:<node>` or null when no node owns the block. */
  affinity: string | null;
  affinityClaimTime?: string;
  allocations: (number | null)[];
  unallocated: number[];
  attributes: AllocationAttribute[];
  /** Bumped on every write; copied into sequenceNumberForAllocation when an ordinal is taken. */
  sequenceNumber: number;
  sequenceNumberForAllocation: Record<string, number>;
  deleted: boolean;
}

/** Answers whether the address at an ordinal is reserved (never handed out). */
export type ReservedCheck = (ip: IpAddr) => boolean;

export const hostAffinity = (node: string): string => `host:${node}`;

export function affinityNode(block: AllocationBlock): string | undefined {
  return block.affinity?.startsWith('host:') ? block.affinity.slice(5) : undefined;
}

export function newBlock(cidr: Cidr, affinity: string | null, now: Date): AllocationBlock {
  const size = Number(cidrSize(cidr));
  return {
    cidr: formatCidr(cidr),
    affinity,
    affinityClaimTime: affinity ? now.toISOString() : undefined,
    allocations: Array<number | null>(size).fill(null),
    unallocated: Array.from({ length: size }, (_, i) => i),
    attributes: [],
    // Start from the clock (µs) so a block deleted and created again never repeats a number.
    sequenceNumber: now.getTime() * 1000,
    sequenceNumberForAllocation: {},
    deleted: false,
  };
}

export function blockCidr(block: AllocationBlock): Cidr {
  return parseCidr(block.cidr);
}

/** Free addresses a new allocation could take now (not reserved, not cooling down). */
export function freeCount(block: AllocationBlock, reserved: ReservedCheck): number {
  const cidr = blockCidr(block);
  return block.unallocated.filter((o) => !reserved(ipAt(cidr, o))).length;
}

/** Ordinals currently allocated to a live handle (cooling-down slots excluded). */
export function inUseOrdinals(block: AllocationBlock): number[] {
  const out: number[] = [];
  block.allocations.forEach((a, o) => {
    if (a !== null && !block.attributes[a]?.releasedAt) out.push(o);
  });
  return out;
}

export function isEmpty(block: AllocationBlock): boolean {
  return block.allocations.every((a) => a === null || block.attributes[a]?.releasedAt !== undefined);
}

export interface Assigned {
  ordinal: number;
  ip: IpAddr;
  sequenceNumber: number;
}

/**
 * Takes up to `num` free, unreserved ordinals from the head of the FIFO for `handleId`. Reserved
 * ordinals stay where they are. Returns what was taken (possibly fewer than asked).
 */
export function assignFromBlock(block: AllocationBlock, num: number, handleId: string, attrs: Record<string, string>, reserved: ReservedCheck): Assigned[] {
  const cidr = blockCidr(block);
  const taken: number[] = [];
  const kept: number[] = [];
  for (const o of block.unallocated) {
    if (taken.length < num && !reserved(ipAt(cidr, o))) taken.push(o);
    else kept.push(o);
  }
  if (taken.length === 0) return [];
  block.unallocated = kept;
  const attrIndex = block.attributes.push({ handle_id: handleId, secondary: { ...attrs } }) - 1;
  return taken.map((o) => {
    block.allocations[o] = attrIndex;
    block.sequenceNumberForAllocation[String(o)] = block.sequenceNumber;
    return { ordinal: o, ip: ipAt(cidr, o), sequenceNumber: block.sequenceNumber };
  });
}

/** Why a specific ordinal cannot be taken, or undefined when it can. */
export function ordinalUnavailable(block: AllocationBlock, ordinal: number): string | undefined {
  const a = block.allocations[ordinal];
  if (a === null || a === undefined) return undefined;
  const attr = block.attributes[a];
  if (attr?.releasedAt) return `it was released at ${attr.releasedAt} and is cooling down`;
  return `it is already assigned (handle ${attr?.handle_id ?? '<none>'})`;
}

/** Takes one specific ordinal (the caller checked `ordinalUnavailable`). */
export function assignOrdinal(block: AllocationBlock, ordinal: number, handleId: string, attrs: Record<string, string>): Assigned {
  const cidr = blockCidr(block);
  block.unallocated = block.unallocated.filter((o) => o !== ordinal);
  block.allocations[ordinal] = block.attributes.push({ handle_id: handleId, secondary: { ...attrs } }) - 1;
  block.sequenceNumberForAllocation[String(ordinal)] = block.sequenceNumber;
  return { ordinal, ip: ipAt(cidr, ordinal), sequenceNumber: block.sequenceNumber };
}

/** The live allocation at an ordinal, if any. */
export function allocationAt(block: AllocationBlock, ordinal: number): { handleId: string | null; attrs: Record<string, string>; sequenceNumber: number | undefined } | undefined {
  const a = block.allocations[ordinal];
  if (a === null || a === undefined) return undefined;
  const attr = block.attributes[a];
  if (!attr || attr.releasedAt) return undefined;
  return { handleId: attr.handle_id, attrs: attr.secondary ?? {}, sequenceNumber: block.sequenceNumberForAllocation[String(ordinal)] };
}

/**
 * Frees ordinals. With a cooldown they keep their slot, pointing at a shared `releasedAt`
 * attribute, until `collectCooldown` returns them to the FIFO; without one they go straight to
 * the tail. Returns the handle of each ordinal freed (free ordinals are skipped: idempotent).
 */
export function releaseOrdinals(block: AllocationBlock, ordinals: number[], now: Date, cooldownSeconds: number): Map<string, number> {
  const perHandle = new Map<string, number>();
  let coolIndex = -1;
  for (const o of ordinals) {
    const live = allocationAt(block, o);
    if (!live) continue;
    if (live.handleId) perHandle.set(live.handleId, (perHandle.get(live.handleId) ?? 0) + 1);
    if (cooldownSeconds > 0) {
      if (coolIndex < 0) coolIndex = block.attributes.push({ handle_id: null, secondary: null, releasedAt: now.toISOString() }) - 1;
      block.allocations[o] = coolIndex;
    } else {
      block.allocations[o] = null;
      block.unallocated.push(o);
      delete block.sequenceNumberForAllocation[String(o)];
    }
  }
  pruneAttributes(block);
  return perHandle;
}

/** Returns cooled-down ordinals to the FIFO tail, oldest release first. True if anything changed. */
export function collectCooldown(block: AllocationBlock, now: Date, cooldownSeconds: number): boolean {
  const due: { o: number; at: number }[] = [];
  block.allocations.forEach((a, o) => {
    const at = a === null ? undefined : block.attributes[a]?.releasedAt;
    if (at === undefined) return;
    const t = Date.parse(at);
    if (now.getTime() - t >= cooldownSeconds * 1000) due.push({ o, at: t });
  });
  if (due.length === 0) return false;
  due.sort((x, y) => x.at - y.at || x.o - y.o);
  for (const { o } of due) {
    block.allocations[o] = null;
    block.unallocated.push(o);
    delete block.sequenceNumberForAllocation[String(o)];
  }
  pruneAttributes(block);
  return true;
}

/** Drops attributes nothing points at, renumbering the slots that remain. */
export function pruneAttributes(block: AllocationBlock): void {
  const used = new Set(block.allocations.filter((a): a is number => a !== null));
  if (used.size === block.attributes.length) return;
  const remap = new Map<number, number>();
  const kept: AllocationAttribute[] = [];
  block.attributes.forEach((attr, i) => {
    if (used.has(i)) remap.set(i, kept.push(attr) - 1);
  });
  block.attributes = kept;
  block.allocations = block.allocations.map((a) => (a === null ? null : remap.get(a)!));
}

/** Live allocation counts per handle. */
export function handleCounts(block: AllocationBlock): Map<string, number> {
  const out = new Map<string, number>();
  for (const o of inUseOrdinals(block)) {
    const h = block.attributes[block.allocations[o]!]!.handle_id;
    if (h) out.set(h, (out.get(h) ?? 0) + 1);
  }
  return out;
}

/** Ordinals allocated to `handleId`. */
export function ordinalsForHandle(block: AllocationBlock, handleId: string): number[] {
  return inUseOrdinals(block).filter((o) => block.attributes[block.allocations[o]!]!.handle_id === handleId);
}

export function ordinalForIp(block: AllocationBlock, ip: IpAddr): number {
  return ordinalOf(blockCidr(block), ip);
}

/** Structural problems (an ordinal both free and allocated, lost or repeated ordinals, bad indexes). */
export function structuralProblems(block: AllocationBlock): string[] {
  const problems: string[] = [];
  const size = Number(cidrSize(blockCidr(block)));
  if (block.allocations.length !== size) problems.push(`has ${block.allocations.length} slots, expected ${size}`);
  const seen = new Set<number>();
  for (const o of block.unallocated) {
    if (seen.has(o)) problems.push(`ordinal ${o} is listed twice as free`);
    seen.add(o);
    if (block.allocations[o] !== null) problems.push(`ordinal ${o} is both free and allocated`);
  }
  block.allocations.forEach((a, o) => {
    if (a === null && !seen.has(o)) problems.push(`ordinal ${o} is neither free nor allocated`);
    if (a !== null && (a < 0 || a >= block.attributes.length)) problems.push(`ordinal ${o} points at missing attribute ${a}`);
  });
  return problems;
}

export function describeIp(block: AllocationBlock, ordinal: number): string {
  return formatIp(ipAt(blockCidr(block), ordinal));
}
