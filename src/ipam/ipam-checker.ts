import { isAlreadyExists, isConflict, isNotFound, UsageError } from '../errors.js';
import { allocationAt, blockCidr, inUseOrdinals, ordinalForIp } from './block.js';
import { formatIp, ipAt, parseIp } from '../net/cidr.js';
import type { AddressReleaser } from './address-releaser.js';
import { DATASTORE_RETRIES, type IpamStore } from './ipam-store.js';
import { handleKey } from '../api/keys.js';
import { buildReport, leakReason, ownerIndex, type IpamCheckReport, type IpamSnapshot } from './ipam-report.js';
import type { ResourceReader } from './resource-reader.js';

export interface RepairSummary {
  releasedIps: string[];
  /** Handles whose leaked addresses were not released because something changed since the report. */
  skippedHandles: { handleId: string; reason: string }[];
  deletedHandles: string[];
  repairedHandles: string[];
  deletedAffinities: { node: string; cidr: string }[];
  /** Blocks without their node's affinity: deleted when empty, otherwise given the affinity back. */
  repairedBlocks: string[];
}

/**
 * Audits IPAM (`check`) and repairs what a report found (`repair`): releases leaked addresses
 * all-or-none per handle after re-validating each against fresh data and its sequence number,
 * deletes empty handles, recounts handles that disagree with their blocks, and removes affinities
 * left by interrupted claims. Like Calico's `ipam release --from-report`, run it while nothing
 * else is allocating: a handle counted by an allocation still in flight looks like a mismatch.
 */
export class IpamChecker {
  constructor(
    private readonly store: IpamStore,
    private readonly resources: ResourceReader,
    private readonly releaser: AddressReleaser,
    private readonly now: () => Date,
  ) {}

  async snapshot(): Promise<IpamSnapshot> {
    const [blocks, affinities, handles, pools, nodes, workloadEndpoints] = await Promise.all([
      this.store.listBlocks(),
      this.store.listAffinities(),
      this.store.listHandles(),
      this.resources.pools(),
      this.resources.nodes(),
      this.resources.workloadEndpoints(),
    ]);
    return { blocks: blocks.map((b) => b.value), affinities: affinities.map((a) => a.value), handles: handles.map((h) => h.value), pools, nodes, workloadEndpoints };
  }

  async check(): Promise<IpamCheckReport> {
    return buildReport(await this.snapshot(), this.store.ds.url, this.now());
  }

