import type { Datastore, KeyValue } from '../datastore/datastore.js';
import { ConflictError, isAlreadyExists, isConflict, isNotFound } from '../errors.js';
import type { AllocationBlock } from './block.js';
import type { IpFamily } from '../net/cidr.js';
import { affinityKey, ALL_AFFINITIES_PREFIX, blockKey, blockPrefix, HANDLE_PREFIX, handleKey, hostAffinityPrefix } from '../api/keys.js';

/**
 * Typed, compare-and-swap access to IPAM's three kinds of record: blocks, block affinities and
 * handles. Every write names the revision it read; a lost race surfaces as ConflictError for the
 * caller's bounded retry loop. Handle counting lives here because it is a small retry loop of its own.
 */

export type AffinityState = 'pending' | 'confirmed' | 'pendingDeletion';

export interface BlockAffinity {
  state: AffinityState;
  node: string;
  type: 'host';
  cidr: string;
  deleted: boolean;
}

export interface IpamHandle {
  handleID: string;
  /** Block CIDR → number of addresses this handle holds there. */
  block: Record<string, number>;
  deleted: boolean;
}

/** A record with the revision it was read at (the expected revision for the next write). */
export interface Versioned<T> {
  key: string;
  value: T;
  revision: number;
}

/** How many times a compare-and-swap loop re-reads and tries again before giving up (Calico: 100). */
export const DATASTORE_RETRIES = 100;

function versioned<T>(kv: KeyValue): Versioned<T> {
  return { key: kv.key, value: JSON.parse(kv.value) as T, revision: kv.modRevision };
}

export class IpamStore {
  constructor(readonly ds: Datastore) {}

  // ------------------------------------------------------------------ blocks

  async getBlock(cidr: string): Promise<Versioned<AllocationBlock> | null> {
    const kv = await this.ds.get(blockKey(cidr));
    return kv ? versioned<AllocationBlock>(kv) : null;
  }

  async listBlocks(family?: IpFamily): Promise<Versioned<AllocationBlock>[]> {
    const families: IpFamily[] = family ? [family] : [4, 6];
    const out: Versioned<AllocationBlock>[] = [];
    for (const f of families) out.push(...(await this.ds.list(blockPrefix(f))).items.map((kv) => versioned<AllocationBlock>(kv)));
    return out;
  }

  async createBlock(block: AllocationBlock): Promise<Versioned<AllocationBlock>> {
    const kv = await this.ds.create(blockKey(block.cidr), JSON.stringify(block));
    return versioned<AllocationBlock>(kv);
  }

  /** Writes the block at the revision it was read at, bumping its sequence number first. */
  async updateBlock(read: Versioned<AllocationBlock>, block: AllocationBlock): Promise<Versioned<AllocationBlock>> {
    block.sequenceNumber += 1;
    const kv = await this.ds.update(read.key, JSON.stringify(block), read.revision);
    return versioned<AllocationBlock>(kv);
  }

  async deleteBlock(read: Versioned<AllocationBlock>): Promise<void> {
    await this.ds.delete(read.key, read.revision);
  }

  // ------------------------------------------------------------------ affinities

  async getAffinity(node: string, cidr: string): Promise<Versioned<BlockAffinity> | null> {
    const kv = await this.ds.get(affinityKey(node, cidr));
    return kv ? versioned<BlockAffinity>(kv) : null;
  }

  /** Affinities of one node (one family or both), or of every node when `node` is undefined. */
  async listAffinities(node?: string, family?: IpFamily): Promise<Versioned<BlockAffinity>[]> {
    const prefix = node === undefined ? ALL_AFFINITIES_PREFIX : hostAffinityPrefix(node, family);
    const items = (await this.ds.list(prefix)).items.map((kv) => versioned<BlockAffinity>(kv));
    // a node name that is a prefix of another ("n1" / "n10") is excluded by the trailing slash
    return family === undefined || node !== undefined ? items : items.filter((a) => a.key.includes(family === 4 ? '/ipv4/' : '/ipv6/'));
  }

  async createAffinity(a: BlockAffinity): Promise<Versioned<BlockAffinity>> {
    return versioned<BlockAffinity>(await this.ds.create(affinityKey(a.node, a.cidr), JSON.stringify(a)));
  }

  async setAffinityState(read: Versioned<BlockAffinity>, state: AffinityState): Promise<Versioned<BlockAffinity>> {
    const next = { ...read.value, state };
    return versioned<BlockAffinity>(await this.ds.update(read.key, JSON.stringify(next), read.revision));
  }

  async deleteAffinity(read: Versioned<BlockAffinity>): Promise<void> {
    await this.ds.delete(read.key, read.revision);
  }

  // ------------------------------------------------------------------ handles

  async getHandle(handleId: string): Promise<Versioned<IpamHandle> | null> {
    const kv = await this.ds.get(handleKey(handleId));
    return kv ? versioned<IpamHandle>(kv) : null;
  }

  async listHandles(): Promise<Versioned<IpamHandle>[]> {
    return (await this.ds.list(HANDLE_PREFIX)).items.map((kv) => versioned<IpamHandle>(kv));
  }

  /**
   * Adds `delta` (may be negative) to the handle's count for one block; deletes the handle at zero.
   * `likelyNew` tries a create before reading (one round trip for a new handle).
   */
  async adjustHandle(handleId: string, cidr: string, delta: number, likelyNew = false): Promise<void> {
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      const cur = likelyNew && attempt === 0 && delta > 0 ? null : await this.getHandle(handleId);
      if (!cur) {
        if (delta <= 0) return; // nothing to take away
        const h: IpamHandle = { handleID: handleId, block: { [cidr]: delta }, deleted: false };
        try {
          await this.ds.create(handleKey(handleId), JSON.stringify(h));
          return;
        } catch (err) {
          if (isAlreadyExists(err)) continue;
          throw err;
        }
      }
      const next: IpamHandle = { ...cur.value, block: { ...cur.value.block } };
      const count = (next.block[cidr] ?? 0) + delta;
      if (count > 0) next.block[cidr] = count;
      else delete next.block[cidr];
      try {
        if (Object.keys(next.block).length === 0) await this.ds.delete(cur.key, cur.revision);
        else await this.ds.update(cur.key, JSON.stringify(next), cur.revision);
        return;
      } catch (err) {
        if (isConflict(err) || isNotFound(err)) continue;
        throw err;
      }
    }
    throw new ConflictError(`could not update IPAM handle ${handleId}: still losing races after ${DATASTORE_RETRIES} attempts`);
  }

  /** Replaces a handle's block counts (deleting it when empty), at the revision it was read at. */
  async replaceHandle(read: Versioned<IpamHandle>, blocks: Record<string, number>): Promise<void> {
    if (Object.keys(blocks).length === 0) await this.ds.delete(read.key, read.revision);
    else await this.ds.update(read.key, JSON.stringify({ ...read.value, block: blocks }), read.revision);
  }
}
