import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { AlreadyExistsError, ConflictError, NotFoundError, UnavailableError, UsageError } from '../errors.js';
import type { Datastore, KeyValue, ListResult, Watch } from './datastore.js';
import { etcdFailureReason, isTransientEtcdError, isUnappliedEtcdError } from './etcd-errors.js';
import type { EtcdTuning } from './etcd.js';
import { parseEtcdUrl } from './etcd-url.js';
import type { DatastoreOptions } from './open.js';

const LIST_PAGE = 1000;

interface RawKv { key: string; value?: string; create_revision?: string; mod_revision?: string }
interface RangeResponse { header: { revision: string }; kvs?: RawKv[]; more?: boolean }
interface TxnResponse { header: { revision: string }; succeeded?: boolean; responses?: { response_range?: RangeResponse; response_put?: { prev_kv?: RawKv } }[] }

/**
 * The etcd v3 datastore for short-lived processes (the CNI plugin): the same operations and
 * semantics as EtcdDatastore (single-Txn create / compare-and-swap update / conditional delete,
 * etcd's header revision), spoken over etcd's HTTP/JSON gateway with node:http instead of gRPC,
 * because loading the gRPC stack costs ~300 ms per process start and this costs ~5. Requests
 * carry `hasleader` so a member without a leader refuses at once. A refused connection moves to
 * the next member (safe for writes); a write that fails in flight is reported as UnavailableError
 * saying its outcome is unknown, never resent. It does not watch: long-lived processes use
 * EtcdDatastore.
 */
export class EtcdHttpDatastore implements Datastore {
  readonly url: string;
  private readonly hosts: string[];
  private readonly endpoints: string;
  private readonly agent: HttpAgent;
  private readonly secure: boolean;
  private readonly requestTimeoutMs: number;
  private readonly retryWindowMs: number;
  /** Index of the member that answered last (tried first). */
  private current = 0;
  private closed = false;

  private constructor(url: string, options: DatastoreOptions, tuning: EtcdTuning) {
    this.url = url;
    const { hosts, endpoints, secure } = parseEtcdUrl(url, options.etcdCa !== undefined);
    this.hosts = hosts;
    this.endpoints = endpoints;
    this.secure = secure;
    this.requestTimeoutMs = tuning.requestTimeoutMs ?? 2000;
    this.retryWindowMs = tuning.retryWindowMs ?? 5000;
    if (secure) {
      const read = (what: string, path: string | undefined) => {
        if (path === undefined) return undefined;
        try {
          return readFileSync(path);
        } catch (err) {
          throw new UsageError(`cannot read the etcd ${what} file ${path}: ${(err as Error).message}`);
        }
      };
      this.agent = new HttpsAgent({ keepAlive: true, ca: read('CA certificate', options.etcdCa), cert: read('client certificate', options.etcdCert), key: read('client key', options.etcdKey) });
    } else {
      this.agent = new HttpAgent({ keepAlive: true });
    }
  }

  static async open(url: string, options: DatastoreOptions = {}, tuning: EtcdTuning = {}): Promise<EtcdHttpDatastore> {
    return new EtcdHttpDatastore(url, options, tuning);
  }

  async get(key: string): Promise<KeyValue | null> {
    const res = await this.call<RangeResponse>('get', 'read', '/v3/kv/range', { key: b64(key) });
    return res.kvs && res.kvs.length > 0 ? toKeyValue(res.kvs[0]!) : null;
  }

  async list(prefix: string): Promise<ListResult> {
    const end = prefixEnd(prefix);
    let from = prefix === '' ? Buffer.from([0]) : Buffer.from(prefix);
    let revision = 0;
    const items: KeyValue[] = [];
    for (let page = 0; page < 1_000_000; page++) {
      const body: Record<string, unknown> = { key: from.toString('base64'), range_end: end.toString('base64'), limit: LIST_PAGE };
      if (revision) body['revision'] = String(revision);
      const res = await this.call<RangeResponse>('list', 'read', '/v3/kv/range', body);
      if (revision === 0) revision = Number(res.header.revision);
      const kvs = res.kvs ?? [];
      for (const kv of kvs) items.push(toKeyValue(kv));
      if (!res.more || kvs.length === 0) break;
      from = Buffer.concat([Buffer.from(kvs[kvs.length - 1]!.key, 'base64'), Buffer.from([0])]);
    }
    return { items, revision };
  }

