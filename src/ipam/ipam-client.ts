import type { AllowedUse } from '../api/types.js';
import type { Datastore } from '../datastore/datastore.js';
import { ConflictError, ExhaustedError, isConflict, isNotFound, NotFoundError, UsageError } from '../errors.js';
import { affinityNode, allocationAt, assignFromBlock, assignOrdinal, isEmpty, collectCooldown, freeCount, hostAffinity, ordinalUnavailable, type Assigned, type AllocationBlock } from './block.js';
import { BlockClaimer } from './block-claimer.js';
import { blockCount, blockFor, cidrContains, cidrCovers, formatCidr, formatIp, ordinalOf, parseCidr, parseIp, type Cidr, type IpAddr, type IpFamily } from './cidr.js';
import { DATASTORE_RETRIES, IpamStore, type Versioned } from './ipam-store.js';
import { checkKeySegment } from './keys.js';
import { DEFAULT_MAX_BLOCKS_PER_HOST, poolForIp, usablePools, type IpamConfig, type IpamPool } from './pool-selection.js';
import { blockOrder, startingBlockIndex } from './random-block.js';
import { AddressReleaser, type ReleaseRequest, type ReleaseResult } from './address-releaser.js';
import { ResourceReader } from './resource-reader.js';
import { IpamChecker, type RepairSummary } from './ipam-checker.js';
import type { IpamCheckReport } from './ipam-report.js';
import { borrowedIps, utilization, type BorrowedIp, type PoolUtilization } from './utilization.js';

/** Where IPAM reads the time (injected so cooldown can be tested). */
export interface IpamClock {
  now(): Date;
}

export const systemClock: IpamClock = { now: () => new Date() };

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

export interface AutoAssignRequest {
  node: string;
  handleId: string;
  num4?: number;
  num6?: number;
  /** Stored with the allocation: workload, namespace, node, type… */
  attrs?: Record<string, string>;
  /** Pool names or CIDRs to draw from (default: every enabled pool of the family). */
  pools?: string[];
  use?: AllowedUse;
  /** Per-request cap on blocks for this node (the stricter of this and the configuration wins). */
  maxBlocksPerHost?: number;
}

export interface AutoAssignResult {
  ipv4: AssignedAddress[];
  ipv6: AssignedAddress[];
}

export interface AssignIpRequest {
  ip: string;
  node: string;
  handleId: string;
  attrs?: Record<string, string>;
  use?: AllowedUse;
}

/** What one allocation needs to know about the cluster, read once per request. */
interface AssignContext {
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
 * Block-affine IP address management over a Datastore (the library the CLI, CNI plugin and
 * controllers use). A node allocates from blocks it owns, claims new blocks when those are full,
 * and borrows from other nodes' blocks only when no block is left and strictAffinity is off.
 * Every write is a compare-and-swap with a bounded retry; the handle is counted before the block
 * is written and un-counted if that write loses, so no address is ever handed out twice.
 */
export class IpamClient {
  readonly store: IpamStore;
  readonly resources: ResourceReader;
  private readonly clock: IpamClock;
  private readonly claimer: BlockClaimer;
  private readonly releaser: AddressReleaser;
  private readonly checker: IpamChecker;
  /** Per node and family, the block last allocated from: read first next time (a hint, never trusted). */
  private readonly lastBlock = new Map<string, string>();

  constructor(ds: Datastore, options: { clock?: IpamClock } = {}) {
    this.clock = options.clock ?? systemClock;
    this.store = new IpamStore(ds);
    this.resources = new ResourceReader(ds);
    this.claimer = new BlockClaimer(this.store, () => this.clock.now());
    this.releaser = new AddressReleaser(this.store, this.resources, () => this.clock.now());
    this.checker = new IpamChecker(this.store, this.resources, this.releaser, () => this.clock.now());
  }

  /** Assigns `num4` IPv4 and `num6` IPv6 addresses to one handle. All or nothing: on a shortfall nothing stays assigned. */
  async autoAssign(req: AutoAssignRequest): Promise<AutoAssignResult> {
    const num4 = req.num4 ?? 0;
    const num6 = req.num6 ?? 0;
    if (!Number.isInteger(num4) || !Number.isInteger(num6) || num4 < 0 || num6 < 0 || num4 + num6 === 0) {
      throw new UsageError('ask for at least one address (num4/num6 must be non-negative integers, not both 0)');
    }
    const ctx = await this.context(req.node, req.handleId, req.attrs);
    const { pools, labels } = ctx;
    const result: AutoAssignResult = { ipv4: [], ipv6: [] };
    try {
      for (const [family, num, out] of [[4, num4, result.ipv4], [6, num6, result.ipv6]] as const) {
        if (num === 0) continue;
        const usable = usablePools(pools, { family, use: req.use ?? 'Workload', nodeLabels: labels ?? new Map(), requested: req.pools });
        if (usable.length === 0) {
          throw new ExhaustedError(`no enabled IPv${family} pool allows ${req.use ?? 'Workload'} addresses on node "${req.node}"${req.pools?.length ? ` among ${req.pools.join(', ')}` : ''}`);
        }
        const maxBlocks = effectiveMaxBlocks(req.maxBlocksPerHost ?? 0, ctx.config.maxBlocksPerHost);
        await this.assignFamily(ctx, family, num, usable, maxBlocks, out);
      }
    } catch (err) {
      await this.undo([...result.ipv4, ...result.ipv6], req.handleId);
      throw err;
    }
    return result;
  }

