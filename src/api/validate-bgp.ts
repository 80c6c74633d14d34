import { tryParseCidr, tryParseIp } from '../net/cidr.js';
import type { BGPConfigurationSpec, BGPFilterRule, BGPFilterSpec, BGPPeerSpec, Resource } from './types.js';
import {
  checkASNumber,
  checkCIDR,
  checkDuration,
  checkSelector,
  checkSubdomainName,
  isPortProtocolName,
  PORT_PROTOCOL_LIST,
  push,
  type Issues,
} from './validate-fields.js';

/**
 * Semantic rules for BGP resources and the configuration singletons (Calico's validator and the
 * CEL markers in `bgppeer.go`, `bgpconfig.go`, `bgpfilter.go`, `felixconfig.go`).
 */

const LOG_LEVELS = ['Trace', 'Debug', 'Info', 'Warning', 'Error', 'Fatal'];
const COMMUNITY_RE = /^(\d+):(\d+)(?::(\d+))?$/;

/** `default` or `node.<node name>`. */
export function checkSingletonName(kind: string, name: string, issues: Issues, allowPerNode: boolean): boolean {
  if (name === 'default') return true;
  if (allowPerNode && name.startsWith('node.')) return checkSubdomainName(name.slice(5), 'metadata.name', issues, 'node name');
  return push(issues, 'metadata.name', `${kind} must be named "default"${allowPerNode ? ' or "node.<node name>"' : ''}, not "${name}"`);
}

/** A peer address: `IP`, `IPv4:port` or `[IPv6]:port`. Returns the address family, or 0 if invalid. */
export function peerIPFamily(v: string): 0 | 4 | 6 {
  const portOk = (p: string): boolean => Number(p) >= 1 && Number(p) <= 65535;
  const bracketed = /^\[([^\]]+)\]:(\d{1,5})$/.exec(v);
  if (bracketed) return portOk(bracketed[2]!) ? (tryParseIp(bracketed[1]!)?.family ?? 0) : 0;
  const ip = tryParseIp(v);
  if (ip) return ip.family;
  const v4port = /^([\d.]+):(\d{1,5})$/.exec(v);
  if (v4port && portOk(v4port[2]!) && tryParseIp(v4port[1]!)?.family === 4) return 4;
  return 0;
}

