import type { IWatchResponse, WatchClient } from 'etcd3';
import { CompactedError, UnavailableError } from '../errors.js';
import { isTransientEtcdError } from './etcd-errors.js';
import type { KeyValue, Watch, WatchEvent, WatchHandlers, WatchStatus } from './datastore.js';

type WatchStream = Awaited<ReturnType<WatchClient['watch']>>;

/** Watch cancel reasons that retrying cannot fix: the request is not allowed or not valid. */
const REFUSAL = /code = (PermissionDenied|Unauthenticated|InvalidArgument|FailedPrecondition)\b|permission denied|user name is empty|watcher range is empty/i;

const BACKOFF_MIN_MS = 25;
const BACKOFF_MAX_MS = 1000;

/**
 * One etcd watch on a key range that survives disconnects. It owns a gRPC watch stream; when the
 * stream fails (member killed, leader change, network) it opens a new one from the revision after
 * the last event it delivered, so the caller sees every change once, in order, with no gaps. It
 * reports a lost stream as `onStatus(disconnected)` (once per outage) and `onStatus(connected)`
 * when a new stream is established; `onError` only for terminal errors: CompactedError when etcd
 * no longer has the history it needs, UnavailableError when the watch is refused.
 *
 * It does not list; callers list first and watch from the list's revision.
 */
export class EtcdWatchStream implements Watch {
  private stream: WatchStream | null = null;
  private disposed = false;
  private backoffMs = BACKOFF_MIN_MS;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Set while the stream is lost (reported disconnected), until a new one is created. */
  private down = false;
  /** Revision of the last event handed to the caller (or the revision the caller started after). */
  private last: number;

  constructor(
    private readonly client: WatchClient,
    private readonly key: Buffer,
    private readonly rangeEnd: Buffer,
    fromRevision: number,
    private readonly handlers: WatchHandlers,
  ) {
    this.last = fromRevision;
    void this.connect();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.dropStream();
  }

  private async connect(): Promise<void> {
    if (this.disposed) return;
    let stream: WatchStream;
    try {
      stream = await this.client.watch();
    } catch (err) {
      this.reportDown(err);
      this.scheduleReconnect();
      return;
    }
    if (this.disposed) {
      cancelQuietly(stream);
      return;
    }
    this.stream = stream;
    let failed = false;
    const fail = (cause?: unknown) => {
      if (failed || this.stream !== stream) return;
      failed = true;
      this.dropStream();
      this.reportDown(cause ?? new Error('the watch stream ended'));
      this.scheduleReconnect();
    };
    stream.on('data', (res: IWatchResponse) => {
      if (this.stream === stream) this.onResponse(res, fail);
    });
    stream.on('error', fail);
    stream.on('end', fail);
    stream.write({
      create_request: { key: this.key, range_end: this.rangeEnd, start_revision: this.last + 1 },
    });
  }

  private onResponse(res: IWatchResponse, fail: (cause?: unknown) => void): void {
    if (this.disposed) return;
    const compactRevision = Number(res.compact_revision ?? 0);
    if (compactRevision > 0) {
      this.disposed = true;
      this.dropStream();
      this.handlers.onError(new CompactedError(
        `watch from revision ${this.last}: etcd history compacted to ${compactRevision}`, compactRevision,
      ));
      return;
    }
    if (res.canceled) {
      // A refusal that will not change by retrying (permission denied) is terminal; anything else
      // (leader lost, member stopping, no reason given) resumes on a new stream.
      const reason = res.cancel_reason ?? '';
      if (REFUSAL.test(reason) && !isTransientEtcdError(new Error(reason))) {
        this.disposed = true;
        this.dropStream();
        const why = reason.replace(/^rpc error: code = \w+ desc = /, '');
        this.handlers.onError(new UnavailableError(`watch of ${this.key.toString('utf8')} on etcd was refused: ${why}`));
        return;
      }
      fail(new Error(`etcd cancelled the watch${reason ? `: ${reason}` : ''}`));
      return;
    }
    if (res.created) {
      this.backoffMs = BACKOFF_MIN_MS;
      if (this.down) {
        this.down = false;
        this.status({ state: 'connected' });
      }
    }
    const events: WatchEvent[] = [];
    for (const ev of res.events ?? []) {
      const rev = Number(ev.kv.mod_revision);
      if (rev <= this.last) continue;
      events.push(toWatchEvent(ev.type, ev.kv));
    }
    if (events.length === 0) return;
    const lastEvent = events[events.length - 1]!;
    this.last = lastEvent.type === 'put' ? lastEvent.kv.modRevision : lastEvent.modRevision;
    this.backoffMs = BACKOFF_MIN_MS;
    try {
      this.handlers.onEvents(events);
    } catch (err) {
      // A handler's bug must not be mistaken for a stream failure: rethrow outside the stream.
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  private reportDown(cause: unknown): void {
    if (this.down || this.disposed) return;
    this.down = true;
    const why = cause instanceof Error ? cause.message : String(cause);
    this.status({ state: 'disconnected', cause: new UnavailableError(`watch of ${this.key.toString('utf8')} on etcd lost its stream (${why}); reconnecting`, { cause }) });
  }

  private status(s: WatchStatus): void {
    try {
      this.handlers.onStatus?.(s);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  private scheduleReconnect(): void {
    if (this.disposed || this.retryTimer) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
  }

  private dropStream(): void {
    const s = this.stream;
    this.stream = null;
    if (s) cancelQuietly(s);
  }
}

function cancelQuietly(stream: WatchStream): void {
  try {
    stream.on('error', () => undefined);
    stream.cancel();
  } catch {
    // already closed
  }
}

export function toWatchEvent(type: string, kv: { key: Buffer; value: Buffer; create_revision: string; mod_revision: string }): WatchEvent {
  if (type === 'Delete') return { type: 'delete', key: kv.key.toString('utf8'), modRevision: Number(kv.mod_revision) };
  return { type: 'put', kv: toKeyValue(kv) };
}

export function toKeyValue(kv: { key: Buffer; value: Buffer; create_revision: string; mod_revision: string }): KeyValue {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value.toString('utf8'),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
  };
}