  /** Assigns one specific address (it must lie in an enabled pool and be free). */
  async assignIp(req: AssignIpRequest): Promise<AssignedAddress> {
    const ctx = await this.context(req.node, req.handleId, req.attrs);
    const ip = parseIp(req.ip);
    const pool = poolForIp(ctx.pools, ip);
    if (!pool || pool.disabled) throw new NotFoundError(`cannot assign ${formatIp(ip)}: it is not in any enabled IP pool`);
    if (req.use && !pool.allowedUses.includes(req.use)) throw new UsageError(`cannot assign ${formatIp(ip)}: pool ${pool.name} does not allow ${req.use} addresses`);
    if (ctx.reserved(ip)) throw new ConflictError(`cannot assign ${formatIp(ip)}: it is reserved by an IPReservation`);
    const cidr = blockFor(ip, pool.blockSize);
    const ordinal = ordinalOf(cidr, ip);
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      const cur = (await this.store.getBlock(formatCidr(cidr))) ?? (await this.claimer.claim(ctx.node, cidr));
      if (!cur) continue; // another node created the block meanwhile: read it
      const got = await this.casAssign(cur, ctx.handleId, (block) => {
        if (block.affinity !== hostAffinity(ctx.node) && ctx.config.strictAffinity) {
          throw new ConflictError(`cannot assign ${formatIp(ip)} to node "${ctx.node}": block ${block.cidr} belongs to ${block.affinity ?? 'no node'} and strictAffinity is on`);
        }
        collectCooldown(block, this.clock.now(), ctx.config.ipCooldownSeconds);
        const why = ordinalUnavailable(block, ordinal);
        if (why) throw new ConflictError(`cannot assign ${formatIp(ip)}: ${why}`);
        return [assignOrdinal(block, ordinal, ctx.handleId, ctx.attrs)];
      });
      if (got.length > 0) return got[0]!;
    }
    throw new ConflictError(`cannot assign ${formatIp(ip)}: block ${formatCidr(cidr)} kept changing (${DATASTORE_RETRIES} attempts)`);
  }

  releaseIps(requests: ReleaseRequest[]): Promise<ReleaseResult> {
    return this.releaser.releaseIps(requests);
  }

  /** Releases every address of a handle; returns them (empty when the handle is unknown: idempotent). */
  releaseByHandle(handleId: string): Promise<string[]> {
    return this.releaser.releaseByHandle(handleId);
  }

  /** The addresses held by a handle. NotFoundError when the handle does not exist. */
  ipsByHandle(handleId: string): Promise<string[]> {
    return this.releaser.ipsByHandle(handleId);
  }

  /** Gives up every block of a node (empty blocks are deleted, others lose their owner). */
  async releaseHostAffinities(node: string): Promise<string[]> {
    const released: string[] = [];
    for (const aff of await this.store.listAffinities(node)) {
      if (await this.claimer.releaseAffinity(node, aff.value.cidr, false)) released.push(aff.value.cidr);
    }
    return released;
  }

  /** Audits IPAM: leaks, unallocated addresses in use, handle and affinity inconsistencies. */
  check(): Promise<IpamCheckReport> {
    return this.checker.check();
  }

  /** Releases the leaks a report found (re-validated now) and repairs handles and affinities. */
  releaseFromReport(report: IpamCheckReport): Promise<RepairSummary> {
    return this.checker.repair(report);
  }

  async getUtilization(): Promise<PoolUtilization[]> {
    const [pools, blocks, reservations] = await Promise.all([this.resources.pools(), this.store.listBlocks(), this.resources.reservations()]);
    return utilization(pools, blocks.map((b) => b.value), reservations);
  }

  async borrowedIps(): Promise<BorrowedIp[]> {
    return borrowedIps((await this.store.listBlocks()).map((b) => b.value));
  }

  /** Who holds an address: undefined when it is free (or cooling down). */
  async describeIp(ipText: string): Promise<{ ip: string; block: string; blockOwner: string | undefined; handleId: string | null; attrs: Record<string, string>; sequenceNumber: number | undefined } | undefined> {
    const ip = parseIp(ipText);
    const pools = await this.resources.pools();
    const pool = poolForIp(pools, ip);
    const blocks = await this.store.listBlocks(ip.family);
    const blk = blocks.find((b) => cidrContains(parseCidr(b.value.cidr), ip));
    if (!blk) {
      if (!pool) throw new NotFoundError(`${formatIp(ip)} is not in any IP pool or allocation block`);
      return undefined;
    }
    const live = allocationAt(blk.value, ordinalOf(parseCidr(blk.value.cidr), ip));
    if (!live) return undefined;
    return { ip: formatIp(ip), block: blk.value.cidr, blockOwner: affinityNode(blk.value), ...live };
  }

