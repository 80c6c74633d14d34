import type { Node, WorkloadEndpoint } from '../api/types.js';
import { allocationAt, blockCidr, inUseOrdinals, structuralProblems, affinityNode, type AllocationBlock } from './block.js';
import { cidrContains, cidrOverlaps, formatIp, ipAt, parseCidr, tryParseIp } from '../net/cidr.js';
import type { BlockAffinity, IpamHandle } from './ipam-store.js';
import type { IpamPool } from './pool-selection.js';

/**
 * What `brindle ipam check` finds, computed from one snapshot of IPAM state and the resources that
 * own addresses (pure). Also the leak rule shared with the release step, which re-applies it to
 * fresh data right before releasing anything.
 */

export interface LeakedIp {
  ip: string;
  block: string;
  handleId: string | null;
  sequenceNumber: number | undefined;
  attrs: Record<string, string>;
  reason: string;
}

export interface IpamCheckReport {
  kind: 'BrindleIpamCheckReport';
  version: 1;
  generatedAt: string;
  datastore: string;
  summary: { blocks: number; allocatedIps: number; handles: number; affinities: number; problems: number };
  leakedIps: LeakedIp[];
  inUseButUnallocated: { ip: string; owner: string }[];
  ipsOutsidePools: { ip: string; block: string; handleId: string | null }[];
  multiplyOwnedIps: { ip: string; owners: string[] }[];
  handlesWithNoIps: { handleId: string }[];
  handleMismatches: { handleId: string; block: string; handleCount: number; allocated: number }[];
  danglingAffinities: { node: string; cidr: string; state: string; reason: string }[];
  /** Blocks naming a node that holds no affinity for them (no node will allocate from them). */
  blocksWithoutAffinity: { cidr: string; node: string; inUse: number }[];
  invalidBlocks: { cidr: string; problems: string[] }[];
}

export interface IpamSnapshot {
  blocks: AllocationBlock[];
  affinities: BlockAffinity[];
  handles: IpamHandle[];
  pools: IpamPool[];
  nodes: Node[];
  workloadEndpoints: WorkloadEndpoint[];
}

/** Index of who may own addresses: WorkloadEndpoints by `namespace/name`, and node names. */
export interface OwnerIndex {
  weps: Map<string, WorkloadEndpoint>;
  nodes: Set<string>;
}

export function ownerIndex(nodes: Node[], weps: WorkloadEndpoint[]): OwnerIndex {
  return {
    weps: new Map(weps.map((w) => [`${w.metadata.namespace ?? 'default'}/${w.metadata.name}`, w])),
    nodes: new Set(nodes.map((n) => n.metadata.name)),
  };
}

/**
 * Why an allocation is a leak, or undefined when its owner still exists. Attributes `workload`
 * (+ `namespace`) name a WorkloadEndpoint that must exist and still list the address; otherwise an
 * attribute `node` names a Node that must exist. Allocations naming neither are not judged.
 */
export function leakReason(ip: string, attrs: Record<string, string>, owners: OwnerIndex): string | undefined {
  if (attrs['workload']) {
    const id = `${attrs['namespace'] ?? 'default'}/${attrs['workload']}`;
    const wep = owners.weps.get(id);
    if (!wep) return `workload endpoint ${id} does not exist`;
    const nets = wep.spec.ipNetworks ?? [];
    if (!nets.some((n) => n.split('/')[0] === ip)) return `workload endpoint ${id} no longer has this address`;
    return undefined;
  }
  if (attrs['node'] && !owners.nodes.has(attrs['node'])) return `node ${attrs['node']} does not exist`;
  return undefined;
}

