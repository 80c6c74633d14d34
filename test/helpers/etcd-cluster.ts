import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Starts a real etcd cluster (the installed `/usr/bin/etcd`) on 127.0.0.1 for tests: free ports
 * found by binding port 0, data under a `brindle-etcd-XXXX` temp dir (in /dev/shm when present).
 * Members are killed by PID and the temp dir removed by `stop()`; a process 'exit' hook SIGKILLs
 * whatever is still running if a test forgets. It does not touch anything outside its temp dir.
 */

export interface EtcdMember {
  name: string;
  clientUrl: string;
  pid: number;
  dataDir: string;
}

export interface EtcdCluster {
  /** 'etcd://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3' */
  url: string;
  members: EtcdMember[];
  /** Asks the running members which one is the raft leader (waits, bounded, during an election). */
  leader(): Promise<EtcdMember>;
  /** SIGKILL by PID, waits for the process to exit. */
  kill(member: EtcdMember): Promise<void>;
  /** Starts the member again on its data dir and ports; waits until it answers /health. */
  restart(member: EtcdMember): Promise<void>;
  /** Kills every member by PID and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const ETCD_BIN = '/usr/bin/etcd';
const START_TIMEOUT_MS = 20_000;
const LEADER_TIMEOUT_MS = 15_000;

const livePids = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of livePids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

interface MemberState {
  member: EtcdMember;
  args: string[];
  logPath: string;
  child: ChildProcess | null;
  exited: Promise<void> | null;
}

/** `dataRoot` overrides where the temp dir goes (default /dev/shm, else the OS temp dir). */
export async function startEtcdCluster(opts: { size?: number; dataRoot?: string } = {}): Promise<EtcdCluster> {
  const size = opts.size ?? 3;
  installExitHook();
  const base = opts.dataRoot ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
  const root = mkdtempSync(join(base, 'brindle-etcd-'));
  const ports = await freePorts(size * 2);
  const names = Array.from({ length: size }, (_, i) => `m${i + 1}`);
  const peerUrl = (i: number) => `http://127.0.0.1:${ports[2 * i + 1]}`;
  const initialCluster = names.map((n, i) => `${n}=${peerUrl(i)}`).join(',');
  const states: MemberState[] = names.map((name, i) => {
    const clientUrl = `http://127.0.0.1:${ports[2 * i]}`;
    const dataDir = join(root, name);
    mkdirSync(dataDir, { recursive: true });
    const args = [
      '--name', name, '--data-dir', dataDir,
      '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl(i), '--initial-advertise-peer-urls', peerUrl(i),
      '--initial-cluster', initialCluster, '--initial-cluster-token', `brindle-${ports[0]}`,
      '--initial-cluster-state', 'new', '--heartbeat-interval', '100', '--election-timeout', '1000',
      '--logger', 'zap', '--log-level', 'warn',
    ];
    return { member: { name, clientUrl, pid: 0, dataDir }, args, logPath: join(root, `${name}.log`), child: null, exited: null };
  });

  let stopped = false;
  const launch = (s: MemberState): void => {
    const fd = openSync(s.logPath, 'a');
    const child = spawn(ETCD_BIN, s.args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    if (child.pid === undefined) throw new Error(`cannot start etcd member ${s.member.name}: spawn failed`);
    s.child = child;
    s.member.pid = child.pid;
    livePids.add(child.pid);
    const pid = child.pid;
    s.exited = new Promise((resolve) => child.once('exit', () => {
      livePids.delete(pid);
      resolve();
    }));
  };
  const killState = async (s: MemberState): Promise<void> => {
    if (!s.child || s.child.exitCode !== null || s.child.signalCode !== null) return;
    try {
      process.kill(s.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    await s.exited;
  };
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(states.map(killState));
    rmSync(root, { recursive: true, force: true });
  };
  const stateOf = (m: EtcdMember): MemberState => {
    const s = states.find((x) => x.member.name === m.name);
    if (!s) throw new Error(`etcd member ${m.name} is not part of this cluster`);
    return s;
  };

  try {
    states.forEach(launch);
    await Promise.all(states.map((s) => waitHealthy(s)));
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    url: 'etcd://' + states.map((s) => s.member.clientUrl.replace('http://', '')).join(','),
    members: states.map((s) => s.member),
    leader: () => findLeader(states),
    kill: (m) => killState(stateOf(m)),
    restart: async (m) => {
      const s = stateOf(m);
      await killState(s);
      launch(s);
      await waitHealthy(s);
    },
    stop,
  };
}

async function waitHealthy(s: MemberState): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (s.child && (s.child.exitCode !== null || s.child.signalCode !== null)) break;
    try {
      const res = await fetch(`${s.member.clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { health?: string };
      if (body.health === 'true') return;
    } catch {
      // not up yet
    }
    await sleep(50);
  }
  throw new Error(`etcd member ${s.member.name} (${s.member.clientUrl}) did not become healthy within ${START_TIMEOUT_MS} ms; log tail:\n${logTail(s.logPath)}`);
}

async function findLeader(states: MemberState[]): Promise<EtcdMember> {
  const deadline = Date.now() + LEADER_TIMEOUT_MS;
  while (Date.now() < deadline) {
    for (const s of states) {
      if (!s.child || s.child.exitCode !== null || s.child.signalCode !== null) continue;
      try {
        const res = await fetch(`${s.member.clientUrl}/v3/maintenance/status`, {
          method: 'POST', body: '{}', signal: AbortSignal.timeout(1000),
        });
        const body = (await res.json()) as { header?: { member_id?: string }; leader?: string };
        if (body.leader && body.leader !== '0' && body.header?.member_id === body.leader) return s.member;
      } catch {
        // member down or busy: ask the next one
      }
    }
    await sleep(100);
  }
  throw new Error(`no etcd member reported itself leader within ${LEADER_TIMEOUT_MS} ms`);
}

/** `n` distinct free TCP ports on 127.0.0.1 (bound to port 0, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  })));
  const ports = servers.map((s) => {
    const addr = s.address();
    if (addr === null || typeof addr === 'string') throw new Error('cannot find a free port on 127.0.0.1');
    return addr.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

function logTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
