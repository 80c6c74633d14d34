import { ConflictError, isAlreadyExists, isConflict, isNotFound } from '../errors.js';
import { affinityNode, hostAffinity, isEmpty, newBlock, type AllocationBlock } from './block.js';
import { formatCidr, parseCidr, type Cidr } from '../net/cidr.js';
import { DATASTORE_RETRIES, type BlockAffinity, type IpamStore, type Versioned } from './ipam-store.js';

/**
 * Gives blocks to nodes and takes them back, without transactions. A claim is two-phase: write the
 * node's affinity as `pending`, create the block naming the node, then mark the affinity
 * `confirmed`. Whoever creates the block wins; a loser deletes its pending affinity. A crash at any
 * step leaves a pending affinity that `resolveAffinity` (run on the node's next allocation) or the
 * checker finishes or removes. It does not choose which block to claim (the client does) nor
 * allocate addresses.
 */
export class BlockClaimer {
  constructor(
    private readonly store: IpamStore,
    private readonly now: () => Date,
  ) {}

  /**
   * Claims `cidr` for `node`. Returns the block when the node owns it (newly or already), null when
   * another node owns it.
   */
  async claim(node: string, cidr: Cidr): Promise<Versioned<AllocationBlock> | null> {
    const text = formatCidr(cidr);
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      let aff: Versioned<BlockAffinity>;
      try {
        aff = await this.store.createAffinity({ state: 'pending', node, type: 'host', cidr: text, deleted: false });
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        const existing = await this.store.getAffinity(node, text);
        if (!existing) continue; // deleted meanwhile: try to create it again
        if (existing.value.state === 'pendingDeletion') return null;
        aff = existing;
      }
      return this.resolveAffinity(aff);
    }
    throw new ConflictError(`could not claim block ${text} for node ${node}: too many concurrent changes`);
  }

  /**
   * Brings a node's affinity to a consistent state and returns its block, or null when the node
   * does not own the block (the affinity is then removed). Confirmed affinity without a block:
   * the block is recreated (crash recovery). Pending: the claim is completed or abandoned.
   */
  async resolveAffinity(aff: Versioned<BlockAffinity>): Promise<Versioned<AllocationBlock> | null> {
    const mine = hostAffinity(aff.value.node);
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      let blk = await this.store.getBlock(aff.value.cidr);
      if (!blk) {
        try {
          blk = await this.store.createBlock(newBlock(parseCidr(aff.value.cidr), mine, this.now()));
        } catch (err) {
          if (isAlreadyExists(err)) continue; // someone else created it: look again
          throw err;
        }
        // Our affinity may have been released while we created the block (a node taking over
        // an empty block): then the new block is nobody's and must go again.
        const still = await this.store.getAffinity(aff.value.node, aff.value.cidr);
        if (!still || still.value.state === 'pendingDeletion') {
          await this.store.deleteBlock(blk).catch((e: unknown) => {
            if (!isConflict(e) && !isNotFound(e)) throw e;
          });
          return null;
        }
        aff = still;
      }
      if (blk.value.affinity !== mine) {
        // Another node's block: our affinity is stale (lost claim, or crashed loser).
        await this.deleteAffinityQuietly(aff);
        return null;
      }
      if (aff.value.state === 'pending') {
        try {
          aff = await this.store.setAffinityState(aff, 'confirmed');
        } catch (err) {
          if (isConflict(err)) {
            const again = await this.store.getAffinity(aff.value.node, aff.value.cidr);
            if (!again) return null;
            aff = again;
            continue;
          }
          if (isNotFound(err)) return null;
          throw err;
        }
      }
      return blk;
    }
    throw new ConflictError(`could not settle the affinity of node ${aff.value.node} for block ${aff.value.cidr}: too many concurrent changes`);
  }

  /**
   * Gives a block up: marks the affinity pendingDeletion, deletes the block if it holds no live
   * address (or only clears its owner if it does), then deletes the affinity. With `requireEmpty`
   * a non-empty block keeps its owner and the affinity goes back to confirmed. Returns true when
   * the affinity is gone.
   */
  async releaseAffinity(node: string, cidr: string, requireEmpty: boolean): Promise<boolean> {
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      let aff = await this.store.getAffinity(node, cidr);
      if (!aff) return true;
      try {
        if (aff.value.state !== 'pendingDeletion') aff = await this.store.setAffinityState(aff, 'pendingDeletion');
        const blk = await this.store.getBlock(cidr);
        if (blk && affinityNode(blk.value) === node) {
          if (isEmpty(blk.value)) await this.store.deleteBlock(blk);
          else if (requireEmpty) {
            await this.store.setAffinityState(aff, 'confirmed');
            return false;
          } else {
            const cleared: AllocationBlock = { ...blk.value, affinity: null, affinityClaimTime: undefined };
            await this.store.updateBlock(blk, cleared);
          }
        }
        await this.store.deleteAffinity(aff);
        return true;
      } catch (err) {
        if (isConflict(err) || isNotFound(err)) continue;
        throw err;
      }
    }
    throw new ConflictError(`could not release block ${cidr} from node ${node}: too many concurrent changes`);
  }

  private async deleteAffinityQuietly(aff: Versioned<BlockAffinity>): Promise<void> {
    try {
      await this.store.deleteAffinity(aff);
    } catch (err) {
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
  }
}
