import { cidrContains, cidrOverlaps, parseCidr, parseIp, tryParseCidr, type Cidr } from '../net/cidr.js';
import type {
  EndpointPort,
  HostEndpointSpec,
  IPAMConfigurationSpec,
  IPPoolSpec,
  NetworkSetSpec,
  NodeSpec,
  Resource,
  WorkloadEndpointSpec,
} from './types.js';
import { LABEL_NAMESPACE } from './types.js';
import {
  checkASNumber,
  checkCIDR,
  checkIP,
  checkInterfaceName,
  checkMAC,
  checkProtocol,
  checkSelector,
  checkSubdomainName,
  isValidPortName,
  PORT_PROTOCOL_LIST,
  protocolSupportsPorts,
  push,
  sub,
  type Issues,
} from './validate-fields.js';

/**
 * Semantic rules for pools, IPAM, endpoints, network sets and nodes (Calico's validator plus the
 * CEL markers in `ippool.go`, `ipamconfig.go`, `hostendpoint.go`, `workloadendpoint.go`).
 */

const LINK_LOCAL = [parseCidr('169.254.0.0/16'), parseCidr('fe80::/10')];
const ENCAP_MODES = ['Never', 'Always', 'CrossSubnet'];
const ALLOWED_USES = ['Workload', 'Tunnel', 'LoadBalancer'];

export function validateIPPool(r: Resource, issues: Issues): void {
  const spec = r.spec as IPPoolSpec;
  checkSubdomainName(r.metadata.name ?? '', 'metadata.name', issues);
  let cidr: Cidr | undefined;
  if (spec.cidr === undefined || spec.cidr === '') push(issues, 'spec.cidr', 'cidr is required');
  else cidr = checkCIDR(spec.cidr, 'spec.cidr', issues, { strict: true });
  if (cidr) {
    for (const ll of LINK_LOCAL) {
      if (cidrOverlaps(cidr, ll)) push(issues, 'spec.cidr', `IP pool ${spec.cidr} overlaps the link-local range ${ll.family === 4 ? '169.254.0.0/16' : 'fe80::/10'}`);
    }
  }
  if (spec.blockSize !== undefined && cidr) {
    const [lo, hi] = cidr.family === 4 ? [20, 32] : [116, 128];
    if (spec.blockSize < lo || spec.blockSize > hi) push(issues, 'spec.blockSize', `blockSize ${spec.blockSize} is out of range ${lo}-${hi} for an IPv${cidr.family} pool`);
    else if (cidr.prefix > spec.blockSize && !spec.disabled) {
      push(issues, 'spec.blockSize', `the pool's prefix length /${cidr.prefix} is longer than its blockSize ${spec.blockSize}`);
    }
  }
  for (const f of ['ipipMode', 'vxlanMode'] as const) {
    const v = spec[f];
    if (v !== undefined && !ENCAP_MODES.includes(v)) push(issues, `spec.${f}`, `${f} "${v}" is not one of ${ENCAP_MODES.join(', ')}`);
  }
  const ipip = spec.ipipMode !== undefined && spec.ipipMode !== 'Never';
  const vxlan = spec.vxlanMode !== undefined && spec.vxlanMode !== 'Never';
  if (ipip && cidr?.family === 6) push(issues, 'spec.ipipMode', 'IPIP is not supported on an IPv6 pool');
  if (ipip && vxlan) push(issues, 'spec.vxlanMode', 'ipipMode and vxlanMode cannot both be enabled');
  if (spec.nodeSelector !== undefined) checkSelector(spec.nodeSelector, 'spec.nodeSelector', issues);
  if (spec.namespaceSelector !== undefined && spec.namespaceSelector !== '') checkSelector(spec.namespaceSelector, 'spec.namespaceSelector', issues);
  const uses = spec.allowedUses ?? [];
  const seen = new Set<string>();
  uses.forEach((u, i) => {
    if (!ALLOWED_USES.includes(u)) push(issues, `spec.allowedUses[${i}]`, `allowed use "${u}" is not one of ${ALLOWED_USES.join(', ')}`);
    else if (seen.has(u)) push(issues, `spec.allowedUses[${i}]`, `duplicate allowed use "${u}"`);
    seen.add(u);
  });
  if (seen.has('Tunnel') && spec.namespaceSelector) push(issues, 'spec.namespaceSelector', 'namespaceSelector cannot be used on a pool with the Tunnel use');
  if (seen.has('LoadBalancer')) {
    if (seen.has('Workload') || seen.has('Tunnel')) push(issues, 'spec.allowedUses', 'LoadBalancer cannot be combined with Workload or Tunnel');
    if (ipip || vxlan) push(issues, 'spec.allowedUses', 'a LoadBalancer pool cannot use IPIP or VXLAN');
    if (spec.disableBGPExport) push(issues, 'spec.disableBGPExport', 'disableBGPExport is not allowed on a LoadBalancer pool');
    if (spec.nodeSelector !== undefined && spec.nodeSelector.trim() !== 'all()') push(issues, 'spec.nodeSelector', 'a LoadBalancer pool must have nodeSelector all()');
  }
  if (spec.assignmentMode !== undefined && spec.assignmentMode !== 'Automatic' && spec.assignmentMode !== 'Manual') {
    push(issues, 'spec.assignmentMode', `assignmentMode "${spec.assignmentMode}" must be Automatic or Manual`);
  }
}

