import type { Resource } from '../../api/types.js';

/**
 * The `-o ps` and `-o wide` table columns per kind, after calicoctl's `resourcemgr/*.go`
 * (e.g. IPPool `NAME CIDR SELECTOR`; wide adds NAT, encapsulation and the rest).
 */

export interface Column {
  header: string;
  value(r: Resource): string;
}

type Spec = Record<string, any>;
const spec = (r: Resource): Spec => (r.spec ?? {}) as Spec;
const col = (header: string, value: (r: Resource) => unknown): Column => ({ header, value: (r) => text(value(r)) });

const NAME = col('NAME', (r) => r.metadata.name);
const NAMESPACE = col('NAMESPACE', (r) => r.metadata.namespace);
const ORDER = col('ORDER', (r) => spec(r)['order']);
const SELECTOR = col('SELECTOR', (r) => spec(r)['selector']);

interface KindColumns {
  ps: Column[];
  wide: Column[];
}

const COLUMNS: Record<string, KindColumns> = {
  IPPool: {
    ps: [NAME, col('CIDR', (r) => spec(r)['cidr']), col('SELECTOR', (r) => spec(r)['nodeSelector'])],
    wide: [
      NAME,
      col('CIDR', (r) => spec(r)['cidr']),
      col('NAT', (r) => spec(r)['natOutgoing'] ?? false),
      col('IPIPMODE', (r) => spec(r)['ipipMode']),
      col('VXLANMODE', (r) => spec(r)['vxlanMode']),
      col('DISABLED', (r) => spec(r)['disabled'] ?? false),
      col('DISABLEBGPEXPORT', (r) => spec(r)['disableBGPExport'] ?? false),
      col('SELECTOR', (r) => spec(r)['nodeSelector']),
      col('ALLOWEDUSES', (r) => spec(r)['allowedUses']),
      col('ASSIGNMENTMODE', (r) => spec(r)['assignmentMode']),
    ],
  },
  IPReservation: { ps: [NAME, col('CIDRS', (r) => spec(r)['reservedCIDRs'])], wide: [NAME, col('CIDRS', (r) => spec(r)['reservedCIDRs'])] },
  NetworkPolicy: { ps: [NAME, col('TIER', (r) => spec(r)['tier'])], wide: [NAME, col('TIER', (r) => spec(r)['tier']), ORDER, SELECTOR] },
  GlobalNetworkPolicy: { ps: [NAME], wide: [NAME, col('TIER', (r) => spec(r)['tier']), ORDER, SELECTOR] },
  StagedNetworkPolicy: { ps: [NAME], wide: [NAME, col('TIER', (r) => spec(r)['tier']), ORDER, SELECTOR, col('STAGEDACTION', (r) => spec(r)['stagedAction'])] },
  StagedGlobalNetworkPolicy: { ps: [NAME], wide: [NAME, col('TIER', (r) => spec(r)['tier']), ORDER, SELECTOR, col('STAGEDACTION', (r) => spec(r)['stagedAction'])] },
  Tier: { ps: [NAME, ORDER], wide: [NAME, ORDER, col('DEFAULTACTION', (r) => spec(r)['defaultAction'])] },
  Profile: { ps: [NAME], wide: [NAME, col('LABELS', (r) => labelsText(spec(r)['labelsToApply']))] },
  HostEndpoint: {
    ps: [NAME, col('NODE', (r) => spec(r)['node'])],
    wide: [NAME, col('NODE', (r) => spec(r)['node']), col('INTERFACE', (r) => spec(r)['interfaceName']), col('IPS', (r) => spec(r)['expectedIPs']), col('PROFILES', (r) => spec(r)['profiles'])],
  },
  WorkloadEndpoint: {
    ps: [col('WORKLOAD', (r) => spec(r)['workload'] ?? spec(r)['pod']), col('NODE', (r) => spec(r)['node']), col('NETWORKS', (r) => spec(r)['ipNetworks']), col('INTERFACE', (r) => spec(r)['interfaceName'])],
    wide: [
      NAME,
      col('WORKLOAD', (r) => spec(r)['workload'] ?? spec(r)['pod']),
      col('NODE', (r) => spec(r)['node']),
      col('NETWORKS', (r) => spec(r)['ipNetworks']),
      col('INTERFACE', (r) => spec(r)['interfaceName']),
      col('PROFILES', (r) => spec(r)['profiles']),
      col('NATS', (r) => (spec(r)['ipNATs'] ?? []).map((n: { internalIP: string; externalIP: string }) => `${n.internalIP}:${n.externalIP}`)),
    ],
  },
  Node: {
    ps: [NAME],
    wide: [NAME, nodeASColumn(64512), col('IPV4', (r) => spec(r)['bgp']?.['ipv4Address']), col('IPV6', (r) => spec(r)['bgp']?.['ipv6Address'])],
  },
  NetworkSet: { ps: [NAME], wide: [NAME, col('NETS', (r) => spec(r)['nets'])] },
  GlobalNetworkSet: { ps: [NAME], wide: [NAME, col('NETS', (r) => spec(r)['nets'])] },
  BGPPeer: {
    ps: [NAME, col('PEERIP', (r) => spec(r)['peerIP'] ?? spec(r)['peerSelector']), col('NODE', (r) => spec(r)['node'] ?? spec(r)['nodeSelector'] ?? '(global)'), col('ASN', (r) => spec(r)['asNumber'])],
    wide: [
      NAME,
      col('PEERIP', (r) => spec(r)['peerIP'] ?? spec(r)['peerSelector']),
      col('NODE', (r) => spec(r)['node'] ?? spec(r)['nodeSelector'] ?? '(global)'),
      col('ASN', (r) => spec(r)['asNumber']),
      col('FILTERS', (r) => spec(r)['filters']),
    ],
  },
  BGPConfiguration: {
    ps: [NAME, col('LOGSEVERITY', (r) => spec(r)['logSeverityScreen']), col('MESHENABLED', (r) => spec(r)['nodeToNodeMeshEnabled']), col('ASNUMBER', (r) => spec(r)['asNumber'])],
    wide: [NAME, col('LOGSEVERITY', (r) => spec(r)['logSeverityScreen']), col('MESHENABLED', (r) => spec(r)['nodeToNodeMeshEnabled']), col('ASNUMBER', (r) => spec(r)['asNumber']), col('LISTENPORT', (r) => spec(r)['listenPort'])],
  },
  IPAMConfiguration: {
    ps: [NAME, col('STRICTAFFINITY', (r) => spec(r)['strictAffinity']), col('MAXBLOCKSPERHOST', (r) => spec(r)['maxBlocksPerHost'] ?? 0)],
    wide: [NAME, col('STRICTAFFINITY', (r) => spec(r)['strictAffinity']), col('AUTOALLOCATEBLOCKS', (r) => spec(r)['autoAllocateBlocks']), col('MAXBLOCKSPERHOST', (r) => spec(r)['maxBlocksPerHost'] ?? 0)],
  },
};

