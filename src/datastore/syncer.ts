/**
 * Syncer (Calico's watchersyncer): keeps a consumer in step with a set of key prefixes of a
 * Datastore. For each prefix it lists, then watches from the list's revision; it delivers decoded
 * updates `{key, value | null}` in batches (one per list, one per watch delivery) and reports a
 * status:
 *
 *   wait-for-datastore  not reached yet, or lost (list failed, watch disconnected or failed; `cause` says why)
 *   resync              reached; some prefix is being (re-)listed
 *   in-sync             every prefix listed and watched; everything up to now was delivered
 *
 * It never loses or repeats a change: it remembers the revision of every key it delivered, so a
 * re-list (after compaction, or after a failed watch) sends only what differs (changed keys and
 * deletes of vanished ones), and a replayed watch event is dropped. Failed lists and watches are
 * retried with exponential back-off on the Clock; compaction re-lists at once. Status is reported
 * only when it changes (and once more when a wait first gets a cause). Updates of one prefix come in revision order; prefixes are independent.
 */
import { RESOURCE_KEY_ROOT } from '../api/keys.js';
import { systemClock, type Clock } from '../base/clock.js';
import type { Disposable } from '../base/lifecycle.js';
import { CompactedError } from '../errors.js';
import type { Datastore, KeyValue, Watch, WatchEvent } from './datastore.js';
import { decodeResource } from './resource-codec.js';

export type SyncStatus = 'wait-for-datastore' | 'resync' | 'in-sync';

export interface SyncUpdate<V = unknown> {
  key: string;
  /** Decoded value; null when the key was deleted (or its value cannot be decoded). */
  value: V | null;
  /** Revision of the change (for a delete found by a re-list: the list's revision). */
  revision: number;
}

export interface SyncerCallbacks<V = unknown> {
  onUpdates(updates: readonly SyncUpdate<V>[]): void;
  onStatus(status: SyncStatus, cause?: Error): void;
}

export interface SyncerOptions<V = unknown> {
  prefixes: readonly string[];
  clock?: Clock;
  /** Default: resources (keys under `/brindle/v3/`) through the resource codec, anything else as JSON. */
  decode?: (kv: KeyValue) => V;
  /** Retry back-off after a failure: doubles from min to max (ms). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** The default decoder: the stored resource (with resourceVersion), or the JSON value of an IPAM key. */
export function decodeValue(kv: KeyValue): unknown {
  return kv.key.startsWith(RESOURCE_KEY_ROOT) ? decodeResource(kv) : JSON.parse(kv.value);
}

interface PrefixState {
  prefix: string;
  /** key → modRevision of what was delivered. */
  known: Map<string, number>;
  phase: 'waiting' | 'listing' | 'watching';
  /** Why it is not in step (list or watch failure, disconnect); undefined when fine. */
  cause?: Error;
  watch?: Watch;
  retry?: Disposable;
  backoffMs: number;
  /** Bumped on every (re-)list: callbacks of an older list or watch are ignored. */
  generation: number;
}

export class Syncer<V = unknown> implements Disposable {
  private readonly clock: Clock;
  private readonly decode: (kv: KeyValue) => V;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;
  private readonly states: PrefixState[];
  private reported: { status: SyncStatus; cause?: Error } | undefined;
  /** Some list succeeded since the last failure: the datastore is reachable. */
  private reached = false;
  private started = false;
  private disposed = false;

  constructor(private readonly ds: Datastore, private readonly callbacks: SyncerCallbacks<V>, opts: SyncerOptions<V>) {
    if (opts.prefixes.length === 0) throw new Error('a syncer needs at least one prefix');
    this.clock = opts.clock ?? systemClock;
    this.decode = opts.decode ?? (decodeValue as (kv: KeyValue) => V);
    this.minBackoff = opts.minBackoffMs ?? 100;
    this.maxBackoff = opts.maxBackoffMs ?? 5000;
    this.states = opts.prefixes.map((prefix) => ({ prefix, known: new Map(), phase: 'waiting', backoffMs: this.minBackoff, generation: 0 }));
  }

  get status(): SyncStatus {
    return this.reported?.status ?? 'wait-for-datastore';
  }

  start(): void {
    if (this.started || this.disposed) return;
    this.started = true;
    this.report();
    for (const s of this.states) void this.list(s);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.states) {
      s.generation++;
      s.watch?.dispose();
      s.retry?.dispose();
    }
  }