export function validateBGPPeer(r: Resource, issues: Issues): void {
  const spec = r.spec as BGPPeerSpec;
  checkSubdomainName(r.metadata.name ?? '', 'metadata.name', issues);
  if (spec.node && spec.nodeSelector) push(issues, 'spec.nodeSelector', 'node and nodeSelector cannot both be set');
  if (spec.peerIP && spec.peerSelector) push(issues, 'spec.peerSelector', 'peerIP and peerSelector cannot both be set');
  if (spec.peerSelector && spec.asNumber !== undefined) push(issues, 'spec.asNumber', 'asNumber must be empty when peerSelector is set (the selected nodes\' own AS numbers are used)');
  if (spec.keepOriginalNextHop && spec.nextHopMode) push(issues, 'spec.nextHopMode', 'keepOriginalNextHop and nextHopMode cannot both be set');
  if (spec.node) checkSubdomainName(spec.node, 'spec.node', issues, 'node name');
  if (spec.nodeSelector) checkSelector(spec.nodeSelector, 'spec.nodeSelector', issues);
  if (spec.peerSelector) checkSelector(spec.peerSelector, 'spec.peerSelector', issues);
  if (spec.localWorkloadSelector) {
    checkSelector(spec.localWorkloadSelector, 'spec.localWorkloadSelector', issues);
    if (spec.asNumber === undefined) push(issues, 'spec.asNumber', 'asNumber is required with localWorkloadSelector');
    if (spec.peerIP || spec.peerSelector) push(issues, 'spec.localWorkloadSelector', 'localWorkloadSelector cannot be combined with peerIP or peerSelector');
  }
  let family: 0 | 4 | 6 = 0;
  if (spec.peerIP) {
    family = peerIPFamily(spec.peerIP);
    if (family === 0) push(issues, 'spec.peerIP', `"${spec.peerIP}" is not a valid peer address (IP, IPv4:port or [IPv6]:port)`);
  }
  if (spec.asNumber !== undefined) checkASNumber(spec.asNumber, 'spec.asNumber', issues);
  if (spec.localASNumber !== undefined) checkASNumber(spec.localASNumber, 'spec.localASNumber', issues);
  if (spec.nextHopMode && !['Auto', 'Self', 'Keep'].includes(spec.nextHopMode)) push(issues, 'spec.nextHopMode', `nextHopMode "${spec.nextHopMode}" is not one of Auto, Self, Keep`);
  if (spec.sourceAddress && !['UseNodeIP', 'None'].includes(spec.sourceAddress)) push(issues, 'spec.sourceAddress', `sourceAddress "${spec.sourceAddress}" must be UseNodeIP or None`);
  if (spec.reversePeering && !['Auto', 'Manual'].includes(spec.reversePeering)) push(issues, 'spec.reversePeering', `reversePeering "${spec.reversePeering}" must be Auto or Manual`);
  if (spec.maxRestartTime) checkDuration(spec.maxRestartTime, 'spec.maxRestartTime', issues);
  if (spec.keepaliveTime) checkDuration(spec.keepaliveTime, 'spec.keepaliveTime', issues);
  if (spec.numAllowedLocalASNumbers !== undefined && spec.numAllowedLocalASNumbers < 0) push(issues, 'spec.numAllowedLocalASNumbers', 'must not be negative');
  if (spec.ttlSecurity !== undefined && (spec.ttlSecurity < 0 || spec.ttlSecurity > 255)) push(issues, 'spec.ttlSecurity', `ttlSecurity ${spec.ttlSecurity} is out of range 0-255`);
  if (spec.reachableBy) {
    const gw = tryParseIp(spec.reachableBy);
    if (!gw) push(issues, 'spec.reachableBy', `"${spec.reachableBy}" is not a valid IP address`);
    else if (!spec.peerIP) push(issues, 'spec.reachableBy', 'reachableBy requires peerIP');
    else if (family !== 0 && gw.family !== family) push(issues, 'spec.reachableBy', 'reachableBy must be the same IP family as peerIP');
  }
  (spec.filters ?? []).forEach((f, i) => checkSubdomainName(f, `spec.filters[${i}]`, issues, 'filter name'));
  if (spec.password?.secretKeyRef) {
    if (!spec.password.secretKeyRef.name) push(issues, 'spec.password.secretKeyRef.name', 'secret name is required');
    if (!spec.password.secretKeyRef.key) push(issues, 'spec.password.secretKeyRef.key', 'secret key is required');
  }
}

export function validateBGPConfiguration(r: Resource, issues: Issues): void {
  const spec = r.spec as BGPConfigurationSpec;
  const name = r.metadata.name ?? '';
  checkSingletonName('BGPConfiguration', name, issues, true);
  if (spec.logSeverityScreen && !LOG_LEVELS.includes(spec.logSeverityScreen)) push(issues, 'spec.logSeverityScreen', `log level "${spec.logSeverityScreen}" is not one of ${LOG_LEVELS.join(', ')}`);
  if (spec.asNumber !== undefined) checkASNumber(spec.asNumber as number | string, 'spec.asNumber', issues);
  if (spec.listenPort !== undefined && (spec.listenPort < 1 || spec.listenPort > 65535)) push(issues, 'spec.listenPort', `listenPort ${spec.listenPort} is out of range 1-65535`);
  if (spec.bindMode && !['None', 'NodeIP'].includes(spec.bindMode)) push(issues, 'spec.bindMode', `bindMode "${spec.bindMode}" must be None or NodeIP`);
  for (const f of ['serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs'] as const) {
    // an entry without a cidr is accepted, as Calico's `omitempty,net` tag does
    (spec[f] ?? []).forEach((c, i) => c.cidr !== undefined && c.cidr !== '' && checkCIDR(c.cidr, `spec.${f}[${i}].cidr`, issues, { allowBareIP: true }));
  }
  const names = new Set<string>();
  (spec.communities ?? []).forEach((c, i) => {
    if (!c.name) push(issues, `spec.communities[${i}].name`, 'community name is required');
    else names.add(c.name);
    if (!checkCommunity(c.value ?? '')) push(issues, `spec.communities[${i}].value`, `community "${c.value}" must be "aa:nn" (standard) or "aa:nn:mm" (large)`);
  });
  (spec.prefixAdvertisements ?? []).forEach((p, i) => {
    checkCIDR(p.cidr ?? '', `spec.prefixAdvertisements[${i}].cidr`, issues, { allowBareIP: true });
    (p.communities ?? []).forEach((c, j) => {
      if (!names.has(c) && !checkCommunity(c)) push(issues, `spec.prefixAdvertisements[${i}].communities[${j}]`, `"${c}" is neither a community defined in spec.communities nor a community value`);
    });
  });
  if ((spec.communities ?? []).length > 0 && (spec.prefixAdvertisements ?? []).length === 0) {
    push(issues, 'spec.communities', 'communities are defined but not used in spec.prefixAdvertisements');
  }
  if (spec.nodeToNodeMeshEnabled === false) {
    for (const f of ['nodeMeshPassword', 'nodeMeshMaxRestartTime']) {
      if (spec[f] !== undefined) push(issues, `spec.${f}`, `${f} cannot be set when nodeToNodeMeshEnabled is false`);
    }
  }
  if (typeof spec['nodeMeshMaxRestartTime'] === 'string') checkDuration(spec['nodeMeshMaxRestartTime'], 'spec.nodeMeshMaxRestartTime', issues);
  (spec.ignoredInterfaces ?? []).forEach((n, i) => {
    if (!/^[a-zA-Z0-9_.*-]{1,15}$/.test(n)) push(issues, `spec.ignoredInterfaces[${i}]`, `"${n}" is not a valid interface name or pattern`);
  });
  if (name !== 'default') {
    // communities and prefixAdvertisements are per-node settings too (Calico accepts them on node.<name>)
    for (const f of ['nodeToNodeMeshEnabled', 'asNumber', 'serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs'] as const) {
      if (spec[f] !== undefined) push(issues, `spec.${f}`, `${f} can only be set in the "default" BGPConfiguration`);
    }
  }
}

