import type { AllowedUse } from '../api/types.js';
import type { Datastore } from '../datastore/datastore.js';
import { ConflictError, ExhaustedError, NotFoundError, UsageError } from '../errors.js';
import { AddressAllocator, type AssignContext, type AssignedAddress } from './address-allocator.js';
import { AddressReleaser, type ReleaseRequest, type ReleaseResult } from './address-releaser.js';
import { affinityNode, allocationAt } from './block.js';
import { BlockClaimer } from './block-claimer.js';
import { blockFor, cidrContains, cidrCovers, formatIp, ordinalOf, parseCidr, parseIp, type IpAddr } from '../net/cidr.js';
import { IpamChecker, type RepairSummary } from './ipam-checker.js';
import type { IpamCheckReport } from './ipam-report.js';
import { IpamStore } from './ipam-store.js';
import { checkKeySegment } from '../api/keys.js';
import { DEFAULT_MAX_BLOCKS_PER_HOST, poolForIp, usablePools, type IpamConfig } from './pool-selection.js';
import { ResourceReader } from './resource-reader.js';
import { borrowedIps, orphanedBlocks, utilization, type BlockUtilization, type BorrowedIp, type PoolUtilization } from './utilization.js';

export type { AssignedAddress } from './address-allocator.js';

/** Where IPAM reads the time (injected so cooldown can be tested). */
export interface IpamClock {
  now(): Date;
}

export const systemClock: IpamClock = { now: () => new Date() };

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

/**
 * Block-affine IP address management over a Datastore (the library the CLI, CNI plugin and
 * controllers use). A node allocates from blocks it owns, claims new blocks when those are full,
 * and borrows from other nodes' blocks only when no block is left and strictAffinity is off.
 * Every write is a compare-and-swap with a bounded retry, so no address is ever handed out twice;
 * the handle is counted before the block is written, so a crash leaves at worst an over-counted
 * handle, which `check` finds and release-by-handle repairs. This class checks requests and
 * wires the parts together: AddressAllocator (where addresses come from), BlockClaimer,
 * AddressReleaser, IpamChecker.
 */
export class IpamClient {
  readonly store: IpamStore;
  readonly resources: ResourceReader;
  private readonly clock: IpamClock;
  private readonly claimer: BlockClaimer;
  private readonly releaser: AddressReleaser;
  private readonly checker: IpamChecker;
  private readonly allocator: AddressAllocator;

  constructor(ds: Datastore, options: { clock?: IpamClock } = {}) {
    this.clock = options.clock ?? systemClock;
    this.store = new IpamStore(ds);
    this.resources = new ResourceReader(ds);
    this.claimer = new BlockClaimer(this.store, () => this.clock.now());
    this.releaser = new AddressReleaser(this.store, this.resources, () => this.clock.now());
    this.checker = new IpamChecker(this.store, this.resources, this.releaser, () => this.clock.now());
    this.allocator = new AddressAllocator(this.store, this.claimer, () => this.clock.now());
  }

  /** Assigns `num4` IPv4 and `num6` IPv6 addresses to one handle. All or nothing: on a shortfall nothing stays assigned. */
  async autoAssign(req: AutoAssignRequest): Promise<AutoAssignResult> {
    const num4 = req.num4 ?? 0;
    const num6 = req.num6 ?? 0;
    if (!Number.isInteger(num4) || !Number.isInteger(num6) || num4 < 0 || num6 < 0 || num4 + num6 === 0) {
      throw new UsageError('ask for at least one address (num4/num6 must be non-negative integers, not both 0)');
    }
    checkNames(req.node, req.handleId);
    // Reads that need only the node name go out together with the context reads (one round trip).
    const pre = { 4: num4 > 0 ? this.allocator.prefetch(req.node, 4) : undefined, 6: num6 > 0 ? this.allocator.prefetch(req.node, 6) : undefined };
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
        await this.allocator.assignFamily(ctx, family, num, usable, maxBlocks, out, pre[family]);
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
    return this.allocator.assignSpecific(ctx, ip, cidr);
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

  /**
   * After an IP pool is deleted (as Calico's pool delete does): every node gives up its blocks in
   * the pool's range. Empty blocks are deleted; blocks still holding addresses lose their owner and
   * stay until those addresses are released. Returns the blocks released.
   */
  async releasePoolAffinities(poolCidr: string): Promise<string[]> {
    const pool = parseCidr(poolCidr);
    const released: string[] = [];
    for (const aff of await this.store.listAffinities()) {
      if (!cidrCovers(pool, parseCidr(aff.value.cidr))) continue;
      if (await this.claimer.releaseAffinity(aff.value.node, aff.value.cidr, false)) released.push(aff.value.cidr);
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

  /** Blocks inside no IP pool (left by a deleted pool, some addresses still in use). */
  async orphanedBlocks(): Promise<BlockUtilization[]> {
    const [pools, blocks] = await Promise.all([this.resources.pools(), this.store.listBlocks()]);
    return orphanedBlocks(pools, blocks.map((b) => b.value));
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
    checkNames(node, handleId);
    // One round trip: everything a request needs to know is read in parallel.
    const [config, reservations, pools, labels] = await Promise.all([this.resources.config(), this.resources.reservations(), this.resources.pools(), this.resources.nodeLabels(node)]);
    const reserved = (ip: IpAddr) => reservations.some((r) => cidrContains(r, ip));
    return { node, handleId, attrs: attrs ?? {}, config, reserved, reservations, pools, labels };
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

/** Node names and handle ids become datastore key segments: refuse what would break the key space. */
function checkNames(node: string, handleId: string): void {
  const bad = checkKeySegment('node name', node) ?? checkKeySegment('handle id', handleId);
  if (bad) throw new UsageError(bad);
}

function effectiveMaxBlocks(request: number, config: number): number {
  if (request > 0 && config > 0) return Math.min(request, config);
  return request || config || DEFAULT_MAX_BLOCKS_PER_HOST;
}
