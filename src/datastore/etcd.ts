import { Etcd3, type IKeyValue, type IOptions } from 'etcd3';
import { readFileSync } from 'node:fs';
import { AlreadyExistsError, ConflictError, NotFoundError, UnavailableError, UsageError } from '../errors.js';
import type { Datastore, KeyValue, ListResult, Watch, WatchHandlers } from './datastore.js';
import { checkValueSize } from './value-size.js';
import { etcdFailureReason, isBrokenCircuit, isCompactedEtcdError, isTransientEtcdError, isUnappliedEtcdError } from './etcd-errors.js';
import { EtcdWatchStream, toKeyValue } from './etcd-watch.js';
import type { DatastoreOptions } from './open.js';
import { parseEtcdUrl } from './etcd-url.js';

export { parseEtcdUrl };

/** Timeouts of the etcd backend; the defaults suit the CLI and the agent. */
export interface EtcdTuning {
  /** Deadline of one gRPC request (ms). */
  requestTimeoutMs?: number;
  /** How long an operation keeps retrying transient failures before it reports UnavailableError (ms). */
  retryWindowMs?: number;
}

const LIST_PAGE = 1000;
type CallOptions = NonNullable<Parameters<Etcd3['kv']['range']>[1]>;
type GlobalPolicy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/**
 * The etcd v3 datastore, through the `etcd3` client. Creates, compare-and-swap updates and
 * conditional deletes are single Txns (compare Version == 0, or ModRevision == expected); the
 * global revision is etcd's header revision. Reads retry transient failures (member down, leader
 * election) within a bounded window; writes are resent only when the failure proves they were not
 * applied, otherwise the caller gets UnavailableError saying the outcome is unknown. Watches are
 * EtcdWatchStreams, which resume after disconnects without gaps or repeats.
 */
export class EtcdDatastore implements Datastore {
  readonly url: string;
  private readonly client: Etcd3;
  private readonly endpoints: string;
  private readonly requestTimeoutMs: number;
  private readonly retryWindowMs: number;
  private readonly watches = new Set<Watch>();
  private closed = false;
  /** The last concrete failure reason, reused when the client only says "every member failed recently". */
  private lastFailure = '';

  private constructor(url: string, client: Etcd3, endpoints: string, tuning: EtcdTuning) {
    this.url = url;
    this.client = client;
    this.endpoints = endpoints;
    this.requestTimeoutMs = tuning.requestTimeoutMs ?? 2000;
    this.retryWindowMs = tuning.retryWindowMs ?? 5000;
  }

  static async open(url: string, options: DatastoreOptions = {}, tuning: EtcdTuning = {}): Promise<EtcdDatastore> {
    const { hosts, endpoints, secure } = parseEtcdUrl(url, options.etcdCa !== undefined);
    const noRetry = { execute: (fn: (ctx: { signal: AbortSignal }) => unknown) => fn({ signal: new AbortController().signal }) };
    const client = new Etcd3({
      hosts,
      credentials: secure && options.etcdCa ? readCredentials(options) : undefined,
      // Retries are ours (see `call`): the client's own global retry could resend an applied write.
      faultHandling: { global: noRetry as unknown as GlobalPolicy },
      grpcOptions: { 'grpc.max_receive_message_length': 64 * 1024 * 1024, 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5000 },
    });
    requireLeader(client);
    return new EtcdDatastore(url, client, endpoints, tuning);
  }

  async get(key: string): Promise<KeyValue | null> {
    const res = await this.call('get', 'read', (o) => this.client.kv.range({ key: Buffer.from(key) }, o));
    return res.kvs.length > 0 ? toKeyValue(res.kvs[0]!) : null;
  }

