import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError } from '../errors.js';
import type { LabFlowLogs } from './lab-flow-logs.js';

/**
 * The lab's state file, `<root>/<lab>/state.json`: every namespace, process and workload the lab
 * made, written BEFORE the thing is created (a namespace) or right after (a PID), so that `lab
 * down` can remove all of it after a crash of `lab up` or of anything it started. Writes are
 * atomic (temp file + rename); read-modify-write sequences hold `lock` (O_EXCL, the holder's PID
 * inside; a lock whose holder died is taken over).
 */

export type Routing = 'bgp' | 'vxlan';
export type DatastoreKind = 'sqlite' | 'etcd';

export interface LabProcess {
  /** `agent:node-1`, `etcd:m1`, `relay:m1:node-1`, `serve:x/a`… */
  role: string;
  pid: number;
  /** /proc/<pid>/stat start time: a PID reused by another process is never signalled. */
  startTime: string;
  netns?: string;
  log: string;
}

export interface LabNode {
  name: string;
  index: number;
  netns: string;
  ip: string;
  runDir: string;
}

export interface ServePort {
  port: number;
  protocol: 'tcp' | 'udp';
}

export interface LabWorkload {
  namespace: string;
  name: string;
  node: string;
  netns: string;
  containerId: string;
  ip?: string;
  labels: Record<string, string>;
  serve: ServePort[];
}

export interface LabState {
  version: 1;
  name: string;
  createdAt: string;
  routing: Routing;
  datastore: { kind: DatastoreKind; url: string };
  /** Set when the agents record flows (`lab up --flow-logs`). */
  flowLogs?: LabFlowLogs;
  nodes: LabNode[];
  /** Every network namespace the lab made (or was about to make), in creation order. */
  namespaces: string[];
  processes: LabProcess[];
  workloads: LabWorkload[];
}

const LOCK_WAIT_MS = 60_000;

export class LabStateStore {
  readonly dir: string;
  constructor(root: string, readonly lab: string) {
    this.dir = join(root, lab);
  }

  get path(): string {
    return join(this.dir, 'state.json');
  }

  exists(): boolean {
    return existsSync(this.path);
  }

  load(): LabState | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return undefined;
    }
    return JSON.parse(text) as LabState;
  }

  save(state: LabState): void {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
    renameSync(tmp, this.path);
  }

  /** Loads, lets `fn` change the state, saves it (also when `fn` throws after changing it). */
  async update<T>(fn: (s: LabState) => Promise<T> | T): Promise<T> {
    return this.withLock(async () => {
      const s = this.load();
      if (!s) throw new ConflictError(`lab "${this.lab}" is not up (no ${this.path}); run brindle lab up --name ${this.lab}`);
      try {
        return await fn(s);
      } finally {
        this.save(s);
      }
    });
  }

  /** Removes the state directory (logs, sockets, datastore file). */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    mkdirSync(this.dir, { recursive: true });
    const lock = join(this.dir, 'lock');
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const fd = openSync(lock, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if (!lockHolderAlive(lock)) {
          rmSync(lock, { force: true });
          continue;
        }
        if (Date.now() > deadline) throw new ConflictError(`lab "${this.lab}" is busy: ${lock} held by PID ${readFileSync(lock, 'utf8')} for over ${LOCK_WAIT_MS / 1000} s`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    try {
      return await fn();
    } finally {
      rmSync(lock, { force: true });
    }
  }
}

function lockHolderAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(lock, 'utf8'));
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
