import { ConflictError, isConflict, isNotFound, NotFoundError } from '../errors.js';
import { allocationAt, describeIp, isEmpty, ordinalsForHandle, releaseOrdinals, type AllocationBlock } from './block.js';
import { blockFor, cidrContains, formatCidr, formatIp, ordinalOf, parseCidr, parseIp, type IpAddr } from '../net/cidr.js';
import { DATASTORE_RETRIES, type IpamStore, type Versioned } from './ipam-store.js';
import { poolForIp } from './pool-selection.js';
import type { ResourceReader } from './resource-reader.js';

/** One address to release, optionally proven by the handle and sequence number it was assigned with. */
export interface ReleaseRequest {
  ip: string;
  handleId?: string;
  /** When given and the address has been re-assigned since (different number), the release is refused. */
  sequenceNumber?: number;
}

export interface ReleaseResult {
  released: string[];
  /** Addresses that were already free (releasing them again is not an error). */
  notAllocated: string[];
}

/**
 * Frees addresses: block first (CAS), then the handle counts. Released addresses cool down for
 * `ipCooldownSeconds` before they return to the tail of the block's FIFO. A release naming a
 * handle or sequence number that no longer matches is refused for that whole block, so a stale
 * release can never free an address that was handed to someone else.
 */
export class AddressReleaser {
  constructor(
    private readonly store: IpamStore,
    private readonly resources: ResourceReader,
    private readonly now: () => Date,
  ) {}

  async releaseIps(requests: ReleaseRequest[]): Promise<ReleaseResult> {
    const result: ReleaseResult = { released: [], notAllocated: [] };
    if (requests.length === 0) return result;
    const pools = await this.resources.pools();
    const byBlock = new Map<string, { req: ReleaseRequest; ip: IpAddr }[]>();
    let blocks: Versioned<AllocationBlock>[] | undefined;
    for (const req of requests) {
      const ip = parseIp(req.ip);
      const pool = poolForIp(pools, ip);
      let cidr: string | undefined = pool ? formatCidr(blockFor(ip, pool.blockSize)) : undefined;
      if (!cidr) {
        // The pool may be gone while its blocks remain.
        blocks ??= await this.store.listBlocks();
        cidr = blocks.find((b) => cidrContains(parseCidr(b.value.cidr), ip))?.value.cidr;
      }
      if (!cidr) throw new NotFoundError(`cannot release ${formatIp(ip)}: it is not in any IP pool or allocation block`);
      const list = byBlock.get(cidr) ?? [];
      list.push({ req, ip });
      byBlock.set(cidr, list);
    }
    const { ipCooldownSeconds } = await this.resources.config();
    const errors: Error[] = [];
    for (const [cidr, items] of byBlock) {
      try {
        const r = await this.releaseInBlock(cidr, items, ipCooldownSeconds);
        result.released.push(...r.released);
        result.notAllocated.push(...r.notAllocated);
      } catch (err) {
        errors.push(err as Error);
      }
    }
    if (errors.length > 0) throw errors[0]!;
    return result;
  }

  private async releaseInBlock(cidr: string, items: { req: ReleaseRequest; ip: IpAddr }[], cooldown: number): Promise<ReleaseResult> {
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      const cur = await this.store.getBlock(cidr);
      if (!cur) return { released: [], notAllocated: items.map((i) => formatIp(i.ip)) };
      const block = structuredClone(cur.value);
      const ordinals: number[] = [];
      const result: ReleaseResult = { released: [], notAllocated: [] };
      for (const { req, ip } of items) {
        const ord = ordinalOf(parseCidr(cidr), ip);
        const live = allocationAt(block, ord);
        if (!live) {
          result.notAllocated.push(formatIp(ip));
          continue;
        }
        if (req.handleId !== undefined && live.handleId !== req.handleId) {
          throw new ConflictError(`refusing to release ${formatIp(ip)}: it belongs to handle ${live.handleId ?? '<none>'}, not ${req.handleId}`);
        }
        if (req.sequenceNumber !== undefined && live.sequenceNumber !== req.sequenceNumber) {
          throw new ConflictError(`refusing to release ${formatIp(ip)}: it was re-assigned since (sequence number ${live.sequenceNumber}, expected ${req.sequenceNumber})`);
        }
        ordinals.push(ord);
        result.released.push(formatIp(ip));
      }
      if (ordinals.length === 0) return result;
      const perHandle = releaseOrdinals(block, ordinals, this.now(), cooldown);
      try {
        if (block.affinity === null && isEmpty(block)) await this.store.deleteBlock(cur);
        else await this.store.updateBlock(cur, block);
      } catch (err) {
        if (isConflict(err) || isNotFound(err)) continue;
        throw err;
      }
      for (const [handleId, n] of perHandle) await this.store.adjustHandle(handleId, cidr, -n);
      return result;
    }
    throw new ConflictError(`cannot release addresses in block ${cidr}: it kept changing (${DATASTORE_RETRIES} attempts)`);
  }

  async releaseByHandle(handleId: string): Promise<string[]> {
    const handle = await this.store.getHandle(handleId);
    if (!handle) return [];
    const released: string[] = [];
    for (const cidr of Object.keys(handle.value.block)) {
      const blk = await this.store.getBlock(cidr);
      if (!blk) continue;
      const ips = ordinalsForHandle(blk.value, handleId).map((o) => ({ ip: describeIp(blk.value, o), handleId }));
      if (ips.length > 0) released.push(...(await this.releaseInBlock(cidr, ips.map((i) => ({ req: i, ip: parseIp(i.ip) })), (await this.resources.config()).ipCooldownSeconds)).released);
    }
    await this.dropStaleCounts(handleId);
    return released;
  }

  /** Removes counts the handle holds for blocks that no longer hold any of its addresses (crash repair). */
  async dropStaleCounts(handleId: string): Promise<void> {
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      const handle = await this.store.getHandle(handleId);
      if (!handle) return;
      const actual: Record<string, number> = {};
      for (const cidr of Object.keys(handle.value.block)) {
        const blk = await this.store.getBlock(cidr);
        const n = blk ? ordinalsForHandle(blk.value, handleId).length : 0;
        if (n > 0) actual[cidr] = n;
      }
      if (JSON.stringify(actual) === JSON.stringify(handle.value.block)) return;
      try {
        await this.store.replaceHandle(handle, actual);
        return;
      } catch (err) {
        if (isConflict(err) || isNotFound(err)) continue;
        throw err;
      }
    }
  }

  async ipsByHandle(handleId: string): Promise<string[]> {
    const handle = await this.store.getHandle(handleId);
    if (!handle) throw new NotFoundError(`IPAM handle ${handleId} does not exist`);
    const out: string[] = [];
    for (const cidr of Object.keys(handle.value.block)) {
      const blk = await this.store.getBlock(cidr);
      if (blk) out.push(...ordinalsForHandle(blk.value, handleId).map((o) => describeIp(blk.value, o)));
    }
    return out;
  }
}