function checkCommunity(v: string): boolean {
  const m = COMMUNITY_RE.exec(v);
  if (!m) return false;
  const max = m[3] === undefined ? 65535 : 4294967295;
  return [m[1], m[2], m[3]].every((x) => x === undefined || Number(x) <= max);
}

export function validateBGPFilter(r: Resource, issues: Issues): void {
  const spec = r.spec as BGPFilterSpec;
  checkSubdomainName(r.metadata.name ?? '', 'metadata.name', issues);
  for (const f of ['exportV4', 'importV4', 'exportV6', 'importV6'] as const) {
    const family = f.endsWith('V4') ? 4 : 6;
    (spec[f] ?? []).forEach((rule, i) => checkFilterRule(rule, `spec.${f}[${i}]`, family, issues));
  }
}

function checkFilterRule(rule: BGPFilterRule, path: string, family: 4 | 6, issues: Issues): void {
  if (rule.action !== 'Accept' && rule.action !== 'Reject') push(issues, `${path}.action`, `action "${rule.action ?? ''}" must be Accept or Reject`);
  const maxLen = family === 4 ? 32 : 128;
  let prefix = 0;
  if (rule.cidr) {
    const c = checkCIDR(rule.cidr, `${path}.cidr`, issues, { family });
    if (c) prefix = c.prefix;
    if (!rule.matchOperator) push(issues, `${path}.matchOperator`, 'matchOperator is required with cidr');
  } else if (rule.matchOperator) push(issues, `${path}.cidr`, 'cidr is required with matchOperator');
  if (rule.matchOperator && !['Equal', 'NotEqual', 'In', 'NotIn'].includes(rule.matchOperator)) {
    push(issues, `${path}.matchOperator`, `matchOperator "${rule.matchOperator}" is not one of Equal, NotEqual, In, NotIn`);
  }
  if (rule.prefixLength && !rule.cidr) push(issues, `${path}.prefixLength`, 'prefixLength requires cidr');
  if (rule.prefixLength) {
    const { min, max } = rule.prefixLength;
    for (const [k, v] of [['min', min], ['max', max]] as const) {
      if (v !== undefined && (v < prefix || v > maxLen)) push(issues, `${path}.prefixLength.${k}`, `prefix length ${v} is out of range ${prefix}-${maxLen}`);
    }
    if (min !== undefined && max !== undefined && min > max) push(issues, `${path}.prefixLength`, 'min must not exceed max');
  }
  if (rule.source !== undefined && rule.source !== 'RemotePeers') push(issues, `${path}.source`, `source "${String(rule.source)}" must be RemotePeers`);
  if (rule.interface !== undefined && !/^[a-zA-Z0-9_.*-]{1,15}$/.test(rule.interface)) push(issues, `${path}.interface`, `"${rule.interface}" is not a valid interface name or pattern`);
  if (rule['peerType'] !== undefined && !['eBGP', 'iBGP'].includes(rule['peerType'] as string)) push(issues, `${path}.peerType`, 'peerType must be eBGP or iBGP');
}