/**
 * A Node's AS number; a BGP node without its own uses the cluster's (BGPConfiguration `default`,
 * else 64512), which calicoctl shows in parentheses. Empty for a node without BGP.
 */
function nodeASColumn(clusterASNumber: string | number): Column {
  return col('ASN', (r) => (spec(r)['bgp'] ? spec(r)['bgp']['asNumber'] ?? `(${clusterASNumber})` : ''));
}

/**
 * Columns for a kind; namespaced kinds get NAMESPACE first when listing across namespaces.
 * `clusterASNumber` is the AS number of Nodes without their own (default 64512).
 */
export function columnsFor(kind: string, wide: boolean, withNamespace: boolean, clusterASNumber?: string | number): Column[] {
  const c = COLUMNS[kind] ?? { ps: [NAME], wide: [NAME] };
  let cols = wide ? c.wide : c.ps;
  if (clusterASNumber !== undefined) cols = cols.map((x) => (kind === 'Node' && x.header === 'ASN' ? nodeASColumn(clusterASNumber) : x));
  return withNamespace ? [NAMESPACE, ...cols] : cols;
}

/** Renders rows like Go's tabwriter as calicoctl uses it: columns padded by 3 spaces. */
export function renderTable(columns: Column[], items: Resource[]): string {
  const rows = [columns.map((c) => c.header), ...items.map((r) => columns.map((c) => c.value(r)))];
  const widths = columns.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join('').trimEnd() + '\n').join('');
}

function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map(String).join(',');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function labelsText(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
}
