import { ConflictError, ExhaustedError, isConflict, isNotFound } from '../errors.js';
import { affinityNode, assignFromBlock, assignOrdinal, collectCooldown, freeCount, hostAffinity, isEmpty, ordinalUnavailable, type AllocationBlock, type Assigned } from './block.js';
import type { BlockClaimer } from './block-claimer.js';
import { blockCount, cidrCovers, cidrOverlaps, formatCidr, formatIp, ordinalOf, parseCidr, type Cidr, type IpAddr, type IpFamily } from '../net/cidr.js';
import { DATASTORE_RETRIES, type BlockAffinity, type IpamStore, type Versioned } from './ipam-store.js';
import type { IpamConfig, IpamPool } from './pool-selection.js';
import { blockOrder, startingBlockIndex } from './random-block.js';

/** An empty block claimed by another node at least this long ago may be taken over (Calico: 1 minute). */
export const EMPTY_BLOCK_MIN_RECLAIM_AGE_MS = 60_000;

export interface AssignedAddress {
  /** The address alone (`10.65.0.5`). */
  ip: string;
  /** The address with its block's mask (`10.65.0.5/26`), as Calico returns it. */
  cidr: string;
  /** The block it came from. */
  block: string;
  /** Proof of this allocation for a later release (see ReleaseRequest). */
  sequenceNumber: number;
}

/** Reads of one family's allocation started before the request's context is known (see AddressAllocator.prefetch). */
export interface FamilyPrefetch {
  /** The block this client last allocated from for the node and family, if any. */
  hint: string | undefined;
  affinities: Promise<Versioned<BlockAffinity>[]>;
  /** The hinted block as read alongside the context (null when there is no hint). */
  hinted: Promise<Versioned<AllocationBlock> | null> | null;
}

/** What one allocation needs to know about the cluster, read once per request. */
export interface AssignContext {
  node: string;
  handleId: string;
  attrs: Record<string, string>;
  config: IpamConfig;
  reserved: (ip: IpAddr) => boolean;
  reservations: Cidr[];
  pools: IpamPool[];
  /** The node's labels; null when there is no Node resource (pools selecting all() still apply). */
  labels: Map<string, string> | null;
}

/**
 * The allocation algorithm: where a node's addresses come from. In order: blocks the node owns,
 * then a newly claimed block (the first free one in the node's FNV-seeded order, or an empty block
 * another node claimed over a minute ago), then, unless strictAffinity is on, other nodes' blocks
 * (borrowing). Each block is taken from in a compare-and-swap loop that counts the handle first.
 * It does not decide which pools apply or undo partial results (IpamClient does).
 */
export class AddressAllocator {
  /** Per node and family, the block last allocated from: read first next time (a hint, never trusted). */
  private readonly lastBlock = new Map<string, string>();

  constructor(
    private readonly store: IpamStore,
    private readonly claimer: BlockClaimer,
    private readonly now: () => Date,
  ) {}