  getConfig(): Promise<IpamConfig> {
    return this.resources.config();
  }

  async configure(patch: { strictAffinity?: boolean; maxBlocksPerHost?: number; ipCooldownSeconds?: number }): Promise<IpamConfig> {
    if (patch.maxBlocksPerHost !== undefined && (!Number.isInteger(patch.maxBlocksPerHost) || patch.maxBlocksPerHost < 0)) {
      throw new UsageError(`maxBlocksPerHost must be a non-negative integer, got ${patch.maxBlocksPerHost}`);
    }
    if (patch.ipCooldownSeconds !== undefined && (!Number.isInteger(patch.ipCooldownSeconds) || patch.ipCooldownSeconds < 0 || patch.ipCooldownSeconds > 1200)) {
      throw new UsageError(`ipCooldownSeconds must be an integer 0-1200, got ${patch.ipCooldownSeconds}`);
    }
    return this.resources.patchConfig(patch);
  }

  // ------------------------------------------------------------------ internals

  private async context(node: string, handleId: string, attrs: Record<string, string> | undefined): Promise<AssignContext> {
    const bad = checkKeySegment('node name', node) ?? checkKeySegment('handle id', handleId);
    if (bad) throw new UsageError(bad);
    // One round trip: everything a request needs to know is read in parallel.
    const [config, reservations, pools, labels] = await Promise.all([this.resources.config(), this.resources.reservations(), this.resources.pools(), this.resources.nodeLabels(node)]);
    const reserved = (ip: IpAddr) => reservations.some((r) => cidrContains(r, ip));
    return { node, handleId, attrs: attrs ?? {}, config, reserved, reservations, pools, labels };
  }

  private async assignFamily(ctx: AssignContext, family: IpFamily, num: number, pools: IpamPool[], maxBlocks: number, out: AssignedAddress[]): Promise<void> {
    const inPools = (cidr: string) => pools.some((p) => cidrCovers(p.cidr, parseCidr(cidr)));
    const wholeReserved = (c: Cidr) => ctx.reservations.some((r) => cidrCovers(r, c));
    // 1. Blocks this node already owns (read in parallel; settle pending claims on the way).
    const affinities = (await this.store.listAffinities(ctx.node, family)).filter((a) => a.value.state !== 'pendingDeletion' && inPools(a.value.cidr));
    let owned = affinities.length;
    // Fast path: the block this client last allocated from for the node, if it is still ours.
    const hintKey = `${ctx.node}/${family}`;
    const hint = this.lastBlock.get(hintKey);
    if (hint && affinities.some((a) => a.value.cidr === hint && a.value.state === 'confirmed')) {
      const blk = await this.store.getBlock(hint);
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
        `cannot assign ${num} IPv${family} address${num === 1 ? '' : 'es'} to node "${ctx.node}": pool${pools.length === 1 ? '' : 's'} ${pools.map((p) => `${p.name} (${formatCidr(p.cidr)})`).join(', ')} ${ctx.config.strictAffinity ? 'have no free block (strictAffinity is on, so no borrowing)' : 'are exhausted'}`,
      );
    }
  }

  /** Finds the first block in this node's order that nobody has created yet and claims it. */
  private async claimNewBlock(ctx: AssignContext, family: IpFamily, pools: IpamPool[], wholeReserved: (c: Cidr) => boolean): Promise<Versioned<AllocationBlock> | null> {
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      const existing = new Map((await this.store.listBlocks(family)).map((b) => [b.value.cidr, b]));
      const now = this.clock.now().getTime();
      let candidate: Cidr | undefined;
      let reclaimable: AllocationBlock | undefined;
      for (const pool of pools) {
        for (const c of blockOrder(pool.cidr, pool.blockSize, ctx.node)) {
          const b = existing.get(formatCidr(c));
          if (wholeReserved(c)) continue;
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
    collectCooldown(copy, this.clock.now(), ctx.config.ipCooldownSeconds);
    return freeCount(copy, ctx.reserved);
  }

  /** Takes up to `num` addresses from a block, re-reading it on every lost race. */
  private async assignFrom(ctx: AssignContext, read: Versioned<AllocationBlock>, num: number, mustOwn: boolean): Promise<AssignedAddress[]> {
    const got = await this.casAssign(read, ctx.handleId, (block) => {
      if (mustOwn && block.affinity !== hostAffinity(ctx.node)) return [];
      collectCooldown(block, this.clock.now(), ctx.config.ipCooldownSeconds);
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

  private async undo(done: AssignedAddress[], handleId: string): Promise<void> {
    if (done.length === 0) return;
    try {
      await this.releaser.releaseIps(done.map((a) => ({ ip: a.ip, handleId, sequenceNumber: a.sequenceNumber })));
    } catch {
      // best effort: what stays is reported by `brindle ipam check` as a leak of this handle
    }
  }
}

function effectiveMaxBlocks(request: number, config: number): number {
  if (request > 0 && config > 0) return Math.min(request, config);
  return request || config || DEFAULT_MAX_BLOCKS_PER_HOST;
}