export function validateIPReservation(r: Resource, issues: Issues): void {
  checkSubdomainName(r.metadata.name ?? '', 'metadata.name', issues);
  const cidrs = (r.spec as { reservedCIDRs?: string[] }).reservedCIDRs ?? [];
  cidrs.forEach((c, i) => checkCIDR(c, `spec.reservedCIDRs[${i}]`, issues, { allowBareIP: true }));
}

export function validateIPAMConfiguration(r: Resource, issues: Issues): void {
  const spec = r.spec as IPAMConfigurationSpec;
  if (r.metadata.name !== 'default') push(issues, 'metadata.name', `IPAMConfiguration must be named "default", not "${r.metadata.name}"`);
  if (spec.maxBlocksPerHost !== undefined && spec.maxBlocksPerHost < 0) push(issues, 'spec.maxBlocksPerHost', 'maxBlocksPerHost must not be negative');
  if (spec.ipCooldownSeconds !== undefined && (spec.ipCooldownSeconds < 0 || spec.ipCooldownSeconds > 1200)) {
    push(issues, 'spec.ipCooldownSeconds', `ipCooldownSeconds ${spec.ipCooldownSeconds} is out of range 0-1200`);
  }
  if (spec.strictAffinity === false && spec.autoAllocateBlocks === false) {
    push(issues, 'spec.autoAllocateBlocks', 'autoAllocateBlocks can only be false when strictAffinity is true');
  }
}

function checkEndpointPorts(ports: EndpointPort[] | undefined, path: string, requireName: boolean, issues: Issues): void {
  (ports ?? []).forEach((p, i) => {
    const pp = `${path}[${i}]`;
    if (!p.name) {
      if (requireName && !p.hostPort) push(issues, `${pp}.name`, 'port name is required');
    } else if (!isValidPortName(p.name)) {
      push(issues, `${pp}.name`, `port name "${p.name}" must be 1-15 characters of [a-z0-9-], contain a letter and not start, end or repeat '-'`);
    }
    if (p.protocol === undefined) push(issues, `${pp}.protocol`, `protocol is required (${PORT_PROTOCOL_LIST})`);
    else {
      const n = checkProtocol(p.protocol, `${pp}.protocol`, issues);
      if (n !== undefined && !protocolSupportsPorts(n)) push(issues, `${pp}.protocol`, `protocol "${p.protocol}" has no ports; use ${PORT_PROTOCOL_LIST}`);
    }
    if (p.port === undefined || p.port < 1 || p.port > 65535) push(issues, `${pp}.port`, `port ${p.port ?? '(missing)'} is out of range 1-65535`);
    if (p.hostPort !== undefined && (p.hostPort < 0 || p.hostPort > 65535)) push(issues, `${pp}.hostPort`, `hostPort ${p.hostPort} is out of range 0-65535`);
    if (p.hostIP !== undefined && p.hostIP !== '') checkIP(p.hostIP, `${pp}.hostIP`, issues);
  });
}

