/**
 * NodeStatusReporter (calico-node's status reporter): fills the `status` of every CalicoNodeStatus
 * whose `spec.node` is this node, from BIRD's control socket, every `updatePeriodSeconds` (once
 * when 0). The status is written next to the stored spec with compare-and-swap; a lost race is
 * retried on the next tick. `spec` is never touched. BIRD being down is reported, not thrown.
 */
import { kindInfo, resourcePrefix } from '../api/kinds.js';
import type { CalicoNodeStatusSpec } from '../api/types.js';
import type { Disposable } from '../base/lifecycle.js';
import type { Datastore } from '../datastore/datastore.js';
import { isConflict, isNotFound } from '../errors.js';
import type { BirdClient } from './bird-socket.js';
import { readBirdStatus, type BirdStatus } from './bird-status.js';
import { calicoNodeStatus } from './node-status.js';

export interface NodeStatusReporterOptions {
  ds: Datastore;
  hostname: string;
  bird: BirdClient;
  now?: () => Date;
  routerId?: () => string | undefined;
  log?: (msg: string) => void;
}

export class NodeStatusReporter implements Disposable {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(private readonly opts: NodeStatusReporterOptions) {}

  /** Checks every `intervalMs` which resources are due. */
  start(intervalMs = 1000): void {
    this.timer = setInterval(() => void this.tick(), intervalMs);
    void this.tick();
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.reportDue();
    } catch (err) {
      this.opts.log?.(`CalicoNodeStatus report failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.busy = false;
    }
  }

  /** Writes the status of every due CalicoNodeStatus of this node; returns how many were written. */
  async reportDue(): Promise<number> {
    const now = (this.opts.now ?? (() => new Date()))();
    const { items } = await this.opts.ds.list(resourcePrefix(kindInfo('CalicoNodeStatus')!));
    let bird: BirdStatus | undefined | null = null;
    let written = 0;
    for (const kv of items) {
      const doc = JSON.parse(kv.value) as { spec?: CalicoNodeStatusSpec; status?: { lastUpdated?: string } };
      if (doc.spec?.node !== this.opts.hostname) continue;
      const last = doc.status?.lastUpdated ? Date.parse(doc.status.lastUpdated) : undefined;
      const period = doc.spec.updatePeriodSeconds ?? 0;
      if (last !== undefined && (period === 0 || now.getTime() - last < period * 1000)) continue;
      if (bird === null) bird = await readBirdStatus(this.opts.bird).catch(() => undefined);
      const status = calicoNodeStatus(doc.spec.classes ?? ['Agent', 'BGP', 'Routes'], bird, now, { routerId: this.opts.routerId?.() });
      try {
        await this.opts.ds.update(kv.key, JSON.stringify({ ...doc, status }), kv.modRevision);
        written++;
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err;
      }
    }
    return written;
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
