/**
 * PeerResolver (confd's `updatePeersV1` + `processMeshPeers`): which BGP sessions one node has.
 *   node-to-node mesh   every other BGP node that is not a route reflector (unless this node is one)
 *   BGPPeer peerIP      the address, for the nodes the peer's `node`/`nodeSelector` picks (all if neither)
 *   BGPPeer peerSelector every picked node peers with every selected node, and (unless
 *                       `reversePeering: Manual`) each selected node peers back with the picked ones
 * An explicit peering replaces a mesh one to the same address; the first BGPPeer (by name) wins
 * among explicit ones. Errors (a peer that is this node itself, a missing secret or filter) are
 * collected, not thrown, so one call reports all of them. It does NOT render anything.
 */
import type { BGPConfigurationSpec, BGPPeerSpec } from '../api/types.js';
import { parseSelector } from '../selector/index.js';
import { tryParseIp, formatIp } from '../net/cidr.js';
import type { BgpSnapshot, NodeRecord } from './bgp-state.js';
import type { BirdPeer, Family, PeerKind } from './model.js';
import { durationSeconds, nodeAddress, normaliseAs } from './bgp-values.js';

export type SecretLookup = (name: string, key: string) => string | undefined;

export interface PeerContext {
  me: NodeRecord;
  state: BgpSnapshot;
  config: BGPConfigurationSpec;
  globalAs: string;
  secrets: SecretLookup;
  errors: string[];
}

