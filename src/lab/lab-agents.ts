import { existsSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { BRINDLE_BIN } from './brindle-paths.js';
import { UNDERLAY_BITS } from './lab-names.js';
import type { LabNode, LabProcess } from './lab-state.js';
import { isRunning, logTail, sleep, startDaemon } from './process-supervisor.js';

/**
 * The node agents of a lab: `brindle agent --node NODE --datastore URL --run-dir DIR --ip IP --as
 * AS [--flow-logs …]` inside each node's namespace, and readiness through the agent's status API on
 * `<run-dir>/agent.sock` (`/readyz` answers 200 after its first in-sync apply).
 */

export const LAB_AS_NUMBER = 64512;
const READY_TIMEOUT_MS = 60_000;

export function startAgent(node: LabNode, datastoreUrl: string, logDir: string, extraArgs: readonly string[] = []): LabProcess {
  mkdirSync(node.runDir, { recursive: true });
  return startDaemon({
    role: `agent:${node.name}`,
    cmd: process.execPath,
    args: [BRINDLE_BIN, '--datastore', datastoreUrl, 'agent', '--node', node.name, '--run-dir', node.runDir, '--ip', `${node.ip}/${UNDERLAY_BITS}`, '--as', String(LAB_AS_NUMBER), ...extraArgs],
    netns: node.netns,
    log: join(logDir, `agent-${node.name}.log`),
  });
}

export function agentSocket(node: LabNode): string {
  return join(node.runDir, 'agent.sock');
}

/** GET on the agent's status socket: status code and body, or undefined if it does not answer. */
export function agentGet(node: LabNode, path: string, timeoutMs = 1000): Promise<{ status: number; body: string } | undefined> {
  const socketPath = agentSocket(node);
  if (!existsSync(socketPath)) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const req = request({ socketPath, path, method: 'GET', timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** Waits until every agent's /readyz answers 200; fails early, with its log, if one exits. */
export async function waitAgentsReady(nodes: readonly LabNode[], agents: ReadonlyMap<string, LabProcess>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const pending = new Set(nodes.map((n) => n.name));
  while (pending.size > 0) {
    for (const n of nodes.filter((x) => pending.has(x.name))) {
      const p = agents.get(n.name);
      if (p && !isRunning(p)) throw new Error(`the agent of ${n.name} exited; ${p.log}:\n${logTail(p.log)}`);
      const r = await agentGet(n, '/readyz');
      if (r?.status === 200) pending.delete(n.name);
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) {
      const first = agents.get([...pending][0]!);
      throw new Error(`agents of ${[...pending].join(', ')} not ready within ${READY_TIMEOUT_MS / 1000} s${first ? `; ${first.log}:\n${logTail(first.log)}` : ''}`);
    }
    await sleep(100);
  }
}