  async create(key: string, value: string): Promise<KeyValue> {
    const k = b64(key);
    const res = await this.call<TxnResponse>('create', 'write', '/v3/kv/txn', {
      compare: [{ key: k, target: 'VERSION', result: 'EQUAL', version: '0' }],
      success: [{ request_put: { key: k, value: b64(value) } }],
    });
    if (!res.succeeded) throw new AlreadyExistsError(`key ${key} already exists`);
    const rev = Number(res.header.revision);
    return { key, value, createRevision: rev, modRevision: rev };
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    const k = b64(key);
    const res = await this.call<TxnResponse>('update', 'write', '/v3/kv/txn', {
      compare: [
        { key: k, target: 'MOD', result: 'EQUAL', mod_revision: String(expectedRevision) },
        { key: k, target: 'VERSION', result: 'GREATER', version: '0' },
      ],
      success: [{ request_put: { key: k, value: b64(value), prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) this.refused(key, expectedRevision, res.responses?.[0]?.response_range?.kvs ?? []);
    const prev = res.responses?.[0]?.response_put?.prev_kv;
    return { key, value, createRevision: Number(prev?.create_revision ?? 0), modRevision: Number(res.header.revision) };
  }

  async delete(key: string, expectedRevision?: number): Promise<void> {
    const k = b64(key);
    const compare = [{ key: k, target: 'VERSION', result: 'GREATER', version: '0' }];
    if (expectedRevision !== undefined) compare.unshift({ key: k, target: 'MOD', result: 'EQUAL', mod_revision: String(expectedRevision) } as never);
    const res = await this.call<TxnResponse>('delete', 'write', '/v3/kv/txn', {
      compare,
      success: [{ request_delete_range: { key: k } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded) this.refused(key, expectedRevision ?? 0, res.responses?.[0]?.response_range?.kvs ?? []);
  }

  watch(): Watch {
    throw new UsageError(`watch is not available on ${this.url} through the HTTP gateway client; long-lived processes use the gRPC etcd backend`);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.agent.destroy();
  }

  private refused(key: string, expectedRevision: number, current: RawKv[]): never {
    if (current.length === 0) throw new NotFoundError(`key ${key} does not exist`);
    throw new ConflictError(`key ${key} is at revision ${current[0]!.mod_revision}, not ${expectedRevision}`);
  }

  /** One request with a deadline; transient failures move to the next member until the retry window closes. */
  private async call<T>(op: string, mode: 'read' | 'write', path: string, body: unknown): Promise<T> {
    const deadline = Date.now() + this.retryWindowMs;
    const payload = JSON.stringify(body);
    let delay = 25;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new UnavailableError(`datastore ${this.url} is closed`);
      const host = this.hosts[this.current % this.hosts.length]!;
      try {
        return (await this.post(host, path, payload)) as T;
      } catch (err) {
        if (!isTransientEtcdError(err)) throw new UnavailableError(`${op} on etcd at ${this.endpoints} failed: ${etcdFailureReason(err)}`, { cause: err });
        const reason = etcdFailureReason(err);
        if (mode === 'write' && !isUnappliedEtcdError(err)) {
          throw new UnavailableError(`${op} on etcd at ${this.endpoints} failed (${reason}); the write may or may not have been applied`, { cause: err });
        }
        this.current++;
        if (Date.now() + delay >= deadline || attempt >= 200) throw new UnavailableError(`cannot reach etcd at ${this.endpoints}: ${reason}`, { cause: err });
        if (this.current % this.hosts.length === 0) {
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(delay * 2, 400);
        }
      }
    }
  }

  private post(host: string, path: string, payload: string): Promise<unknown> {
    const u = new URL(path, host);
    const req = this.secure ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const r = req(u, {
        method: 'POST',
        agent: this.agent,
        timeout: this.requestTimeoutMs,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'grpc-metadata-hasleader': 'true' },
      }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: { error?: string; message?: string; code?: number } & Record<string, unknown>;
          try {
            parsed = JSON.parse(text);
          } catch {
            return reject(new Error(`etcd answered HTTP ${res.statusCode} with non-JSON: ${text.slice(0, 200)}`));
          }
          if (res.statusCode === 200 && parsed.error === undefined) return resolve(parsed);
          // gRPC status carried over the gateway: 14 UNAVAILABLE, 4 DEADLINE_EXCEEDED…
          const name = ({ 1: 'CANCELLED', 4: 'DEADLINE_EXCEEDED', 14: 'UNAVAILABLE' } as Record<number, string>)[parsed.code ?? 0] ?? `code ${parsed.code}`;
          reject(new Error(`${parsed.code} ${name}: ${parsed.message ?? parsed.error ?? text}`));
        });
      });
      r.on('timeout', () => r.destroy(Object.assign(new Error('etcdserver: request timed out (Deadline exceeded)'), { code: 'ETIMEDOUT' })));
      r.on('error', (e: NodeJS.ErrnoException) => reject(Object.assign(new Error(`${e.message} ${e.code ?? ''}`), { code: e.code })));
      r.end(payload);
    });
  }
}

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

function toKeyValue(kv: RawKv): KeyValue {
  return {
    key: Buffer.from(kv.key, 'base64').toString('utf8'),
    value: kv.value === undefined ? '' : Buffer.from(kv.value, 'base64').toString('utf8'),
    createRevision: Number(kv.create_revision ?? 0),
    modRevision: Number(kv.mod_revision ?? 0),
  };
}

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