export function resolvePeers(ctx: PeerContext): BirdPeer[] {
  const byAddr = new Map<string, BirdPeer>();
  const explicit = new Set<string>();
  const add = (p: BirdPeer, isExplicit: boolean): void => {
    const k = `${p.ip}|${p.port ?? 179}`;
    if (explicit.has(k)) return;
    if (isExplicit) explicit.add(k);
    else if (byAddr.has(k)) return;
    byAddr.set(k, p);
  };

  const myRr = ctx.me.spec.bgp?.routeReflectorClusterID;
  if (ctx.config.nodeToNodeMeshEnabled !== false && !myRr) {
    for (const n of sortedNodes(ctx.state)) {
      if (n.name === ctx.me.name || !n.spec.bgp || n.spec.bgp.routeReflectorClusterID) continue;
      for (const p of nodePeers(ctx, n, 'mesh', 'node-to-node mesh', meshOptions(ctx))) add(p, false);
    }
  }

  for (const [name, spec] of [...ctx.state.peers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const kind: PeerKind = spec.node || spec.nodeSelector ? 'node' : 'global';
    const opts = peerOptions(ctx, name, spec);
    if (appliesTo(spec, ctx.me)) {
      if (spec.peerIP) {
        const p = ipPeer(ctx, name, spec, kind, opts);
        if (p) add(p, true);
      } else if (spec.peerSelector) {
        const sel = parseSelector(spec.peerSelector);
        for (const n of sortedNodes(ctx.state)) {
          if (n.name === ctx.me.name || !n.spec.bgp || !sel.evaluate(labelsOf(n))) continue;
          for (const p of nodePeers(ctx, n, kind, `BGPPeer ${name}`, opts)) add(p, true);
        }
      }
    }
    // The reverse half of a node-to-node peering: selected nodes peer back with the picked ones.
    if (spec.peerSelector && spec.reversePeering !== 'Manual' && parseSelector(spec.peerSelector).evaluate(labelsOf(ctx.me))) {
      for (const n of sortedNodes(ctx.state)) {
        if (n.name === ctx.me.name || !n.spec.bgp || !appliesTo(spec, n)) continue;
        for (const p of nodePeers(ctx, n, 'node', `BGPPeer ${name} (reverse)`, opts)) add(p, true);
      }
    }
  }
  return [...byAddr.values()];
}

interface PeerOptions {
  password?: string;
  restartTime?: number;
  keepaliveTime?: number;
  ttlSecurityHops?: number;
  allowLocalAs?: number;
  nextHop?: 'self' | 'keep';
  localAs?: string;
  noSourceAddress?: boolean;
  filters: string[];
}

function meshOptions(ctx: PeerContext): PeerOptions {
  const opts: PeerOptions = { filters: [] };
  const pw = ctx.config['nodeMeshPassword'] as BGPPeerSpec['password'] | undefined;
  if (pw?.secretKeyRef) opts.password = secret(ctx, 'BGPConfiguration default nodeMeshPassword', pw.secretKeyRef);
  const rt = ctx.config['nodeMeshMaxRestartTime'];
  if (typeof rt === 'string') opts.restartTime = durationSeconds(rt, 'BGPConfiguration default nodeMeshMaxRestartTime', ctx.errors);
  return opts;
}

function peerOptions(ctx: PeerContext, name: string, spec: BGPPeerSpec): PeerOptions {
  const what = `BGPPeer ${name}`;
  const opts: PeerOptions = { filters: [...(spec.filters ?? [])] };
  if (spec.password?.secretKeyRef) opts.password = secret(ctx, `${what} password`, spec.password.secretKeyRef);
  if (spec.maxRestartTime) opts.restartTime = durationSeconds(spec.maxRestartTime, `${what} maxRestartTime`, ctx.errors);
  if (spec.keepaliveTime) opts.keepaliveTime = durationSeconds(spec.keepaliveTime, `${what} keepaliveTime`, ctx.errors);
  if (spec.ttlSecurity) opts.ttlSecurityHops = spec.ttlSecurity;
  if (spec.numAllowedLocalASNumbers) opts.allowLocalAs = spec.numAllowedLocalASNumbers;
  if (spec.keepOriginalNextHop || spec.nextHopMode === 'Keep') opts.nextHop = 'keep';
  else if (spec.nextHopMode === 'Self') opts.nextHop = 'self';
  if (spec.localASNumber !== undefined) opts.localAs = normaliseAs(spec.localASNumber, `${what} localASNumber`, ctx.errors);
  if (spec.sourceAddress === 'None') opts.noSourceAddress = true;
  for (const f of opts.filters) if (!ctx.state.filters.has(f)) ctx.errors.push(`${what} uses BGPFilter "${f}", which does not exist`);
  return opts;
}

function secret(ctx: PeerContext, what: string, ref: { name: string; key: string }): string | undefined {
  const v = ctx.secrets(ref.name, ref.key);
  if (v === undefined) ctx.errors.push(`${what}: secret ${ref.name}/${ref.key} not found`);
  else if (/["\n\r]/.test(v)) ctx.errors.push(`${what}: secret ${ref.name}/${ref.key} contains a quote or a line break, which BIRD cannot read`);
  else return v;
  return undefined;
}

function ipPeer(ctx: PeerContext, name: string, spec: BGPPeerSpec, kind: PeerKind, opts: PeerOptions): BirdPeer | undefined {
  const parsed = parsePeerIP(spec.peerIP!);
  if (!parsed) {
    ctx.errors.push(`BGPPeer ${name}: peerIP "${spec.peerIP}" is not an IP address`);
    return undefined;
  }
  const mine = nodeAddress(ctx.me, parsed.family);
  if (mine === parsed.ip) {
    ctx.errors.push(`BGPPeer ${name}: peerIP ${parsed.ip} is node ${ctx.me.name}'s own address; a node cannot peer with itself`);
    return undefined;
  }
  if (!mine) return undefined; // this node has no address of that family: no session
  const as = spec.asNumber !== undefined ? normaliseAs(spec.asNumber, `BGPPeer ${name} asNumber`, ctx.errors) : localAs(ctx);
  // A peer that is one of our nodes keeps its route-reflector role for the rr client decision.
  const other = [...ctx.state.nodes.values()].find((n) => nodeAddress(n, parsed.family) === parsed.ip);
  return makePeer(ctx, kind, parsed.family, parsed.ip, parsed.port, as, `BGPPeer ${name}`, opts, other?.spec.bgp?.routeReflectorClusterID);
}

function nodePeers(ctx: PeerContext, n: NodeRecord, kind: PeerKind, origin: string, opts: PeerOptions): BirdPeer[] {
  const out: BirdPeer[] = [];
  for (const family of [4, 6] as const) {
    const ip = nodeAddress(n, family);
    if (!ip || !nodeAddress(ctx.me, family)) continue;
    const as = n.spec.bgp?.asNumber !== undefined ? normaliseAs(n.spec.bgp.asNumber, `node ${n.name} asNumber`, ctx.errors) : ctx.globalAs;
    out.push(makePeer(ctx, kind, family, ip, undefined, as, `${origin}: node ${n.name}`, opts, n.spec.bgp?.routeReflectorClusterID));
  }
  return out;
}

function makePeer(ctx: PeerContext, kind: PeerKind, family: Family, ip: string, port: number | undefined, as: string, origin: string, opts: PeerOptions, peerRr?: string): BirdPeer {
  const myIp = nodeAddress(ctx.me, family)!;
  const local = opts.localAs ?? localAs(ctx);
  const prefix = kind === 'mesh' ? 'Mesh' : kind === 'global' ? 'Global' : 'Node';
  const p: BirdPeer = {
    name: `${prefix}_${ip.replace(/[.:]/g, '_')}${port !== undefined && port !== 179 ? `_port_${port}` : ''}`,
    kind, family, ip, asNumber: as, localAsNumber: local, origin,
    passive: kind === 'mesh' && ip > myIp,
    internal: as === local,
    filters: opts.filters,
  };
  if (port !== undefined && port !== 179) p.port = port;
  if (!opts.noSourceAddress) p.localIp = myIp;
  const myRr = ctx.me.spec.bgp?.routeReflectorClusterID;
  if (myRr && p.internal && peerRr !== myRr) p.routeReflectorClient = myRr;
  for (const k of ['password', 'restartTime', 'keepaliveTime', 'ttlSecurityHops', 'allowLocalAs', 'nextHop'] as const) {
    if (opts[k] !== undefined) (p as unknown as Record<string, unknown>)[k] = opts[k];
  }
  return p;
}

function localAs(ctx: PeerContext): string {
  const own = ctx.me.spec.bgp?.asNumber;
  return own !== undefined ? normaliseAs(own, `node ${ctx.me.name} asNumber`, []) : ctx.globalAs;
}

function appliesTo(spec: BGPPeerSpec, n: NodeRecord): boolean {
  if (spec.node) return spec.node === n.name;
  if (spec.nodeSelector) return parseSelector(spec.nodeSelector).evaluate(labelsOf(n));
  return true;
}

function labelsOf(n: NodeRecord): { get(k: string): string | undefined } {
  return { get: (k) => n.labels[k] };
}

function sortedNodes(state: BgpSnapshot): NodeRecord[] {
  return [...state.nodes.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** `IP`, `IPv4:port` or `[IPv6]:port`. */
export function parsePeerIP(v: string): { ip: string; family: Family; port?: number } | undefined {
  const br = /^\[([^\]]+)\]:(\d{1,5})$/.exec(v);
  const v4 = /^([\d.]+):(\d{1,5})$/.exec(v);
  const [host, port] = br ? [br[1]!, Number(br[2])] : v4 ? [v4[1]!, Number(v4[2])] : [v, undefined];
  const ip = tryParseIp(host);
  if (!ip || (port !== undefined && (port < 1 || port > 65535))) return undefined;
  return port === undefined ? { ip: formatIp(ip), family: ip.family } : { ip: formatIp(ip), family: ip.family, port };
}