export function buildReport(snap: IpamSnapshot, datastore: string, now: Date): IpamCheckReport {
  const owners = ownerIndex(snap.nodes, snap.workloadEndpoints);
  const r: IpamCheckReport = {
    kind: 'BrindleIpamCheckReport',
    version: 1,
    generatedAt: now.toISOString(),
    datastore,
    summary: { blocks: snap.blocks.length, allocatedIps: 0, handles: snap.handles.length, affinities: snap.affinities.length, problems: 0 },
    leakedIps: [],
    inUseButUnallocated: [],
    ipsOutsidePools: [],
    multiplyOwnedIps: [],
    handlesWithNoIps: [],
    handleMismatches: [],
    danglingAffinities: [],
    blocksWithoutAffinity: [],
    invalidBlocks: [],
  };
  const allocated = new Set<string>();
  const actual = new Map<string, Map<string, number>>(); // handle → block → count
  for (const b of snap.blocks) {
    const problems = structuralProblems(b);
    if (problems.length > 0) r.invalidBlocks.push({ cidr: b.cidr, problems });
    const cidr = blockCidr(b);
    for (const o of inUseOrdinals(b)) {
      const live = allocationAt(b, o);
      if (!live) continue;
      const ip = formatIp(ipAt(cidr, o));
      r.summary.allocatedIps++;
      allocated.add(ip);
      if (live.handleId) {
        const m = actual.get(live.handleId) ?? new Map<string, number>();
        m.set(b.cidr, (m.get(b.cidr) ?? 0) + 1);
        actual.set(live.handleId, m);
      }
      if (!snap.pools.some((p) => cidrContains(p.cidr, ipAt(cidr, o)))) r.ipsOutsidePools.push({ ip, block: b.cidr, handleId: live.handleId });
      const why = leakReason(ip, live.attrs, owners);
      if (why) r.leakedIps.push({ ip, block: b.cidr, handleId: live.handleId, sequenceNumber: live.sequenceNumber, attrs: live.attrs, reason: why });
    }
  }
  // Overlapping blocks would let two blocks hand out the same address.
  for (let i = 0; i < snap.blocks.length; i++) {
    for (let j = i + 1; j < snap.blocks.length; j++) {
      const a = snap.blocks[i]!;
      const b = snap.blocks[j]!;
      if (cidrOverlaps(parseCidr(a.cidr), parseCidr(b.cidr))) r.invalidBlocks.push({ cidr: a.cidr, problems: [`overlaps block ${b.cidr}`] });
    }
  }
  // Addresses that endpoints and node tunnels use.
  const users = new Map<string, string[]>();
  const use = (ipText: string | undefined, owner: string) => {
    const ip = ipText ? tryParseIp(ipText.split('/')[0]!) : undefined;
    if (!ip) return;
    const key = formatIp(ip);
    users.set(key, [...(users.get(key) ?? []), owner]);
  };
  for (const w of snap.workloadEndpoints) for (const n of w.spec.ipNetworks ?? []) use(n, `WorkloadEndpoint ${w.metadata.namespace ?? 'default'}/${w.metadata.name}`);
  for (const n of snap.nodes) {
    use(n.spec.bgp?.ipv4IPIPTunnelAddr, `Node ${n.metadata.name} (IPIP tunnel)`);
    use(n.spec.ipv4VXLANTunnelAddr, `Node ${n.metadata.name} (VXLAN tunnel)`);
    use(n.spec.ipv6VXLANTunnelAddr, `Node ${n.metadata.name} (VXLANv6 tunnel)`);
  }
  for (const [ip, owners2] of users) {
    if (owners2.length > 1) r.multiplyOwnedIps.push({ ip, owners: owners2 });
    const addr = tryParseIp(ip)!;
    if (!allocated.has(ip) && snap.pools.some((p) => cidrContains(p.cidr, addr))) r.inUseButUnallocated.push({ ip, owner: owners2.join(', ') });
  }
  // Handles against what the blocks say.
  const recorded = new Set<string>();
  for (const h of snap.handles) {
    recorded.add(h.handleID);
    const act = actual.get(h.handleID) ?? new Map<string, number>();
    if (act.size === 0) {
      r.handlesWithNoIps.push({ handleId: h.handleID });
      continue;
    }
    for (const cidr of new Set([...Object.keys(h.block), ...act.keys()])) {
      const handleCount = h.block[cidr] ?? 0;
      const n = act.get(cidr) ?? 0;
      if (handleCount !== n) r.handleMismatches.push({ handleId: h.handleID, block: cidr, handleCount, allocated: n });
    }
  }
  for (const [handleId, m] of actual) {
    if (recorded.has(handleId)) continue;
    for (const [cidr, n] of m) r.handleMismatches.push({ handleId, block: cidr, handleCount: 0, allocated: n });
  }
  // Affinities against blocks.
  const blockByCidr = new Map(snap.blocks.map((b) => [b.cidr, b]));
  for (const a of snap.affinities) {
    const b = blockByCidr.get(a.cidr);
    let reason: string | undefined;
    if (!b) reason = a.state === 'pending' ? 'pending claim with no block (interrupted claim)' : 'no block exists for this affinity';
    else if (affinityNode(b) !== a.node) reason = `block belongs to ${b.affinity ?? 'no node'}`;
    else if (a.state !== 'confirmed') reason = `affinity is ${a.state}`;
    if (reason) r.danglingAffinities.push({ node: a.node, cidr: a.cidr, state: a.state, reason });
  }
  const affinityKeys = new Set(snap.affinities.map((a) => `${a.node} ${a.cidr}`));
  for (const b of snap.blocks) {
    const node = affinityNode(b);
    if (node && !affinityKeys.has(`${node} ${b.cidr}`)) r.blocksWithoutAffinity.push({ cidr: b.cidr, node, inUse: inUseOrdinals(b).length });
  }
  r.summary.problems =
    r.leakedIps.length + r.inUseButUnallocated.length + r.ipsOutsidePools.length + r.multiplyOwnedIps.length + r.handlesWithNoIps.length + r.handleMismatches.length + r.danglingAffinities.length + r.blocksWithoutAffinity.length + r.invalidBlocks.length;
  return r;
}

export function isClean(r: IpamCheckReport): boolean {
  return r.summary.problems === 0;
}
