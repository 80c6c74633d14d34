import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Exec } from '../base/exec.js';
import type { LabNode } from './lab-state.js';
import { sleep } from './process-supervisor.js';

/**
 * What the lab reads of each node's routing: the BGP sessions of the BIRD its agent supervises
 * (through BIRD's control socket in the node's run directory, `birdc -s … show protocols`).
 * Read-only: the agent owns BIRD.
 */

export interface BgpSession {
  name: string;
  state: string;
  info: string;
}

const MESH_TIMEOUT_MS = 60_000;
const NO_BIRD_MS = 10_000;

/** BIRD's control socket in the node's run directory (searched two levels deep), if any. */
export function birdSocket(node: LabNode): string | undefined {
  const dirs = [node.runDir, join(node.runDir, 'bird')];
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    const f = readdirSync(d).find((x) => /^bird.*\.(ctl|sock)$/.test(x));
    if (f) return join(d, f);
  }
  return undefined;
}

/** Parses `birdc show protocols`: the BGP protocols with their state and info column. */
export function parseBgpProtocols(text: string): BgpSession[] {
  const out: BgpSession[] = [];
  // Name Proto Table State Since Info…; Since is a time, optionally after a date.
  const re = /^(\S+)\s+BGP\s+\S+\s+(\S+)\s+(?:\d{4}-\d{2}-\d{2}\s+)?\d{2}:\d{2}:\d{2}(?:\.\d+)?\s*(.*)$/;
  for (const line of text.split('\n')) {
    const m = re.exec(line.trim());
    if (m) out.push({ name: m[1]!, state: m[2]!, info: m[3]!.trim() });
  }
  return out;
}

export async function bgpSessions(exec: Exec, node: LabNode): Promise<BgpSession[] | undefined> {
  const sock = birdSocket(node);
  if (!sock) return undefined;
  try {
    const { stdout } = await exec.run('birdc', ['-s', sock, 'show', 'protocols'], { timeoutMs: 3000 });
    return parseBgpProtocols(stdout);
  } catch {
    return undefined;
  }
}

/** Waits until every node has an Established session to each of the others. */
export async function waitBgpMesh(exec: Exec, nodes: readonly LabNode[], warn: (text: string) => void = () => undefined): Promise<void> {
  const deadline = Date.now() + MESH_TIMEOUT_MS;
  const noBird = Date.now() + NO_BIRD_MS;
  let last = '';
  for (;;) {
    if (Date.now() > noBird && nodes.every((n) => birdSocket(n) === undefined)) {
      warn(`no agent runs BIRD (no bird.ctl in any node's run directory): this build's agent does not route, so workloads on different nodes cannot reach each other`);
      return;
    }
    const lagging: string[] = [];
    for (const n of nodes) {
      const s = await bgpSessions(exec, n);
      const up = (s ?? []).filter((x) => x.info.startsWith('Established')).length;
      if (up < nodes.length - 1) lagging.push(`${n.name} ${s === undefined ? 'no BIRD socket' : `${up}/${nodes.length - 1}`}`);
    }
    if (lagging.length === 0) return;
    last = lagging.join(', ');
    if (Date.now() > deadline) throw new Error(`BGP mesh not established within ${MESH_TIMEOUT_MS / 1000} s: ${last}`);
    await sleep(200);
  }
}
