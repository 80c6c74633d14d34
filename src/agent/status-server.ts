/**
 * The agent's local status API, HTTP on the unix socket `<run-dir>/agent.sock`: `/livez`,
 * `/readyz` (200 only after the first in-sync apply), `/counters` (JSON per-rule counters), and
 * `/status`. Prometheus `/metrics` is served separately on 127.0.0.1:<port> (0 disables).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import type { Disposable } from '../base/lifecycle.js';

export interface StatusSource {
  live(): boolean;
  ready(): { ready: boolean; reason: string };
  counters(): Promise<unknown>;
  status(): unknown;
  metrics(): Promise<{ contentType: string; body: string }>;
}

function send(res: ServerResponse, code: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(code, { 'content-type': type });
  res.end(body);
}

function handler(src: StatusSource, withMetrics: boolean) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    void (async () => {
      try {
        if (path === '/livez') return send(res, src.live() ? 200 : 500, src.live() ? 'ok\n' : 'not live\n');
        if (path === '/readyz') {
          const r = src.ready();
          return send(res, r.ready ? 200 : 503, `${r.reason}\n`);
        }
        if (path === '/counters') return send(res, 200, JSON.stringify(await src.counters()), 'application/json');
        if (path === '/status') return send(res, 200, JSON.stringify(src.status()), 'application/json');
        if (withMetrics && path === '/metrics') {
          const m = await src.metrics();
          return send(res, 200, m.body, m.contentType);
        }
        send(res, 404, 'not found\n');
      } catch (err) {
        send(res, 500, `${(err as Error).message}\n`);
      }
    })();
  };
}

function listen(server: Server, target: string | { port: number; host: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    if (typeof target === 'string') server.listen(target, () => resolve());
    else server.listen(target.port, target.host, () => resolve());
  });
}

export async function startStatusServer(src: StatusSource, socketPath: string, metricsPort: number): Promise<Disposable> {
  mkdirSync(dirname(socketPath), { recursive: true });
  rmSync(socketPath, { force: true });
  const sock = createServer(handler(src, true));
  await listen(sock, socketPath);
  let metrics: Server | undefined;
  if (metricsPort > 0) {
    metrics = createServer(handler(src, true));
    await listen(metrics, { port: metricsPort, host: '127.0.0.1' });
  }
  return {
    dispose: async () => {
      await new Promise<void>((r) => sock.close(() => r()));
      if (metrics) await new Promise<void>((r) => metrics!.close(() => r()));
      rmSync(socketPath, { force: true });
    },
  };
}
