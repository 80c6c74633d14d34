/**
 * What BIRD says about its sessions and routes, read over the control socket and parsed into
 * plain records (`brindle node status`, CalicoNodeStatus, tests and benchmarks read these).
 * Sessions come from `show protocols` (calicoctl's parser: BGP rows named `Mesh_|Node_|Global_<ip>`
 * are peers), routes from `show route` (each destination with its protocol and next hop), memory
 * from `show memory`. Parsing is pure; `readBirdStatus` does the I/O.
 */
import type { BirdClient, BirdReplyLine } from './bird-socket.js';

export interface BirdProtocol {
  name: string;
  proto: string;
  table: string;
  state: string;
  since: string;
  info: string;
}

export type PeerType = 'node-to-node mesh' | 'global' | 'node specific';

export interface BgpSession {
  name: string;
  peerAddress: string;
  port?: number;
  type: PeerType;
  /** BIRD's protocol state (`up`, `start`, `down`). */
  state: string;
  since: string;
  /** BGP state and extra detail (`Established`, `Active Socket: Connection refused`). */
  info: string;
}

export interface BirdRoute {
  dst: string;
  /** `unicast`, `blackhole`, `unreachable`… */
  kind: string;
  protocol: string;
  since: string;
  primary: boolean;
  via?: string;
  iface?: string;
  table: string;
}

export interface BirdStatus {
  version?: string;
  sessions: BgpSession[];
  protocols: BirdProtocol[];
  routes: BirdRoute[];
}

const ROW = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?|\S+)\s*(.*)$/;
const PEER_TYPES: Record<string, PeerType> = { Mesh: 'node-to-node mesh', Global: 'global', Node: 'node specific' };

export function parseProtocols(lines: readonly BirdReplyLine[]): BirdProtocol[] {
  const out: BirdProtocol[] = [];
  for (const l of lines) {
    if (l.code !== 1002) continue;
    const m = ROW.exec(l.text.trim());
    if (m) out.push({ name: m[1]!, proto: m[2]!, table: m[3]!, state: m[4]!, since: m[5]!, info: m[6]!.trim() });
  }
  return out;
}

/** A BGP protocol name back to its peer: `Mesh_10_0_0_2` → 10.0.0.2, `Node_fd00__2_port_1179` → fd00::2 port 1179. */
export function peerFromName(name: string): { type: PeerType; address: string; port?: number } | undefined {
  const m = /^(Mesh|Node|Global)_(.+?)(?:_port_(\d+))?$/.exec(name);
  if (!m) return undefined;
  const raw = m[2]!;
  const address = /^\d+_\d+_\d+_\d+$/.test(raw) ? raw.replace(/_/g, '.') : raw.replace(/_/g, ':');
  return m[3] ? { type: PEER_TYPES[m[1]!]!, address, port: Number(m[3]) } : { type: PEER_TYPES[m[1]!]!, address };
}

export function sessionsOf(protocols: readonly BirdProtocol[]): BgpSession[] {
  const out: BgpSession[] = [];
  for (const p of protocols) {
    if (p.proto !== 'BGP') continue;
    const peer = peerFromName(p.name);
    if (!peer) continue;
    const s: BgpSession = { name: p.name, peerAddress: peer.address, type: peer.type, state: p.state, since: p.since, info: p.info };
    if (peer.port) s.port = peer.port;
    out.push(s);
  }
  return out;
}

const ROUTE = /^(\S+)\s+(\w+)\s+\[(\S+)\s+([^\]]+?)\]\s*(\*)?/;

export function parseRoutes(lines: readonly BirdReplyLine[]): BirdRoute[] {
  const out: BirdRoute[] = [];
  let table = '';
  let lastDst = '';
  let cur: BirdRoute | undefined;
  for (const l of lines) {
    if (l.code !== 1007) continue;
    const text = l.text;
    const t = /^Table (\S+):$/.exec(text.trim());
    if (t) {
      table = t[1]!;
      continue;
    }
    const trimmed = text.trim();
    const via = /^via (\S+) on (\S+)/.exec(trimmed);
    const dev = /^dev (\S+)/.exec(trimmed);
    if (cur && (via || dev)) {
      if (via) {
        cur.via = via[1]!;
        cur.iface = via[2]!;
      } else cur.iface = dev![1]!;
      continue;
    }
    // A line for another route to the same destination starts with spaces and no prefix.
    const m = ROUTE.exec(trimmed) ?? (lastDst ? ROUTE.exec(`${lastDst} ${trimmed}`) : null);
    if (!m) continue;
    lastDst = m[1]!;
    cur = { dst: m[1]!, kind: m[2]!, protocol: m[3]!, since: m[4]!, primary: m[5] === '*', table };
    out.push(cur);
  }
  return out;
}

/** `show memory` → total bytes (effective + overhead). */
export function parseMemoryTotal(lines: readonly BirdReplyLine[]): number | undefined {
  for (const l of lines) {
    const m = /^\s*Total:\s+([\d.]+)\s+(k?B|MB|GB)\s+([\d.]+)\s+(k?B|MB|GB)/.exec(l.text);
    if (m) return toBytes(Number(m[1]), m[2]!) + toBytes(Number(m[3]), m[4]!);
  }
  return undefined;
}

function toBytes(n: number, unit: string): number {
  return Math.round(n * ({ B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 } as Record<string, number>)[unit]!);
}

export async function readBirdStatus(client: BirdClient, opts: { routes?: boolean } = {}): Promise<BirdStatus> {
  const protoLines = await client.command('show protocols');
  const protocols = parseProtocols(protoLines);
  const routes = opts.routes === false ? [] : parseRoutes(await client.command('show route'));
  return { protocols, sessions: sessionsOf(protocols), routes };
}