  /** Takes one specific address; claims its block for the node if nobody has it yet. */
  async assignSpecific(ctx: AssignContext, ip: IpAddr, cidr: Cidr): Promise<AssignedAddress> {
    const ordinal = ordinalOf(cidr, ip);
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      const cur = (await this.store.getBlock(formatCidr(cidr))) ?? (await this.claimer.claim(ctx.node, cidr));
      if (!cur) continue; // another node created the block meanwhile: read it
      const got = await this.casAssign(cur, ctx.handleId, (block) => {
        if (block.affinity !== hostAffinity(ctx.node) && ctx.config.strictAffinity) {
          throw new ConflictError(`cannot assign ${formatIp(ip)} to node "${ctx.node}": block ${block.cidr} belongs to ${block.affinity ?? 'no node'} and strictAffinity is on`);
        }
        collectCooldown(block, this.now(), ctx.config.ipCooldownSeconds);
        const why = ordinalUnavailable(block, ordinal);
        if (why) throw new ConflictError(`cannot assign ${formatIp(ip)}: ${why}`);
        return [assignOrdinal(block, ordinal, ctx.handleId, ctx.attrs)];
      });
      if (got.length > 0) return got[0]!;
    }
    throw new ConflictError(`cannot assign ${formatIp(ip)}: block ${formatCidr(cidr)} kept changing (${DATASTORE_RETRIES} attempts)`);
  }

  /**
   * Starts the reads of one family's allocation that need nothing but the node name: its affinity
   * list and the hinted block. The caller issues them alongside the request's context reads, so
   * an allocation from the hinted block costs three sequential round trips (these reads, handle,
   * block) instead of five. Both are only snapshots: assignFamily re-checks the hint against the
   * affinities, and the block write is a compare-and-swap on the revision read here.
   */
  prefetch(node: string, family: IpFamily): FamilyPrefetch {
    const hint = this.lastBlock.get(`${node}/${family}`);
    const affinities = this.store.listAffinities(node, family);
    const hinted = hint !== undefined ? this.store.getBlock(hint) : null;
    // The request may fail before these are awaited (bad pool, context read failed): never leave a rejection unhandled.
    affinities.catch(() => undefined);
    hinted?.catch(() => undefined);
    return { hint, affinities, hinted };
  }

  async assignFamily(ctx: AssignContext, family: IpFamily, num: number, pools: IpamPool[], maxBlocks: number, out: AssignedAddress[], pre: FamilyPrefetch = this.prefetch(ctx.node, family)): Promise<void> {
    const inPools = (cidr: string) => pools.some((p) => cidrCovers(p.cidr, parseCidr(cidr)));
    const wholeReserved = (c: Cidr) => ctx.reservations.some((r) => cidrCovers(r, c));
    // 1. Blocks this node already owns (read in parallel; settle pending claims on the way).
    const affinities = (await pre.affinities).filter((a) => a.value.state !== 'pendingDeletion' && inPools(a.value.cidr));
    let owned = affinities.length;
    // Fast path: the block this client last allocated from for the node, if it is still ours.
    const hint = pre.hint;
    if (hint && pre.hinted && affinities.some((a) => a.value.cidr === hint && a.value.state === 'confirmed')) {
      const blk = await pre.hinted;
      if (blk && this.available(ctx, blk.value) > 0) out.push(...(await this.assignFrom(ctx, blk, num - out.length, true)));
      if (out.length >= num) return;
    }
    const affine = await Promise.all(affinities.map((a) => (a.value.state === 'confirmed' ? this.store.getBlock(a.value.cidr) : Promise.resolve(null)).then((b) => b ?? this.claimer.resolveAffinity(a))));
    for (const blk of affine) {
      if (out.length >= num) return;
      if (!blk || wholeReserved(parseCidr(blk.value.cidr)) || this.available(ctx, blk.value) === 0) continue;
      out.push(...(await this.assignFrom(ctx, blk, num - out.length, true)));
    }
    // 2. Claim new blocks, up to the per-node limit.
    for (let guard = 0; out.length < num && ctx.config.autoAllocateBlocks && guard < 10_000; guard++) {
      if (owned >= maxBlocks) {
        throw new ExhaustedError(`cannot assign IPv${family} addresses to node "${ctx.node}": its ${owned} blocks are full and maxBlocksPerHost is ${maxBlocks}`);
      }
      const blk = await this.claimNewBlock(ctx, family, pools, wholeReserved);
      if (!blk) break;
      owned++;
      out.push(...(await this.assignFrom(ctx, blk, num - out.length, true)));
    }
    // 3. Borrow from other nodes' blocks.
    if (out.length < num && !ctx.config.strictAffinity) {
      const existing = await this.store.listBlocks(family);
      for (const pool of pools) {
        const n = blockCount(pool.cidr, pool.blockSize);
        const start = startingBlockIndex(ctx.node, n);
        const size = 1n << BigInt((family === 4 ? 32 : 128) - pool.blockSize);
        const candidates = existing
          .filter((b) => b.value.affinity !== hostAffinity(ctx.node) && cidrCovers(pool.cidr, parseCidr(b.value.cidr)) && this.available(ctx, b.value) > 0)
          .map((b) => ({ b, rank: ((parseCidr(b.value.cidr).base - pool.cidr.base) / size - start + n) % n }))
          .sort((x, y) => (x.rank < y.rank ? -1 : x.rank > y.rank ? 1 : 0));
        for (const { b } of candidates) {
          if (out.length >= num) break;
          out.push(...(await this.assignFrom(ctx, b, num - out.length, false)));
        }
      }
    }
    if (out.length < num) {
      throw new ExhaustedError(
        `cannot assign ${num} IPv${family} address${num === 1 ? '' : 'es'} to node "${ctx.node}": pool${pools.length === 1 ? '' : 's'} ${pools.map((p) => `${p.name} (${formatCidr(p.cidr)})`).join(', ')} ${ctx.config.strictAffinity ? `${pools.length === 1 ? 'has' : 'have'} no free block (strictAffinity is on, so no borrowing)` : pools.length === 1 ? 'is exhausted' : 'are exhausted'}`,
      );
    }
  }

  /** Finds the first block in this node's order that nobody has created yet and claims it. */
  private async claimNewBlock(ctx: AssignContext, family: IpFamily, pools: IpamPool[], wholeReserved: (c: Cidr) => boolean): Promise<Versioned<AllocationBlock> | null> {
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      const existing = new Map((await this.store.listBlocks(family)).map((b) => [b.value.cidr, b]));
      const now = this.now().getTime();
      let candidate: Cidr | undefined;
      let reclaimable: AllocationBlock | undefined;
      for (const pool of pools) {
        // Blocks of another size (left by a deleted pool that had another blockSize): a block of
        // ours carved over one would hand out its addresses again.
        const foreign = [...existing.keys()].map((k) => parseCidr(k)).filter((c) => c.prefix !== pool.blockSize && cidrOverlaps(c, pool.cidr));
        for (const c of blockOrder(pool.cidr, pool.blockSize, ctx.node)) {
          const b = existing.get(formatCidr(c));
          if (wholeReserved(c) || (!b && foreign.some((f) => cidrOverlaps(f, c)))) continue;
          if (!b) {
            candidate = c;
            break;
          }
          // A block of ours created by a concurrent request on this node: use it.
          if (b.value.affinity === hostAffinity(ctx.node) && this.available(ctx, b.value) > 0) return b;
          // An empty block another node claimed long enough ago can be taken over (as Calico).
          const owner = affinityNode(b.value);
          const claimedAt = Date.parse(b.value.affinityClaimTime ?? '');
          if (!reclaimable && owner && owner !== ctx.node && isEmpty(b.value) && now - claimedAt >= EMPTY_BLOCK_MIN_RECLAIM_AGE_MS) reclaimable = b.value;
        }
        if (candidate) break;
      }
      if (!candidate && reclaimable) {
        // Only succeeds while the block is still empty: the owner's allocations win the race.
        if (await this.claimer.releaseAffinity(affinityNode(reclaimable)!, reclaimable.cidr, true)) candidate = parseCidr(reclaimable.cidr);
        else continue;
      }
      if (!candidate) return null;
      const blk = await this.claimer.claim(ctx.node, candidate);
      if (blk) return blk;
    }
    throw new ConflictError(`cannot claim a block for node "${ctx.node}": lost ${DATASTORE_RETRIES} races in a row (excessive concurrent IPAM requests)`);
  }

  /** Addresses a request could take from the block now, counting those whose cooldown has passed. */
  private available(ctx: AssignContext, block: AllocationBlock): number {
    if (ctx.config.ipCooldownSeconds === 0 || block.unallocated.length === block.allocations.length) return freeCount(block, ctx.reserved);
    const copy = structuredClone(block);
    collectCooldown(copy, this.now(), ctx.config.ipCooldownSeconds);
    return freeCount(copy, ctx.reserved);
  }

  /** Takes up to `num` addresses from a block, re-reading it on every lost race. */
  private async assignFrom(ctx: AssignContext, read: Versioned<AllocationBlock>, num: number, mustOwn: boolean): Promise<AssignedAddress[]> {
    const got = await this.casAssign(read, ctx.handleId, (block) => {
      if (mustOwn && block.affinity !== hostAffinity(ctx.node)) return [];
      collectCooldown(block, this.now(), ctx.config.ipCooldownSeconds);
      return assignFromBlock(block, num, ctx.handleId, ctx.attrs, ctx.reserved);
    });
    if (got.length > 0 && mustOwn) this.lastBlock.set(`${ctx.node}/${parseCidr(read.value.cidr).family}`, read.value.cidr);
    return got;
  }

  /**
   * The compare-and-swap loop that takes addresses from one block. Handle first, then block: the
   * handle is counted before the block is written. On a lost race the block is re-read and the
   * count kept (adjusted if the retry takes a different number); whatever ends up unused is
   * un-counted. Any other write failure leaves the outcome unknown: the count stays (an over-count
   * is what `check` and release-by-handle repair) and the error propagates.
   */
  private async casAssign(first: Versioned<AllocationBlock>, handleId: string, take: (block: AllocationBlock) => Assigned[]): Promise<AssignedAddress[]> {
    const cidr = first.value.cidr;
    let cur: Versioned<AllocationBlock> | null = first;
    let counted = 0;
    try {
      for (let attempt = 0; attempt < DATASTORE_RETRIES && cur; attempt++) {
        const block = structuredClone(cur.value);
        const got = take(block);
        if (got.length === 0) break;
        if (got.length !== counted) {
          await this.store.adjustHandle(handleId, cidr, got.length - counted, counted === 0);
          counted = got.length;
        }
        try {
          await this.store.updateBlock(cur, block);
        } catch (err) {
          if (!isConflict(err) && !isNotFound(err)) {
            counted = 0; // outcome unknown: keep the count
            throw err;
          }
          cur = await this.store.getBlock(cidr);
          continue;
        }
        counted = 0;
        const prefix = cidr.slice(cidr.indexOf('/'));
        return got.map((a) => ({ ip: formatIp(a.ip), cidr: formatIp(a.ip) + prefix, block: cidr, sequenceNumber: a.sequenceNumber }));
      }
      return [];
    } finally {
      if (counted > 0) await this.store.adjustHandle(handleId, cidr, -counted);
    }
  }
}
