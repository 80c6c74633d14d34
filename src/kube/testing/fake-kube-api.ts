import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A Kubernetes API server's list/watch protocol over HTTP on 127.0.0.1, faithful enough for the
 * real `@kubernetes/client-node` (and the controllers built on it) to be tested without a cluster:
 *
 * - one global resourceVersion, bumped by every write; objects carry theirs;
 * - lists: `limit` + `continue` pages taken from one snapshot; a continue token older than the
 *   compaction point answers 410 Expired (the client must list again); bodies are sent chunked;
 * - watches (`?watch=true`): JSON lines `{"type":"ADDED|MODIFIED|DELETED","object":…}` from the
 *   requested resourceVersion, or ADDED for everything when none is given; `allowWatchBookmarks`
 *   gets periodic BOOKMARK events; a resourceVersion older than the compaction point gets an ERROR
 *   event carrying a 410 Status (as the real watch cache sends it); `timeoutSeconds` ends the watch;
 * - GET of one object, 404 Status when absent;
 * - faults: `compact()` drops history, `outage('refuse' | 'unavailable')` stops accepting
 *   connections or answers 503 and cuts every watch, `outage(false)` recovers on the same port.
 *
 * Paths: `/api/v1/<plural>`, `/api/v1/namespaces/<ns>/<plural>[/<name>]`, `/apis/<group>/<version>/…`.
 * Test and lab use only; no authentication, no selectors.
 */

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  [field: string]: unknown;
}

export interface FakeResourceType {
  /** `v1` or `<group>/<version>`. */
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export interface FakeKubeApiOptions {
  bookmarkIntervalMs?: number;
  /** Items per chunk of a list body (chunked transfer encoding). */
  listChunkItems?: number;
}

interface Event {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

interface Watcher {
  type: string;
  namespace: string | undefined;
  res: ServerResponse;
  sentRv: number;
  timers: NodeJS.Timeout[];
}

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
}

export class FakeKubeApi {
  private rv = 1;
  private compactedRv = 0;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history = new Map<string, Event[]>();
  private readonly types = new Map<string, FakeResourceType>();
  private readonly watchers = new Set<Watcher>();
  private readonly snapshots = new Map<number, { rv: number; items: KubeObject[] }>();
  private readonly sockets = new Set<Socket>();
  private snapshotSeq = 0;
  private uidSeq = 0;
  private down: false | 'refuse' | 'unavailable' = false;
  private server: Server;
  private port = 0;
  /** Every request received, in order (for asserting what the client asked). */
  readonly requests: RequestRecord[] = [];

  private constructor(private readonly opts: FakeKubeApiOptions) {
    this.server = this.makeServer();
  }

  static async start(types: readonly FakeResourceType[], opts: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
    const api = new FakeKubeApi(opts);
    for (const t of types) api.addType(t);
    await api.listen();
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  /** A kubeconfig (YAML) pointing at this server. */
  kubeconfig(): string {
    return [
      'apiVersion: v1', 'kind: Config', 'current-context: fake',
      'clusters:', '- name: fake', '  cluster:', `    server: ${this.url}`, '    insecure-skip-tls-verify: true',
      'contexts:', '- name: fake', '  context:', '    cluster: fake', '    user: fake',
      'users:', '- name: fake', '  user:', '    token: fake-token', '',
    ].join('\n');
  }

  addType(t: FakeResourceType): void {
    const key = typeKey(t.apiVersion, t.plural);
    this.types.set(key, t);
    if (!this.objects.has(key)) this.objects.set(key, new Map());
    if (!this.history.has(key)) this.history.set(key, []);
  }

  // ---------------------------------------------------------------- writes (the test's API)

  /** Creates or replaces an object (ADDED or MODIFIED); returns it as stored. */
  put(plural: string, obj: KubeObject, apiVersion?: string): KubeObject {
    const t = this.type(plural, apiVersion);
    const key = typeKey(t.apiVersion, t.plural);
    const store = this.objects.get(key)!;
    const id = objectKey(t, obj);
    const existing = store.get(id);
    const rv = ++this.rv;
    const stored: KubeObject = JSON.parse(JSON.stringify({ ...obj, apiVersion: t.apiVersion, kind: t.kind })) as KubeObject;
    stored.metadata.resourceVersion = String(rv);
    stored.metadata.uid = existing?.metadata.uid ?? obj.metadata.uid ?? `uid-${++this.uidSeq}`;
    if (t.namespaced) stored.metadata.namespace = obj.metadata.namespace ?? 'default';
    store.set(id, stored);
    this.record(key, { rv, type: existing ? 'MODIFIED' : 'ADDED', object: stored });
    return stored;
  }

  /** Deletes an object (DELETED); false if it did not exist. */
  remove(plural: string, name: string, namespace?: string, apiVersion?: string): boolean {
    const t = this.type(plural, apiVersion);
    const key = typeKey(t.apiVersion, t.plural);
    const store = this.objects.get(key)!;
    const id = t.namespaced ? `${namespace ?? 'default'}/${name}` : name;
    const existing = store.get(id);
    if (!existing) return false;
    store.delete(id);
    const rv = ++this.rv;
    const object = { ...existing, metadata: { ...existing.metadata, resourceVersion: String(rv) } };
    this.record(key, { rv, type: 'DELETED', object });
    return true;
  }

  get(plural: string, name: string, namespace?: string, apiVersion?: string): KubeObject | undefined {
    const t = this.type(plural, apiVersion);
    return this.objects.get(typeKey(t.apiVersion, t.plural))!.get(t.namespaced ? `${namespace ?? 'default'}/${name}` : name);
  }

  // ---------------------------------------------------------------- faults

  /** Forgets all history up to now: watches from an older resourceVersion get 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    for (const h of this.history.values()) h.length = 0;
    for (const [id, s] of this.snapshots) if (s.rv < this.compactedRv) this.snapshots.delete(id);
  }

  /** Ends every open watch cleanly (as an API server restart or watch timeout does). */
  closeWatches(): void {
    for (const w of [...this.watchers]) this.endWatch(w);
  }

  async outage(mode: false | 'refuse' | 'unavailable'): Promise<void> {
    if (mode === this.down) return;
    const wasRefusing = this.down === 'refuse';
    this.down = mode;
    if (mode) for (const w of [...this.watchers]) w.res.destroy();
    if (mode === 'refuse') {
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        for (const s of this.sockets) s.destroy();
      });
    } else if (wasRefusing) {
      this.server = this.makeServer();
      await this.listen(this.port);
    }
  }

