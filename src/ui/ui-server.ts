import { existsSync, readFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';
import type { Resource } from '../api/types.js';
import { computeSnapshot } from '../calc/snapshot.js';
import type { CalcSnapshot } from '../calc/types.js';
import type { Datastore } from '../datastore/datastore.js';
import { ResourceClient } from '../datastore/resource-client.js';
import { exitCodeFor } from '../errors.js';
import type { SqliteFlowStore } from '../flows/flow-store.js';
import { buildGraph, explainFlow, flowFilterFromQuery, flowsJson, nodeStatus, previewManifest } from './console-api.js';

export interface UiServerOptions {
  datastore: Datastore;
  store: SqliteFlowStore;
  /** Built front end (index.html, assets/). */
  assetsDir: string;
  /** Where node agents keep `agent.sock` (`<runDir>/agent.sock`, or `<runDir>/<node>/agent.sock`). */
  runDir?: string;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json', '.svg': 'image/svg+xml' };

/**
 * The web console's HTTP server: the built front end and a small JSON API over the datastore and
 * the flow store (GET /api/flows, /api/graph, /api/explain, /api/status; POST /api/preview). The
 * resources and their calculation are cached per datastore revision. Listens where told (the
 * command defaults to loopback).
 */
export class UiServer {
  private server: Server | undefined;
  private cache: { revision: number; at: number; items: Resource[]; snapshot: CalcSnapshot } | undefined;

  constructor(private readonly o: UiServerOptions) {}

  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
    const a = server.address() as { address: string; port: number };
    return { host: a.address, port: a.port };
  }

  close(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private async resources(): Promise<{ items: Resource[]; snapshot: CalcSnapshot }> {
    if (this.cache && Date.now() - this.cache.at < 1_000) return this.cache;
    const { items, revision } = await new ResourceClient(this.o.datastore).listAll();
    if (!this.cache || this.cache.revision !== revision) this.cache = { revision, at: Date.now(), items, snapshot: computeSnapshot(items, { hostname: '*' }) };
    else this.cache.at = Date.now();
    return this.cache;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console');
    try {
      if (url.pathname.startsWith('/api/')) return this.json(res, 200, await this.api(req, url));
      this.file(res, url.pathname);
    } catch (err) {
      const code = exitCodeFor(err) === 2 ? 400 : 500;
      this.json(res, code, { error: err instanceof Error ? err.message : String(err) });
    }
  }

  private async api(req: IncomingMessage, url: URL): Promise<unknown> {
    const q = url.searchParams;
    switch (`${req.method} ${url.pathname}`) {
      case 'GET /api/flows': {
        const rows = this.o.store.query(flowFilterFromQuery(q, Date.now()), { afterId: Number(q.get('after') ?? 0), limit: Math.min(Number(q.get('limit') ?? 500), 5_000) });
        return { flows: flowsJson(rows), lastId: this.o.store.lastId() };
      }
      case 'GET /api/graph': {
        const { snapshot } = await this.resources();
        const flows = this.o.store.query(flowFilterFromQuery(q, Date.now()), { limit: 20_000 }).map((r) => r.record);
        return buildGraph(snapshot, flows);
      }
      case 'GET /api/explain': {
        const { snapshot } = await this.resources();
        return explainFlow(snapshot, { from: q.get('from') ?? '', to: q.get('to') ?? '', protocol: q.get('protocol') ?? 'TCP', ...(q.get('port') ? { port: q.get('port')! } : {}) });
      }
      case 'POST /api/preview': {
        const body = await readBody(req, 1_000_000);
        const { items } = await this.resources();
        return previewManifest(items, body, { protocol: q.get('protocol') ?? 'TCP', port: q.get('port') ?? '80', staged: q.get('staged') === 'true' });
      }
      case 'GET /api/status': {
        const { items } = await this.resources();
        const agents = new Map<string, unknown>();
        for (const n of items.filter((r) => r.kind === 'Node')) {
          const s = await this.agentStatus(n.metadata.name);
          if (s !== undefined) agents.set(n.metadata.name, s);
        }
        return { nodes: nodeStatus(items, agents), flowRecords: this.o.store.count() };
      }
      default:
        return Promise.reject(Object.assign(new Error(`no such API: ${req.method} ${url.pathname}`), {}));
    }
  }

  /** Asks a node agent's status socket (HTTP over the unix socket), bounded to 1 s. */
  private agentStatus(node: string): Promise<unknown> {
    const dir = this.o.runDir;
    if (!dir) return Promise.resolve(undefined);
    const sock = [join(dir, node, 'agent.sock'), join(dir, 'agent.sock')].find((p) => existsSync(p));
    if (!sock) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const r = request({ socketPath: sock, path: '/status', timeout: 1_000 }, (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () => {
          try {
            resolve(JSON.parse(b));
          } catch {
            resolve({ raw: b.slice(0, 2_000) });
          }
        });
      });
      r.on('timeout', () => r.destroy());
      r.on('error', (e) => resolve({ error: e.message }));
      r.end();
    });
  }

  private file(res: ServerResponse, path: string): void {
    const rel = normalize(path === '/' || !extname(path) ? '/index.html' : path).replace(/^(\.\.[/\\])+/, '');
    const file = join(this.o.assetsDir, rel);
    if (!file.startsWith(this.o.assetsDir) || !existsSync(file)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' }).end(readFileSync(file));
  }

  private json(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let n = 0;
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) {
        reject(new Error(`request body over ${max} bytes`));
        req.destroy();
      } else parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}
