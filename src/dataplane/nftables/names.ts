/**
 * Names of everything Brindle creates in nftables, in one place. Everything lives in the table
 * `inet brindle` (IPv4 and IPv6); chain and set names carry a short kind prefix so a listing reads
 * by itself and leftovers are recognisable after a restart with no memory. Names are plain nft
 * identifiers (letters, digits, `-`, `_`, `.`), never a bare nft keyword (`fwd`, `ip`, …), because
 * every name has a `<kind>-` prefix. Long or unusual inputs become a hash.
 */
import { createHash } from 'node:crypto';

export const TABLE_FAMILY = 'inet';
export const TABLE_NAME = 'brindle';
export const TABLE = `${TABLE_FAMILY} ${TABLE_NAME}`;

/** Packet mark bits (Felix's defaults): a policy accepted / passed the packet. */
export const MARK_ACCEPT = 0x10000;
export const MARK_PASS = 0x20000;
export const MARK_ALL = MARK_ACCEPT | MARK_PASS;

/** Workload interfaces: the CNI plugin names the host side `cali<11 hex>`. */
export const WORKLOAD_IFACE_PREFIX = 'cali';

export type Family = 4 | 6;

export function shortHash(text: string, len = 16): string {
  return createHash('sha256').update(text).digest('hex').slice(0, len);
}

const SAFE = /^[A-Za-z0-9_.-]{1,40}$/;

/** An interface name as a chain-name suffix (hashed if it has characters nft would not take). */
export function ifaceToken(iface: string): string {
  return SAFE.test(iface) ? iface : `h${shortHash(iface, 12)}`;
}

export type PolicyDirection = 'in' | 'out';

/** Chain of a policy's rules for one direction: `pi-<hash>` (ingress) / `po-<hash>` (egress). */
export function policyChain(policyKey: string, dir: PolicyDirection): string {
  return `p${dir === 'in' ? 'i' : 'o'}-${shortHash(`policy/${policyKey}`)}`;
}

/** Chain of a profile's rules: `ri-<hash>` / `ro-<hash>`. */
export function profileChain(name: string, dir: PolicyDirection): string {
  return `r${dir === 'in' ? 'i' : 'o'}-${shortHash(`profile/${name}`)}`;
}

/** Per-endpoint chains. Workloads: `tw-` (to workload = ingress), `fw-` (from workload = egress). */
export type EndpointChainKind =
  | 'tw' | 'fw' // workload
  | 'th' | 'fh' // host endpoint, traffic to / from the host itself
  | 'thf' | 'fhf' // host endpoint, forwarded traffic (applyOnForward)
  | 'fhp' // host endpoint, pre-DNAT (ingress only)
  | 'thu' | 'fhu'; // host endpoint, untracked (doNotTrack)

export function endpointChain(kind: EndpointChainKind, iface: string): string {
  return `${kind}-${ifaceToken(iface)}`;
}

/** Host endpoint kinds (the chains a host endpoint has). */
export type HostChainKind = Exclude<EndpointChainKind, 'tw' | 'fw'>;

/**
 * The all-interfaces (`interfaceName: "*"`) host endpoint's entry for one kind: `any-fh`, … The
 * static chains jump here for interfaces that are neither a workload's, `lo`, nor a host
 * endpoint's of their own; empty while no such host endpoint exists.
 */
export function anyHostChain(kind: HostChainKind): string {
  return `any-${kind}`;
}

/** The interface name of an all-interfaces host endpoint. */
export const ALL_INTERFACES = '*';

/** Never policed by the all-interfaces host endpoint: loopback and Brindle's own tunnel devices. */
export const NOT_ANY_HEP_IFACES = ['lo', 'vxlan.calico', 'vxlan-v6.calico', 'tunl0'];

/**
 * A tier's policy jumps for one direction, shared by every endpoint with the same policy list
 * there (Felix's policy groups, widened to the whole tier): `gi-<hash>` / `go-<hash>`.
 */
export function tierGroupChain(dir: PolicyDirection, identity: string): string {
  return `g${dir === 'in' ? 'i' : 'o'}-${shortHash(`group/${identity}`)}`;
}

/** IP-set kinds: `s` plain addresses, `n` with CIDRs (interval set), `p` named ports (`addr . proto . port`). */
export type SetShape = 's' | 'n' | 'p';

/** nft set for one family of a calc IP set: `s4-<hash>`, `n6-<hash>`, `p4-<hash>`. */
export function ipSetName(id: string, family: Family, shape: SetShape): string {
  return `${shape}${family}-${shortHash(`ipset/${id}`)}`;
}

/** Static objects (base chains, dispatch chains and maps, failsafe and pool sets). */
export const CHAINS = {
  filterInput: 'filter-INPUT',
  filterForward: 'filter-FORWARD',
  filterOutput: 'filter-OUTPUT',
  rawPrerouting: 'raw-PREROUTING',
  rawOutput: 'raw-OUTPUT',
  manglePrerouting: 'mangle-PREROUTING',
  natPostrouting: 'nat-POSTROUTING',
  fromWlDispatch: 'from-wl-dispatch',
  toWlDispatch: 'to-wl-dispatch',
  wlToHost: 'wl-to-host',
  failsafeIn: 'failsafe-in',
  failsafeOut: 'failsafe-out',
} as const;

export const MAPS = {
  fromWl: 'from-wl-map',
  toWl: 'to-wl-map',
  fromHep: 'from-hep-map',
  toHep: 'to-hep-map',
  fromHepFwd: 'from-hepf-map',
  toHepFwd: 'to-hepf-map',
  fromHepPreDnat: 'from-hepp-map',
  fromHepUntracked: 'from-hepu-map',
  toHepUntracked: 'to-hepu-map',
} as const;

export const SETS = {
  failsafeIn: 'failsafe-in-ports',
  failsafeOut: 'failsafe-out-ports',
  masqPools4: 'masq-pools4',
  masqPools6: 'masq-pools6',
  allPools4: 'all-pools4',
  allPools6: 'all-pools6',
  /**
   * Interfaces the all-interfaces host endpoint does not apply to: those with a host endpoint of
   * their own, plus NOT_ANY_HEP_IFACES.
   */
  hepIfaces: 'hep-ifaces',
  /** Every node's address (HostIpUpdate): tunnel packets (VXLAN, IPIP) from and to them pass host-endpoint policy. */
  nodes4: 'node-addrs4',
  nodes6: 'node-addrs6',
} as const;

/** Hex as nft prints marks (`0x00010000`). */
export function hexMark(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}
