import type { Clock } from '../base/clock.js';
import type { Disposable } from '../base/lifecycle.js';
import type { Resource } from '../api/types.js';
import type { ResourceClient } from '../datastore/resource-client.js';
import { isNotFound } from '../errors.js';
import type { KubeObject } from './kube-resources.js';
import { WorkQueue } from './work-queue.js';

/**
 * Mirrors one Kubernetes resource into Brindle resources it converts to (Namespace → Profile
 * `kns.*`, ServiceAccount → `ksa.*`, NetworkPolicy → `knp.default.*`, the admin policies →
 * `kube-admin`/`kube-baseline` GlobalNetworkPolicies). Level-triggered: for a changed object it
 * writes what the object converts to now and deletes what it converted to before; on a full
 * resync (start, every re-list) it compares everything it owns in the datastore with the
 * Kubernetes store, writes the differences and deletes what no longer exists, so changes missed
 * while the controller was down are caught up. Writes go through the ResourceClient (validated).
 * It does not watch the datastore: a stored resource edited by hand is repaired at the next resync.
 */

export interface MirrorSpec {
  name: string;
  /** Stored kinds this controller writes (listed on resync). */
  kinds: readonly string[];
  /** True for a stored resource this controller owns, whether or not its object still exists. */
  owns(r: Resource): boolean;
  /** The Brindle documents one Kubernetes object becomes (validated and converted by the client). */
  convert(obj: KubeObject): unknown[];
}

export interface MirrorStats {
  writes: number;
  deletes: number;
  unchanged: number;
  invalid: number;
  resyncs: number;
}

export type ControllerLog = (msg: string) => void;

const RESYNC_CHUNK = 500;
const identity = (r: Resource): string => `${r.kind}|${r.metadata.namespace ?? ''}|${r.metadata.name}`;

export class MirrorController implements Disposable {
  readonly stats: MirrorStats = { writes: 0, deletes: 0, unchanged: 0, invalid: 0, resyncs: 0 };
  private readonly queue: WorkQueue;
  /** Kubernetes key → identities of what it was written as. */
  private readonly written = new Map<string, Resource[]>();
  /** Called after each write or delete with the stored identity (latency measurements). */
  onWritten: ((id: string) => void) | undefined;

  constructor(
    private readonly spec: MirrorSpec,
    private readonly store: ReadonlyMap<string, KubeObject>,
    private readonly client: ResourceClient,
    private readonly log: ControllerLog,
    clock?: Clock,
  ) {
    this.queue = new WorkQueue({ process: (k) => this.process(k), resync: () => this.resync(), onError: (what, err) => this.log(`${spec.name}: ${what}: ${err.message}; retrying`) }, clock);
  }

  onChange(key: string): void {
    this.queue.add(key);
  }

  onReplace(): void {
    this.queue.requestResync();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  dispose(): void {
    this.queue.dispose();
  }

  /** The prepared resources an object converts to; an unconvertible object converts to nothing (logged). */
  private desired(key: string, obj: KubeObject | undefined): Resource[] {
    if (!obj) return [];
    try {
      return this.spec.convert(obj).map((d) => this.client.prepare(d));
    } catch (err) {
      this.stats.invalid++;
      this.log(`${this.spec.name}: ${key} is not converted: ${(err as Error).message}`);
      return [];
    }
  }

  private async process(key: string): Promise<void> {
    const next = this.desired(key, this.store.get(key));
    const before = this.written.get(key) ?? [];
    for (const r of next) await this.write(r);
    const keep = new Set(next.map(identity));
    for (const r of before) if (!keep.has(identity(r))) await this.remove(r);
    if (next.length > 0) this.written.set(key, next);
    else this.written.delete(key);
  }

  private async resync(): Promise<void> {
    this.stats.resyncs++;
    const want = new Map<string, Resource>();
    this.written.clear();
    for (const [key, obj] of this.store) {
      const rs = this.desired(key, obj);
      for (const r of rs) want.set(identity(r), r);
      if (rs.length > 0) this.written.set(key, rs);
    }
    const stored = new Map<string, Resource>();
    for (const kind of this.spec.kinds) for (const r of (await this.client.list(kind)).items) if (this.spec.owns(r)) stored.set(identity(r), r);
    const changed: Resource[] = [];
    for (const [id, r] of want) {
      const cur = stored.get(id);
      if (cur && sameContent(cur, r)) this.stats.unchanged++;
      else changed.push(r);
    }
    const gone = [...stored].filter(([id]) => !want.has(id)).map(([, r]) => r);
    // One checked batch per chunk (the client's batch rules); a failed chunk retries the whole resync.
    for (let i = 0; i < changed.length; i += RESYNC_CHUNK) {
      const { written } = await this.client.applyBatch(changed.slice(i, i + RESYNC_CHUNK).map((doc) => ({ doc, origin: `${this.spec.name}:` })), { mode: 'apply' });
      this.stats.writes += written.length;
      for (const r of written) this.onWritten?.(identity(r));
    }
    if (gone.length > 0) {
      const { deleted } = await this.client.deleteBatch(gone.map((r) => ({ kind: r.kind, name: r.metadata.name, ...(r.metadata.namespace !== undefined ? { namespace: r.metadata.namespace } : {}) })), { skipNotExists: true });
      this.stats.deletes += deleted.length;
      for (const r of deleted) this.onWritten?.(identity(r));
    }
  }

  private async write(r: Resource): Promise<void> {
    await this.client.apply(r);
    this.stats.writes++;
    this.onWritten?.(identity(r));
  }

  private async remove(r: Resource): Promise<void> {
    try {
      await this.client.delete(r.kind, r.metadata.name, r.metadata.namespace);
      this.stats.deletes++;
      this.onWritten?.(identity(r));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

/** Same labels, annotations and spec (server-set metadata ignored). */
export function sameContent(a: Resource, b: Resource): boolean {
  const view = (r: Resource): string => canonical({ labels: r.metadata.labels ?? {}, annotations: r.metadata.annotations ?? {}, spec: r.spec ?? {} });
  return view(a) === view(b);
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0))) : x));
}
