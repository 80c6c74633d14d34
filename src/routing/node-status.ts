/**
 * BIRD's status as people and resources see it (pure): the `brindle node status` text (calicoctl's
 * tables: one row per BGP session, then the routes learned over BGP) and the `status` of a
 * CalicoNodeStatus resource (classes Agent, BGP, Routes, in Calico's field names).
 */
import type { BgpSession, BirdRoute, BirdStatus } from './bird-status.js';

const familyOf = (addr: string): 4 | 6 => (addr.includes(':') ? 6 : 4);

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const fmt = (r: string[]): string => '| ' + r.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [line, fmt(head), line, ...rows.map(fmt), line];
}

/** Routes BIRD learned from BGP peers (not its own blackholes or the kernel's). */
export function bgpRoutes(status: BirdStatus): BirdRoute[] {
  const peers = new Set(status.sessions.map((s) => s.name));
  return status.routes.filter((r) => peers.has(r.protocol));
}

export function formatNodeStatus(node: string, status: BirdStatus, opts: { routes?: boolean } = {}): string {
  const out: string[] = [`BIRD is running on node ${node}.`, ''];
  for (const f of [4, 6] as const) {
    const sessions = status.sessions.filter((s) => familyOf(s.peerAddress) === f);
    out.push(`IPv${f} BGP status`);
    if (sessions.length === 0) out.push(`No IPv${f} peers found.`);
    else out.push(...table(['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'],
      sessions.map((s) => [s.port ? `${s.peerAddress} port ${s.port}` : s.peerAddress, s.type, s.state, s.since, s.info])));
    out.push('');
  }
  if (opts.routes !== false) {
    const routes = bgpRoutes(status);
    out.push('Routes learned over BGP');
    if (routes.length === 0) out.push('None.');
    else out.push(...table(['DESTINATION', 'GATEWAY', 'INTERFACE', 'FROM', 'BEST'],
      routes.map((r) => [r.dst, r.via ?? '-', r.iface ?? '-', peerOf(status.sessions, r.protocol), r.primary ? 'yes' : 'no'])));
    out.push('');
  }
  return out.join('\n');
}

function peerOf(sessions: BgpSession[], protocol: string): string {
  return sessions.find((s) => s.name === protocol)?.peerAddress ?? protocol;
}

const PEER_TYPE: Record<BgpSession['type'], string> = { 'node-to-node mesh': 'NodeMesh', global: 'GlobalPeer', 'node specific': 'NodePeer' };

export interface CalicoNodeStatusStatus {
  lastUpdated: string;
  agent?: { birdV4: { state: string; routerID?: string; lastBootTime?: string; lastReconfigurationTime?: string } };
  bgp?: {
    numberEstablishedV4: number; numberNotEstablishedV4: number; numberEstablishedV6: number; numberNotEstablishedV6: number;
    peersV4: { peerIP: string; type: string; state: string; since: string }[];
    peersV6: { peerIP: string; type: string; state: string; since: string }[];
  };
  routes?: {
    routesV4: { type: 'RIB'; destination: string; gateway: string; interface: string; learnedFrom: { sourceType: string; peerIP?: string } }[];
    routesV6: { type: 'RIB'; destination: string; gateway: string; interface: string; learnedFrom: { sourceType: string; peerIP?: string } }[];
  };
}

/** The status block of a CalicoNodeStatus for the classes it asks for; `bird` undefined means BIRD is down. */
export function calicoNodeStatus(classes: readonly string[], bird: BirdStatus | undefined, now: Date, extra: { routerId?: string; lastBootTime?: string; lastReconfigurationTime?: string } = {}): CalicoNodeStatusStatus {
  const st: CalicoNodeStatusStatus = { lastUpdated: now.toISOString() };
  if (classes.includes('Agent')) {
    st.agent = { birdV4: { state: bird ? 'Ready' : 'NotReady' } };
    if (extra.routerId) st.agent.birdV4.routerID = extra.routerId;
    if (extra.lastBootTime) st.agent.birdV4.lastBootTime = extra.lastBootTime;
    if (extra.lastReconfigurationTime) st.agent.birdV4.lastReconfigurationTime = extra.lastReconfigurationTime;
  }
  const sessions = bird?.sessions ?? [];
  if (classes.includes('BGP')) {
    const peers = (f: 4 | 6) => sessions.filter((s) => familyOf(s.peerAddress) === f)
      .map((s) => ({ peerIP: s.peerAddress, type: PEER_TYPE[s.type], state: s.info.split(/\s+/)[0] || s.state, since: s.since }));
    const v4 = peers(4);
    const v6 = peers(6);
    st.bgp = {
      numberEstablishedV4: v4.filter((p) => p.state === 'Established').length, numberNotEstablishedV4: v4.filter((p) => p.state !== 'Established').length,
      numberEstablishedV6: v6.filter((p) => p.state === 'Established').length, numberNotEstablishedV6: v6.filter((p) => p.state !== 'Established').length,
      peersV4: v4, peersV6: v6,
    };
  }
  if (classes.includes('Routes')) {
    const routes = (f: 4 | 6) => (bird ? bird.routes : []).filter((r) => r.primary && familyOf(r.dst) === f).map((r) => {
      const peer = sessions.find((s) => s.name === r.protocol);
      const sourceType = peer ? (peer.type === 'node-to-node mesh' ? 'NodeMesh' : 'BGPPeer') : /^kernel/.test(r.protocol) ? 'Kernel' : /^direct/.test(r.protocol) ? 'Direct' : 'Static';
      return { type: 'RIB' as const, destination: r.dst, gateway: r.via ?? '', interface: r.iface ?? '', learnedFrom: peer ? { sourceType, peerIP: peer.peerAddress } : { sourceType } };
    });
    st.routes = { routesV4: routes(4), routesV6: routes(6) };
  }
  return st;
}