  async close(): Promise<void> {
    for (const w of [...this.watchers]) w.res.destroy();
    if (this.down === 'refuse') return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }

  // ---------------------------------------------------------------- internals

  private type(plural: string, apiVersion?: string): FakeResourceType {
    for (const t of this.types.values()) if (t.plural === plural && (apiVersion === undefined || t.apiVersion === apiVersion)) return t;
    throw new Error(`fake API: unknown resource ${plural}`);
  }

  private record(key: string, ev: Event): void {
    this.history.get(key)!.push(ev);
    for (const w of this.watchers) {
      if (w.type !== key || ev.rv <= w.sentRv) continue;
      if (w.namespace !== undefined && ev.object.metadata.namespace !== w.namespace) continue;
      this.send(w, ev.type, ev.object, ev.rv);
    }
  }

  private send(w: Watcher, type: string, object: unknown, rv: number): void {
    w.sentRv = Math.max(w.sentRv, rv);
    w.res.write(JSON.stringify({ type, object }) + '\n');
  }

  private endWatch(w: Watcher): void {
    for (const t of w.timers) clearTimeout(t);
    this.watchers.delete(w);
    w.res.end();
  }

  private makeServer(): Server {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    return server;
  }

  private listen(port = 0): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        const addr = this.server.address();
        if (addr && typeof addr === 'object') this.port = addr.port;
        resolve();
      });
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams.entries());
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query });
    if (this.down === 'unavailable') return status(res, 503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
    const route = this.route(url.pathname);
    if (!route) return status(res, 404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
    if (req.method !== 'GET') return status(res, 405, 'MethodNotAllowed', `${req.method} is not supported by the fake API`);
    const { type, namespace, name } = route;
    const key = typeKey(type.apiVersion, type.plural);
    if (name !== undefined) {
      const obj = this.objects.get(key)!.get(type.namespaced ? `${namespace ?? 'default'}/${name}` : name);
      if (!obj) return status(res, 404, 'NotFound', `${type.plural} "${name}" not found`);
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify(obj));
    }
    if (query['watch'] === 'true' || query['watch'] === '1') return this.watch(res, type, key, namespace, query);
    return this.list(res, type, key, namespace, query);
  }

  private route(path: string): { type: FakeResourceType; namespace?: string; name?: string } | undefined {
    const parts = path.split('/').filter((p) => p !== '');
    let apiVersion: string;
    let rest: string[];
    if (parts[0] === 'api' && parts[1] === 'v1') [apiVersion, rest] = ['v1', parts.slice(2)];
    else if (parts[0] === 'apis' && parts.length >= 3) [apiVersion, rest] = [`${parts[1]}/${parts[2]}`, parts.slice(3)];
    else return undefined;
    const find = (plural: string | undefined): FakeResourceType | undefined => (plural === undefined ? undefined : this.types.get(typeKey(apiVersion, plural)));
    // namespaces/<ns>/<plural>[/<name>] for namespaced kinds, else <plural>[/<name>]
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const type = find(rest[2]);
      if (!type?.namespaced || rest.length > 4) return undefined;
      return { type, namespace: rest[1], ...(rest[3] !== undefined ? { name: rest[3] } : {}) };
    }
    const type = find(rest[0]);
    if (!type || rest.length > 2 || (type.namespaced && rest.length === 2)) return undefined;
    return { type, ...(rest[1] !== undefined ? { name: rest[1] } : {}) };
  }

  private list(res: ServerResponse, type: FakeResourceType, key: string, namespace: string | undefined, q: Record<string, string>): void {
    let snap: { rv: number; items: KubeObject[] };
    let offset = 0;
    let id: number;
    if (q['continue']) {
      const token = decodeToken(q['continue']);
      const found = token ? this.snapshots.get(token.id) : undefined;
      if (!token || !found || found.rv < this.compactedRv) {
        return status(res, 410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      [snap, offset, id] = [found, token.offset, token.id];
    } else {
      const items = [...this.objects.get(key)!.values()].filter((o) => namespace === undefined || o.metadata.namespace === namespace);
      items.sort((a, b) => cmp(`${a.metadata.namespace ?? ''}/${a.metadata.name}`, `${b.metadata.namespace ?? ''}/${b.metadata.name}`));
      snap = { rv: this.rv, items };
      id = ++this.snapshotSeq;
    }
    const limit = q['limit'] ? Math.max(1, Number(q['limit'])) : Infinity;
    const page = snap.items.slice(offset, offset + limit);
    const more = offset + page.length < snap.items.length;
    const metadata: Record<string, unknown> = { resourceVersion: String(snap.rv) };
    if (more) {
      this.snapshots.set(id, snap);
      metadata['continue'] = encodeToken({ id, offset: offset + page.length });
      metadata['remainingItemCount'] = snap.items.length - offset - page.length;
    } else {
      this.snapshots.delete(id);
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    // Chunked body: a header, then the items a few at a time.
    res.write(`{"kind":"${type.kind}List","apiVersion":"${type.apiVersion}","metadata":${JSON.stringify(metadata)},"items":[`);
    const per = this.opts.listChunkItems ?? 50;
    for (let i = 0; i < page.length; i += per) {
      res.write((i > 0 ? ',' : '') + page.slice(i, i + per).map((o) => JSON.stringify(o)).join(','));
    }
    res.end(']}');
  }

  private watch(res: ServerResponse, type: FakeResourceType, key: string, namespace: string | undefined, q: Record<string, string>): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const w: Watcher = { type: key, namespace, res, sentRv: 0, timers: [] };
    const from = q['resourceVersion'];
    const inNs = (o: KubeObject): boolean => namespace === undefined || o.metadata.namespace === namespace;
    if (from === undefined || from === '' || from === '0') {
      for (const o of this.objects.get(key)!.values()) if (inNs(o)) this.send(w, 'ADDED', o, Number(o.metadata.resourceVersion));
      w.sentRv = this.rv;
    } else {
      const rv = Number(from);
      if (!Number.isFinite(rv) || rv < this.compactedRv) {
        const st = statusBody(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`);
        res.write(JSON.stringify({ type: 'ERROR', object: st }) + '\n');
        return void res.end();
      }
      w.sentRv = rv;
      for (const ev of this.history.get(key)!) if (ev.rv > rv && inNs(ev.object)) this.send(w, ev.type, ev.object, ev.rv);
    }
    this.watchers.add(w);
    res.on('close', () => {
      for (const t of w.timers) clearTimeout(t);
      this.watchers.delete(w);
    });
    if (q['allowWatchBookmarks'] === 'true') {
      const every = this.opts.bookmarkIntervalMs ?? 1000;
      const tick = (): void => {
        if (!this.watchers.has(w)) return;
        const bookmark = { kind: type.kind, apiVersion: type.apiVersion, metadata: { resourceVersion: String(this.rv) } };
        this.send(w, 'BOOKMARK', bookmark, this.rv);
        w.timers[0] = setTimeout(tick, every);
      };
      w.timers[0] = setTimeout(tick, every);
    }
    if (q['timeoutSeconds']) w.timers[1] = setTimeout(() => this.endWatch(w), Number(q['timeoutSeconds']) * 1000);
  }
}

function typeKey(apiVersion: string, plural: string): string {
  return `${apiVersion}/${plural}`;
}

function objectKey(t: FakeResourceType, o: KubeObject): string {
  return t.namespaced ? `${o.metadata.namespace ?? 'default'}/${o.metadata.name}` : o.metadata.name;
}

function statusBody(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(statusBody(code, reason, message)));
}

function encodeToken(t: { id: number; offset: number }): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodeToken(s: string): { id: number; offset: number } | undefined {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString()) as { id?: unknown; offset?: unknown };
    return typeof t.id === 'number' && typeof t.offset === 'number' ? { id: t.id, offset: t.offset } : undefined;
  } catch {
    return undefined;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
