import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { LabProcess } from './lab-state.js';
import { logTail, sleep, startDaemon } from './process-supervisor.js';

/**
 * The lab's etcd (`lab up --datastore etcd`): three members on 127.0.0.1 of the root namespace
 * (data in the lab's state directory, on tmpfs under /run), as test/helpers/etcd-cluster.ts does
 * for tests but detached so the cluster outlives the command. A node namespace has its own
 * loopback, so each node gets relays: `socat` listening on 127.0.0.1:<member port> inside the node
 * and forwarding to a unix socket in the state directory, where a root-side `socat` forwards on to
 * the member. The datastore URL is therefore the same everywhere:
 * `etcd://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`. Nothing listens outside loopback.
 */

export interface LabEtcd {
  url: string;
  clientPorts: number[];
  processes: LabProcess[];
}

const ETCD_BIN = '/usr/bin/etcd';
const SOCAT = 'socat';
const HEALTH_TIMEOUT_MS = 30_000;

export async function startLabEtcd(dir: string, lab: string, size = 3): Promise<LabEtcd> {
  const ports = await freePorts(size * 2);
  const names = Array.from({ length: size }, (_, i) => `m${i + 1}`);
  const peer = (i: number) => `http://127.0.0.1:${ports[2 * i + 1]}`;
  const initial = names.map((n, i) => `${n}=${peer(i)}`).join(',');
  const processes: LabProcess[] = [];
  names.forEach((name, i) => {
    const client = `http://127.0.0.1:${ports[2 * i]}`;
    const dataDir = join(dir, 'etcd', name);
    mkdirSync(dataDir, { recursive: true });
    processes.push(startDaemon({
      role: `etcd:${name}`,
      cmd: ETCD_BIN,
      args: [
        '--name', name, '--data-dir', dataDir,
        '--listen-client-urls', client, '--advertise-client-urls', client,
        '--listen-peer-urls', peer(i), '--initial-advertise-peer-urls', peer(i),
        '--initial-cluster', initial, '--initial-cluster-token', `brindle-lab-${lab}-${ports[0]}`,
        '--initial-cluster-state', 'new', '--heartbeat-interval', '100', '--election-timeout', '1000',
        '--logger', 'zap', '--log-level', 'warn',
      ],
      log: join(dir, 'logs', `etcd-${name}.log`),
    }));
    processes.push(startDaemon({
      role: `relay:${name}`,
      cmd: SOCAT,
      args: [`UNIX-LISTEN:${relaySocket(dir, i)},fork,unlink-early`, `TCP:127.0.0.1:${ports[2 * i]}`],
      log: join(dir, 'logs', `relay-${name}.log`),
    }));
  });
  const clientPorts = names.map((_, i) => ports[2 * i]!);
  return { url: 'etcd://' + clientPorts.map((p) => `127.0.0.1:${p}`).join(','), clientPorts, processes };
}

export function relaySocket(dir: string, member: number): string {
  return join(dir, `etcd-m${member + 1}.sock`);
}

/** Starts one relay per member inside a node namespace (127.0.0.1:<port> → the member's socket). */
export function startNodeRelays(dir: string, node: string, netns: string, clientPorts: readonly number[]): LabProcess[] {
  return clientPorts.map((port, i) => startDaemon({
    role: `relay:m${i + 1}:${node}`,
    cmd: SOCAT,
    args: [`TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${relaySocket(dir, i)}`],
    netns,
    log: join(dir, 'logs', `relay-m${i + 1}-${node}.log`),
  }));
}

/** Waits until every member answers /health with true (from the root namespace). */
export async function waitEtcdHealthy(etcd: LabEtcd, dir: string): Promise<void> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  const pending = new Set(etcd.clientPorts);
  while (pending.size > 0 && Date.now() < deadline) {
    for (const port of [...pending]) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
        if (((await res.json()) as { health?: string }).health === 'true') pending.delete(port);
      } catch {
        // not up yet
      }
    }
    if (pending.size > 0) await sleep(100);
  }
  if (pending.size > 0) {
    throw new Error(`etcd members on ports ${[...pending].join(', ')} not healthy within ${HEALTH_TIMEOUT_MS / 1000} s; m1 log:\n${logTail(join(dir, 'logs', 'etcd-m1.log'))}`);
  }
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  })));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}
