import type { Clock } from '../base/clock.js';
import type { Disposable } from '../base/lifecycle.js';
import type { FlowRecord } from './flow-record.js';
import type { FlowSink, FlowSinkStats } from './flow-sink.js';

export interface BufferedSinkOptions {
  /** Records held at most while the sink is slow or down; newer records beyond it are dropped and counted. */
  capacity?: number;
  batchSize?: number;
  /** First retry delay after a failure; doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Puts a bounded buffer in front of a sink so that a slow or dead destination never stalls the
 * caller: `offer` is synchronous and O(batch); a single pump ships batches in order, and after a
 * failure waits (exponential back-off) and retries the same batch. When the buffer is full the
 * offered records are dropped and counted (`stats().dropped`), never queued without bound.
 */
export class BufferedSink implements Disposable {
  private buf: FlowRecord[] = [];
  private pumping = false;
  private closed = false;
  private backoff: number;
  private timer: Disposable | undefined;
  private readonly s: FlowSinkStats = { sent: 0, dropped: 0, failures: 0, buffered: 0 };
  private readonly capacity: number;
  private readonly batchSize: number;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;
  private idle: (() => void)[] = [];

  constructor(readonly sink: FlowSink, private readonly clock: Clock, o: BufferedSinkOptions = {}) {
    this.capacity = o.capacity ?? 50_000;
    this.batchSize = o.batchSize ?? 1_000;
    this.minBackoff = o.backoffMs ?? 500;
    this.maxBackoff = o.maxBackoffMs ?? 30_000;
    this.backoff = this.minBackoff;
  }

  offer(records: readonly FlowRecord[]): void {
    if (this.closed) return;
    const room = this.capacity - this.buf.length;
    if (room < records.length) this.s.dropped += records.length - Math.max(0, room);
    if (room > 0) this.buf.push(...(room >= records.length ? records : records.slice(0, room)));
    this.kick();
  }

  stats(): FlowSinkStats {
    return { ...this.s, buffered: this.buf.length };
  }

  /** Resolves when the buffer is empty or the sink is backing off after a failure. */
  settled(): Promise<void> {
    if (!this.pumping || this.timer) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private kick(): void {
    if (this.pumping || this.timer || this.buf.length === 0) return;
    this.pumping = true;
    void this.pump();
  }

  private async pump(): Promise<void> {
    while (this.buf.length > 0 && !this.closed) {
      const batch = this.buf.slice(0, this.batchSize);
      try {
        await this.sink.write(batch);
        this.buf.splice(0, batch.length);
        this.s.sent += batch.length;
        this.backoff = this.minBackoff;
      } catch (err) {
        this.s.failures++;
        this.s.lastError = err instanceof Error ? err.message : String(err);
        this.pumping = false;
        this.timer = this.clock.setTimeout(() => {
          this.timer = undefined;
          this.kick();
        }, this.backoff);
        this.backoff = Math.min(this.maxBackoff, this.backoff * 2);
        this.wake();
        return;
      }
    }
    this.pumping = false;
    this.wake();
  }

  private wake(): void {
    const w = this.idle;
    this.idle = [];
    for (const f of w) f();
  }

  /** Tries to ship what is buffered (bounded by `timeoutMs`), then closes the sink. */
  async close(timeoutMs = 2_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.buf.length > 0 && !this.timer && Date.now() < deadline) await Promise.race([this.settled(), new Promise((r) => setTimeout(r, 50))]);
    this.closed = true;
    this.timer?.dispose();
    this.timer = undefined;
    this.wake();
    await this.sink.close();
  }

  dispose(): void {
    void this.close(0);
  }
}