export function validateWorkloadEndpoint(r: Resource, issues: Issues): void {
  const spec = r.spec as WorkloadEndpointSpec;
  checkSubdomainName(r.metadata.name ?? '', 'metadata.name', issues);
  const nets: Cidr[] = [];
  (spec.ipNetworks ?? []).forEach((n, i) => {
    const c = checkCIDR(n, `spec.ipNetworks[${i}]`, issues, { allowBareIP: true });
    if (!c) return;
    if (c.prefix !== (c.family === 4 ? 32 : 128)) push(issues, `spec.ipNetworks[${i}]`, `workload address "${n}" must be a /32 (IPv4) or /128 (IPv6)`);
    else nets.push(c);
  });
  (spec.ipNATs ?? []).forEach((nat, i) => {
    const p = `spec.ipNATs[${i}]`;
    if (checkIP(nat.internalIP ?? '', `${p}.internalIP`, issues)) {
      const ip = parseIp(nat.internalIP);
      if (!nets.some((n) => cidrContains(n, ip))) push(issues, `${p}.internalIP`, `internalIP ${nat.internalIP} is not one of the endpoint's ipNetworks`);
    }
    if (checkIP(nat.externalIP ?? '', `${p}.externalIP`, issues) && tryParseCidr(nat.internalIP ?? '', { allowBareIp: true })?.family !== tryParseCidr(nat.externalIP, { allowBareIp: true })?.family) {
      push(issues, `${p}.externalIP`, 'internalIP and externalIP must be the same IP family');
    }
  });
  if (spec.ipv4Gateway) checkIP(spec.ipv4Gateway, 'spec.ipv4Gateway', issues, 4);
  if (spec.ipv6Gateway) checkIP(spec.ipv6Gateway, 'spec.ipv6Gateway', issues, 6);
  if (spec.interfaceName) checkInterfaceName(spec.interfaceName, 'spec.interfaceName', issues);
  if (spec.mac) checkMAC(spec.mac, 'spec.mac', issues);
  if (spec.node !== undefined && spec.node !== '') checkSubdomainName(spec.node, 'spec.node', issues, 'node name');
  if (spec.serviceAccountName) checkSubdomainName(spec.serviceAccountName, 'spec.serviceAccountName', issues, 'service account name');
  (spec.profiles ?? []).forEach((p, i) => checkSubdomainName(p, `spec.profiles[${i}]`, issues, 'profile name'));
  (spec.allowSpoofedSourcePrefixes ?? []).forEach((c, i) => checkCIDR(c, `spec.allowSpoofedSourcePrefixes[${i}]`, issues, { allowBareIP: true }));
  checkEndpointPorts(spec.ports, 'spec.ports', true, issues);
}

export function validateHostEndpoint(r: Resource, issues: Issues): void {
  const spec = r.spec as HostEndpointSpec;
  checkSubdomainName(r.metadata.name ?? '', 'metadata.name', issues);
  if (!spec.node) push(issues, 'spec.node', 'node is required');
  else checkSubdomainName(spec.node, 'spec.node', issues, 'node name');
  if (!spec.interfaceName && (spec.expectedIPs ?? []).length === 0) push(issues, 'spec', 'a host endpoint needs an interfaceName or expectedIPs');
  if (spec.interfaceName && spec.interfaceName !== '*') checkInterfaceName(spec.interfaceName, 'spec.interfaceName', issues);
  (spec.expectedIPs ?? []).forEach((ip, i) => checkIP(ip, `spec.expectedIPs[${i}]`, issues));
  (spec.profiles ?? []).forEach((p, i) => checkSubdomainName(p, `spec.profiles[${i}]`, issues, 'profile name'));
  checkEndpointPorts(spec.ports, 'spec.ports', true, issues);
}