  async repair(report: IpamCheckReport): Promise<RepairSummary> {
    if (report?.kind !== 'BrindleIpamCheckReport' || report.version !== 1) throw new UsageError('not a Brindle IPAM check report (expected kind BrindleIpamCheckReport, version 1)');
    const out: RepairSummary = { releasedIps: [], skippedHandles: [], deletedHandles: [], repairedHandles: [], deletedAffinities: [], repairedBlocks: [] };
    await this.releaseLeaks(report, out);
    const fresh = await this.snapshot();
    for (const { handleId } of report.handlesWithNoIps) {
      if (await this.recount(handleId)) out.deletedHandles.push(handleId);
    }
    for (const handleId of new Set(report.handleMismatches.map((m) => m.handleId))) {
      if (await this.recount(handleId)) out.repairedHandles.push(handleId);
    }
    for (const d of report.danglingAffinities) {
      const aff = await this.store.getAffinity(d.node, d.cidr);
      if (!aff) continue;
      const b = fresh.blocks.find((x) => x.cidr === d.cidr);
      const owned = b?.affinity === `host:${d.node}`;
      if (owned && aff.value.state === 'confirmed') continue; // healed since the report
      try {
        if (owned && inUseOrdinals(b!).length > 0) {
          // A live block whose claim or release was interrupted: it stays its node's.
          await this.store.setAffinityState(aff, 'confirmed');
          out.repairedBlocks.push(d.cidr);
          continue;
        }
        if (owned) {
          const cur = await this.store.getBlock(d.cidr);
          if (cur && inUseOrdinals(cur.value).length > 0) continue; // allocated from since: leave it
          if (cur) await this.store.deleteBlock(cur);
        }
        await this.store.deleteAffinity(aff);
        out.deletedAffinities.push({ node: d.node, cidr: d.cidr });
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err;
      }
    }
    for (const o of report.blocksWithoutAffinity ?? []) {
      const blk = await this.store.getBlock(o.cidr);
      if (!blk || blk.value.affinity !== `host:${o.node}` || (await this.store.getAffinity(o.node, o.cidr))) continue;
      try {
        if (inUseOrdinals(blk.value).length === 0) await this.store.deleteBlock(blk);
        else await this.store.createAffinity({ state: 'confirmed', node: o.node, type: 'host', cidr: o.cidr, deleted: false });
        out.repairedBlocks.push(o.cidr);
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err) && !isAlreadyExists(err)) throw err;
      }
    }
    return out;
  }

  /** All-or-none per handle, each address re-validated against fresh data right before release. */
  private async releaseLeaks(report: IpamCheckReport, out: RepairSummary): Promise<void> {
    const byHandle = new Map<string, typeof report.leakedIps>();
    for (const l of report.leakedIps) {
      const k = l.handleId ?? '';
      byHandle.set(k, [...(byHandle.get(k) ?? []), l]);
    }
    if (byHandle.size === 0) return;
    const snap = await this.snapshot();
    const owners = ownerIndex(snap.nodes, snap.workloadEndpoints);
    const blocks = new Map(snap.blocks.map((b) => [b.cidr, b]));
    for (const [handleId, leaks] of byHandle) {
      let reason: string | undefined;
      for (const l of leaks) {
        const b = blocks.get(l.block);
        const live = b ? allocationAt(b, ordinalForIp(b, parseIp(l.ip))) : undefined;
        if (!live || (live.handleId ?? '') !== handleId || live.sequenceNumber !== l.sequenceNumber) reason = `${l.ip} changed since the report`;
        else if (!leakReason(l.ip, live.attrs, owners)) reason = `${l.ip} is in use again`;
        if (reason) break;
      }
      // Every current address of the handle must be a reported leak, or none is released.
      if (!reason && handleId) {
        const reported = new Set(leaks.map((l) => l.ip));
        for (const b of snap.blocks) {
          for (const o of inUseOrdinals(b)) {
            const live = allocationAt(b, o)!;
            const ip = formatIp(ipAt(blockCidr(b), o));
            if (live.handleId === handleId && !reported.has(ip)) reason = `handle also holds ${ip}, which is not reported as leaked`;
          }
        }
      }
      if (reason) {
        out.skippedHandles.push({ handleId, reason });
        continue;
      }
      try {
        const res = await this.releaser.releaseIps(leaks.map((l) => ({ ip: l.ip, handleId: l.handleId ?? undefined, sequenceNumber: l.sequenceNumber })));
        out.releasedIps.push(...res.released);
      } catch (err) {
        out.skippedHandles.push({ handleId, reason: (err as Error).message });
      }
    }
  }

  /** Sets a handle's counts to what the blocks hold (creating or deleting it). True if it changed. */
  private async recount(handleId: string): Promise<boolean> {
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      const actual: Record<string, number> = {};
      for (const b of await this.store.listBlocks()) {
        const n = inUseOrdinals(b.value).filter((o) => allocationAt(b.value, o)!.handleId === handleId).length;
        if (n > 0) actual[b.value.cidr] = n;
      }
      const h = await this.store.getHandle(handleId);
      try {
        if (!h) {
          if (Object.keys(actual).length === 0) return false;
          await this.store.ds.create(handleKey(handleId), JSON.stringify({ handleID: handleId, block: actual, deleted: false }));
          return true;
        }
        if (JSON.stringify(sorted(actual)) === JSON.stringify(sorted(h.value.block))) return false;
        await this.store.replaceHandle(h, actual);
        return true;
      } catch (err) {
        if (isConflict(err) || isNotFound(err) || isAlreadyExists(err)) continue;
        throw err;
      }
    }
    return false;
  }
}

function sorted(m: Record<string, number>): [string, number][] {
  return Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1));
}
