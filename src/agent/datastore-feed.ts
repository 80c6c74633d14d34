/**
 * Feeds the agent from the datastore: lists everything under `/brindle/`, then watches from that
 * revision; re-lists after a compaction (sending deletions for keys that vanished) and retries
 * while the datastore is unreachable. Reports its status (`wait-for-datastore`, `resync`,
 * `in-sync`). The agent's stand-in until the shared datastore syncer lands; same shape.
 */
import type { Clock } from '../base/clock.js';
import type { Disposable } from '../base/lifecycle.js';
import { RESOURCE_KEY_ROOT } from '../api/kinds.js';
import type { Update } from '../calc/graph.js';
import { IPAM_BLOCK_PREFIX } from '../calc/graph.js';
import type { Datastore, KeyValue, Watch } from '../datastore/datastore.js';
import { decodeResource } from '../datastore/resource-codec.js';
import { CompactedError } from '../errors.js';

export type SyncStatus = 'wait-for-datastore' | 'resync' | 'in-sync';

export interface FeedCallbacks {
  onUpdates(u: readonly Update[]): void;
  onStatus(s: SyncStatus, cause?: Error): void;
}

function decode(kv: KeyValue): Update {
  try {
    if (kv.key.startsWith(IPAM_BLOCK_PREFIX)) return { key: kv.key, value: JSON.parse(kv.value) };
    if (kv.key.startsWith(RESOURCE_KEY_ROOT)) return { key: kv.key, value: decodeResource(kv) };
  } catch {
    // undecodable: treated as absent (validation filter)
  }
  return { key: kv.key, value: null };
}

export class DatastoreFeed implements Disposable {
  private watch: Watch | undefined;
  private readonly known = new Set<string>();
  private disposed = false;
  private timer: Disposable | undefined;
  status: SyncStatus = 'wait-for-datastore';

  constructor(private readonly ds: Datastore, private readonly clock: Clock, private readonly cb: FeedCallbacks, private readonly prefix = '/brindle/') {}

  start(): void {
    void this.relist(0);
  }

  private setStatus(s: SyncStatus, cause?: Error): void {
    this.status = s;
    this.cb.onStatus(s, cause);
  }

  private async relist(attempt: number): Promise<void> {
    if (this.disposed) return;
    this.watch?.dispose();
    this.watch = undefined;
    let list;
    try {
      list = await this.ds.list(this.prefix);
    } catch (err) {
      this.setStatus('wait-for-datastore', err as Error);
      this.timer = this.clock.setTimeout(() => void this.relist(attempt + 1), Math.min(5000, 200 * 2 ** Math.min(attempt, 5)));
      return;
    }
    if (this.disposed) return;
    this.setStatus('resync');
    const updates: Update[] = [];
    const seen = new Set<string>();
    for (const kv of list.items) {
      seen.add(kv.key);
      updates.push(decode(kv));
    }
    for (const k of this.known) if (!seen.has(k)) updates.push({ key: k, value: null });
    this.known.clear();
    for (const k of seen) this.known.add(k);
    this.cb.onUpdates(updates);
    this.setStatus('in-sync');
    this.watch = this.ds.watch(this.prefix, list.revision, {
      onEvents: (events) => {
        const u: Update[] = [];
        for (const e of events) {
          if (e.type === 'put') {
            this.known.add(e.kv.key);
            u.push(decode(e.kv));
          } else {
            this.known.delete(e.key);
            u.push({ key: e.key, value: null });
          }
        }
        this.cb.onUpdates(u);
      },
      onError: (err) => {
        if (this.disposed) return;
        if (!(err instanceof CompactedError)) this.setStatus('wait-for-datastore', err);
        this.timer = this.clock.setTimeout(() => void this.relist(0), err instanceof CompactedError ? 0 : 500);
      },
    });
  }

  dispose(): void {
    this.disposed = true;
    this.watch?.dispose();
    void this.timer?.dispose();
  }
}