  async list(prefix: string): Promise<ListResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.listOnce(prefix);
      } catch (err) {
        // A compaction between two pages of one snapshot: start over at the new revision.
        if (!isCompactedEtcdError(err)) throw err;
        if (attempt >= 3) throw new UnavailableError(`list ${prefix} on etcd at ${this.endpoints}: history compacted under every attempt`, { cause: err });
      }
    }
  }

  async create(key: string, value: string): Promise<KeyValue> {
    checkValueSize(key, value);
    const k = Buffer.from(key);
    const res = await this.call('create', 'write', (o) => this.client.kv.txn({
      compare: [{ key: k, target: 'Version', result: 'Equal', version: 0 }],
      success: [{ request_put: { key: k, value: Buffer.from(value) } }],
      failure: [],
    }, o));
    if (!res.succeeded) throw new AlreadyExistsError(`key ${key} already exists`);
    const rev = Number(res.header.revision);
    return { key, value, createRevision: rev, modRevision: rev };
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    checkValueSize(key, value);
    const k = Buffer.from(key);
    const res = await this.call('update', 'write', (o) => this.client.kv.txn({
      compare: [
        { key: k, target: 'Mod', result: 'Equal', mod_revision: expectedRevision },
        { key: k, target: 'Version', result: 'Greater', version: 0 },
      ],
      success: [{ request_put: { key: k, value: Buffer.from(value), prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    }, o));
    if (!res.succeeded) this.refused(key, expectedRevision, res.responses[0]?.response_range?.kvs ?? []);
    const prev = res.responses[0]!.response_put.prev_kv;
    return { key, value, createRevision: Number(prev.create_revision), modRevision: Number(res.header.revision) };
  }

  async delete(key: string, expectedRevision?: number): Promise<void> {
    const k = Buffer.from(key);
    if (expectedRevision === undefined) {
      const res = await this.call('delete', 'write', (o) => this.client.kv.deleteRange({ key: k }, o));
      if (Number(res.deleted) === 0) throw new NotFoundError(`key ${key} does not exist`);
      return;
    }
    const res = await this.call('delete', 'write', (o) => this.client.kv.txn({
      compare: [
        { key: k, target: 'Mod', result: 'Equal', mod_revision: expectedRevision },
        { key: k, target: 'Version', result: 'Greater', version: 0 },
      ],
      success: [{ request_delete_range: { key: k } }],
      failure: [{ request_range: { key: k } }],
    }, o));
    if (!res.succeeded) this.refused(key, expectedRevision, res.responses[0]?.response_range?.kvs ?? []);
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watch {
    if (this.closed) throw new UnavailableError(`datastore ${this.url} is closed`);
    const key = prefix === '' ? Buffer.from([0]) : Buffer.from(prefix);
    const stream = new EtcdWatchStream(this.client.watchClient, key, prefixEnd(prefix), fromRevision, {
      onEvents: (events) => handlers.onEvents(events),
      onStatus: (status) => handlers.onStatus?.(status),
      onError: (err) => {
        this.watches.delete(handle);
        handlers.onError(err);
      },
    });
    const handle: Watch = {
      dispose: () => {
        this.watches.delete(handle);
        stream.dispose();
      },
    };
    this.watches.add(handle);
    return handle;
  }

  /** Drops history at or below `revision` (etcd keeps the compaction revision itself, so compact one past it). */
  async compact(revision: number): Promise<void> {
    const head = await this.call('compact', 'read', (o) => this.client.kv.range({ key: Buffer.from([0]), count_only: true }, o));
    const target = Math.min(revision + 1, Number(head.header.revision));
    try {
      await this.call('compact', 'read', (o) => this.client.kv.compact({ revision: target, physical: true }, o));
    } catch (err) {
      if (!isCompactedEtcdError(err) && !isCompactedEtcdError((err as Error).cause)) throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watches) w.dispose();
    this.watches.clear();
    this.client.close();
  }

  private async listOnce(prefix: string): Promise<ListResult> {
    const end = prefixEnd(prefix);
    let from = prefix === '' ? Buffer.from([0]) : Buffer.from(prefix);
    let revision = 0;
    const items: KeyValue[] = [];
    for (let page = 0; page < 1_000_000; page++) {
      const res = await this.call('list', 'read', (o) => this.client.kv.range({
        key: from, range_end: end, limit: LIST_PAGE, revision: revision || undefined,
        sort_order: 'Ascend', sort_target: 'Key',
      }, o));
      if (revision === 0) revision = Number(res.header.revision);
      for (const kv of res.kvs) items.push(toKeyValue(kv));
      if (!res.more || res.kvs.length === 0) break;
      from = Buffer.concat([res.kvs[res.kvs.length - 1]!.key, Buffer.from([0])]);
    }
    return { items, revision };
  }

  private refused(key: string, expectedRevision: number, current: IKeyValue[]): never {
    if (current.length === 0) throw new NotFoundError(`key ${key} does not exist`);
    throw new ConflictError(`key ${key} is at revision ${current[0]!.mod_revision}, not ${expectedRevision}`);
  }

  /**
   * Runs one request with a deadline, retrying transient failures for up to `retryWindowMs`.
   * Writes are retried only when the error proves the request was not applied.
   */
  private async call<T>(op: string, mode: 'read' | 'write', fn: (options: CallOptions) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.retryWindowMs;
    let delay = 25;
    let reason = '';
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new UnavailableError(`datastore ${this.url} is closed`);
      try {
        return await fn({ deadline: Date.now() + this.requestTimeoutMs });
      } catch (err) {
        if (isCompactedEtcdError(err)) throw err;
        if (!isTransientEtcdError(err)) {
          throw new UnavailableError(`${op} on etcd at ${this.endpoints} failed: ${etcdFailureReason(err)}`, { cause: err });
        }
        // Prefer the concrete cause (`connection refused`) over the client's "circuit open" echo of it.
        if (!isBrokenCircuit(err)) this.lastFailure = etcdFailureReason(err);
        if (reason === '' || !isBrokenCircuit(err)) reason = isBrokenCircuit(err) && this.lastFailure ? this.lastFailure : etcdFailureReason(err);
        if (mode === 'write' && !isUnappliedEtcdError(err)) {
          throw new UnavailableError(`${op} on etcd at ${this.endpoints} failed (${reason}); the write may or may not have been applied`, { cause: err });
        }
        if (Date.now() + delay >= deadline || attempt >= 200) {
          throw new UnavailableError(`cannot reach etcd at ${this.endpoints}: ${reason}`, { cause: err });
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 400);
      }
    }
  }
}

/**
 * Adds etcd's `hasleader: true` gRPC metadata to every request (what etcd's Go client calls
 * WithRequireLeader): a member that has lost its leader then fails requests at once with "no
 * leader" (certainly not applied, so safe to resend) and cancels its watches (which resume on
 * another member), instead of hanging until a timeout. etcd3 has no public hook for metadata, so
 * this wraps its connection pool's metadata source, and does nothing if that shape is absent.
 */
function requireLeader(client: Etcd3): void {
  type Metadata = { clone(): Metadata; set(key: string, value: string): void };
  const auth = (client as unknown as { pool?: { authenticator?: { getMetadata?: () => Promise<Metadata> } } }).pool?.authenticator;
  if (!auth || typeof auth.getMetadata !== 'function') return;
  const original = auth.getMetadata.bind(auth);
  auth.getMetadata = async () => {
    const md = (await original()).clone();
    md.set('hasleader', 'true');
    return md;
  };
}

/** The first key after every key starting with `prefix` (etcd's range_end); `\0` for "to the end". */
function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const end = Buffer.from(b.subarray(0, i + 1));
      end[i]! += 1;
      return end;
    }
  }
  return Buffer.from([0]);
}

function readCredentials(options: DatastoreOptions): NonNullable<IOptions['credentials']> {
  const read = (what: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new UsageError(`cannot read the etcd ${what} file ${path}: ${(err as Error).message}`);
    }
  };
  return {
    rootCertificate: read('CA certificate', options.etcdCa!),
    privateKey: options.etcdKey ? read('client key', options.etcdKey) : undefined,
    certChain: options.etcdCert ? read('client certificate', options.etcdCert) : undefined,
  };
}