export function validateFelixConfiguration(r: Resource, issues: Issues): void {
  const spec = r.spec as Record<string, unknown>;
  const name = r.metadata.name ?? '';
  const singleton = name === 'default' || name.startsWith('node.');
  if (singleton) checkSingletonName('FelixConfiguration', name, issues, true);
  else checkSubdomainName(name, 'metadata.name', issues);
  if (spec['nodeSelector'] !== undefined) {
    if (singleton) push(issues, 'spec.nodeSelector', `nodeSelector is not allowed on the "${name}" FelixConfiguration`);
    else checkSelector(spec['nodeSelector'] as string, 'spec.nodeSelector', issues);
  } else if (!singleton) {
    push(issues, 'metadata.name', `FelixConfiguration "${name}" must be "default", "node.<node name>", or have a nodeSelector`);
  }
  const level = spec['logSeverityScreen'];
  if (typeof level === 'string' && !LOG_LEVELS.includes(level)) push(issues, 'spec.logSeverityScreen', `log level "${level}" is not one of ${LOG_LEVELS.join(', ')}`);
  for (const f of ['vxlanPort', 'healthPort', 'prometheusMetricsPort']) {
    const v = spec[f];
    if (typeof v === 'number' && (v < 1 || v > 65535)) push(issues, `spec.${f}`, `${f} ${v} is out of range 1-65535`);
  }
  for (const f of ['routeRefreshInterval', 'iptablesRefreshInterval', 'reportingInterval']) {
    const v = spec[f];
    if (typeof v === 'string') checkDuration(v, `spec.${f}`, issues);
  }
  for (const f of ['failsafeInboundHostPorts', 'failsafeOutboundHostPorts']) {
    const v = spec[f];
    if (!Array.isArray(v)) continue;
    v.forEach((p: { protocol?: string; port?: number; net?: string }, i) => {
      if (p.port === undefined || p.port < 1 || p.port > 65535) push(issues, `spec.${f}[${i}].port`, `port ${p.port ?? '(missing)'} is out of range 1-65535`);
      if (p.protocol !== undefined && !isPortProtocolName(p.protocol)) push(issues, `spec.${f}[${i}].protocol`, `protocol must be ${PORT_PROTOCOL_LIST}`);
      if (p.net !== undefined && !tryParseCidr(p.net, { allowBareIp: true })) push(issues, `spec.${f}[${i}].net`, `"${p.net}" is not a valid CIDR`);
    });
  }
}

/** CalicoNodeStatus: which node, which status classes; the routing agent writes its `status`. */
export function validateCalicoNodeStatus(r: Resource, issues: Issues): void {
  const spec = r.spec as { node?: string; classes?: string[]; updatePeriodSeconds?: number };
  checkSubdomainName(r.metadata.name ?? '', 'metadata.name', issues);
  if (spec.node !== undefined) checkSubdomainName(spec.node, 'spec.node', issues, 'node name');
  (spec.classes ?? []).forEach((c, i) => {
    if (!NODE_STATUS_CLASSES.includes(c)) push(issues, `spec.classes[${i}]`, `status class "${c}" is not one of ${NODE_STATUS_CLASSES.join(', ')}`);
  });
  if (spec.updatePeriodSeconds !== undefined && spec.updatePeriodSeconds < 0) push(issues, 'spec.updatePeriodSeconds', 'updatePeriodSeconds must not be negative');
}

const NODE_STATUS_CLASSES = ['Agent', 'BGP', 'Routes'];

export function validateSingleton(r: Resource, issues: Issues): void {
  checkSingletonName(r.kind, r.metadata.name ?? '', issues, false);
  const level = (r.spec as Record<string, unknown>)['logSeverityScreen'];
  if (typeof level === 'string' && !LOG_LEVELS.includes(level)) push(issues, 'spec.logSeverityScreen', `log level "${level}" is not one of ${LOG_LEVELS.join(', ')}`);
}