export function validateNetworkSet(r: Resource, issues: Issues): void {
  checkSubdomainName(r.metadata.name ?? '', 'metadata.name', issues);
  ((r.spec as NetworkSetSpec).nets ?? []).forEach((n, i) => checkCIDR(n, `spec.nets[${i}]`, issues, { allowBareIP: true }));
  if (r.metadata.labels && LABEL_NAMESPACE in r.metadata.labels) {
    push(issues, `metadata.labels["${LABEL_NAMESPACE}"]`, `the label ${LABEL_NAMESPACE} is reserved and set by Brindle`);
  }
}

const NODE_ADDRESS_TYPES = ['CalicoNodeIP', 'InternalIP', 'ExternalIP'];

export function validateNode(r: Resource, issues: Issues): void {
  const spec = r.spec as NodeSpec & { wireguard?: { interfaceIPv4Address?: string; interfaceIPv6Address?: string } };
  checkSubdomainName(r.metadata.name ?? '', 'metadata.name', issues, 'node name');
  if (spec.bgp) {
    const b = spec.bgp;
    if (Object.keys(b).length === 0) push(issues, 'spec.bgp', 'bgp must not be empty: set ipv4Address or ipv6Address, or remove it');
    if (b.ipv4Address) checkCIDR(b.ipv4Address, 'spec.bgp.ipv4Address', issues, { allowBareIP: true, family: 4 });
    if (b.ipv6Address) checkCIDR(b.ipv6Address, 'spec.bgp.ipv6Address', issues, { allowBareIP: true, family: 6 });
    if (b.ipv4IPIPTunnelAddr) checkIP(b.ipv4IPIPTunnelAddr, 'spec.bgp.ipv4IPIPTunnelAddr', issues, 4);
    if (b.routeReflectorClusterID) checkIP(b.routeReflectorClusterID, 'spec.bgp.routeReflectorClusterID', issues, 4);
    if (b.asNumber !== undefined) checkASNumber(b.asNumber, 'spec.bgp.asNumber', issues);
  }
  if (spec.ipv4VXLANTunnelAddr) checkIP(spec.ipv4VXLANTunnelAddr, 'spec.ipv4VXLANTunnelAddr', issues, 4);
  if (spec.ipv6VXLANTunnelAddr) checkIP(spec.ipv6VXLANTunnelAddr, 'spec.ipv6VXLANTunnelAddr', issues, 6);
  if (spec.vxlanTunnelMACAddr) checkMAC(spec.vxlanTunnelMACAddr, 'spec.vxlanTunnelMACAddr', issues);
  if (spec.vxlanTunnelMACAddrV6) checkMAC(spec.vxlanTunnelMACAddrV6, 'spec.vxlanTunnelMACAddrV6', issues);
  if (spec.wireguard?.interfaceIPv4Address) checkIP(spec.wireguard.interfaceIPv4Address, 'spec.wireguard.interfaceIPv4Address', issues, 4);
  if (spec.wireguard?.interfaceIPv6Address) checkIP(spec.wireguard.interfaceIPv6Address, 'spec.wireguard.interfaceIPv6Address', issues, 6);
  (spec.addresses ?? []).forEach((a, i) => {
    if (!tryParseCidr(a.address ?? '', { allowBareIp: true })) push(issues, `spec.addresses[${i}].address`, `"${a.address}" is not a valid IP address or CIDR`);
    if (a.type !== undefined && !NODE_ADDRESS_TYPES.includes(a.type)) push(issues, `spec.addresses[${i}].type`, `address type "${a.type}" is not one of ${NODE_ADDRESS_TYPES.join(', ')}`);
  });
  (spec.orchRefs ?? []).forEach((o, i) => {
    if (!o.orchestrator) push(issues, `spec.orchRefs[${i}].orchestrator`, 'orchestrator is required');
  });
}