  private async list(s: PrefixState): Promise<void> {
    const gen = ++s.generation;
    s.watch?.dispose();
    s.watch = undefined;
    s.retry?.dispose();
    s.retry = undefined;
    if (s.phase === 'watching') s.phase = 'listing';
    let listed;
    try {
      listed = await this.ds.list(s.prefix);
    } catch (err) {
      if (gen === s.generation && !this.disposed) this.failed(s, err);
      return;
    }
    if (gen !== s.generation || this.disposed) return;
    this.deliver(this.diff(s, listed.items, listed.revision));
    s.phase = 'watching';
    s.cause = undefined;
    s.backoffMs = this.minBackoff;
    this.reached = true;
    try {
      s.watch = this.watch(s, gen, listed.revision);
    } catch (err) {
      this.failed(s, err);
      return;
    }
    this.report();
  }

  private watch(s: PrefixState, gen: number, revision: number): Watch {
    return this.ds.watch(s.prefix, revision, {
      onEvents: (events) => {
        if (gen === s.generation && !this.disposed) this.deliver(this.apply(s, events));
      },
      onStatus: (st) => {
        if (gen !== s.generation || this.disposed) return;
        s.cause = st.state === 'disconnected' ? st.cause : undefined;
        this.report();
      },
      onError: (err) => {
        if (gen !== s.generation || this.disposed) return;
        s.watch = undefined;
        if (err instanceof CompactedError) {
          s.cause = undefined;
          s.phase = 'listing';
          this.report(err);
          void this.list(s);
        } else {
          this.failed(s, err);
        }
      },
    });
  }

  private failed(s: PrefixState, err: unknown): void {
    s.phase = 'waiting';
    s.cause = err instanceof Error ? err : new Error(String(err));
    s.watch?.dispose();
    s.watch = undefined;
    this.reached = false;
    this.report();
    const delay = s.backoffMs;
    s.backoffMs = Math.min(this.maxBackoff, s.backoffMs * 2);
    s.retry = this.clock.setTimeout(() => {
      s.retry = undefined;
      if (!this.disposed) void this.list(s);
    }, delay);
  }

  /** Updates that take the delivered state of `s` to the listed one. */
  private diff(s: PrefixState, items: KeyValue[], revision: number): SyncUpdate<V>[] {
    const out: SyncUpdate<V>[] = [];
    const present = new Set<string>();
    for (const kv of items) {
      present.add(kv.key);
      if (s.known.get(kv.key) === kv.modRevision) continue;
      s.known.set(kv.key, kv.modRevision);
      out.push(this.update(kv));
    }
    for (const key of [...s.known.keys()]) {
      if (present.has(key)) continue;
      s.known.delete(key);
      out.push({ key, value: null, revision });
    }
    return out;
  }

  /** Watch events as updates, dropping any the consumer already has. */
  private apply(s: PrefixState, events: WatchEvent[]): SyncUpdate<V>[] {
    const out: SyncUpdate<V>[] = [];
    for (const e of events) {
      if (e.type === 'put') {
        if ((s.known.get(e.kv.key) ?? -1) >= e.kv.modRevision) continue;
        s.known.set(e.kv.key, e.kv.modRevision);
        out.push(this.update(e.kv));
      } else {
        if (!s.known.has(e.key)) continue;
        s.known.delete(e.key);
        out.push({ key: e.key, value: null, revision: e.modRevision });
      }
    }
    return out;
  }

  private update(kv: KeyValue): SyncUpdate<V> {
    let value: V | null;
    try {
      value = this.decode(kv);
    } catch {
      value = null; // as Felix's validation filter: a value that cannot be read is absent
    }
    return { key: kv.key, value, revision: kv.modRevision };
  }

  private deliver(updates: SyncUpdate<V>[]): void {
    if (updates.length > 0) this.callbacks.onUpdates(updates);
  }

  private report(cause?: Error): void {
    if (!this.started || this.disposed) return;
    const down = this.states.find((s) => s.cause !== undefined);
    let next: { status: SyncStatus; cause?: Error };
    if (down) next = { status: 'wait-for-datastore', cause: down.cause! };
    else if (this.states.every((s) => s.phase === 'watching')) next = { status: 'in-sync' };
    else if (this.reached || this.states.some((s) => s.phase === 'listing')) next = cause ? { status: 'resync', cause } : { status: 'resync' };
    else next = { status: 'wait-for-datastore' };
    // Only changes: a new status, or the first cause of a wait (a known outage is not repeated).
    if (this.reported?.status === next.status && (this.reported.cause !== undefined || next.cause === undefined)) return;
    this.reported = next;
    if (next.cause) this.callbacks.onStatus(next.status, next.cause);
    else this.callbacks.onStatus(next.status);
  }
}
