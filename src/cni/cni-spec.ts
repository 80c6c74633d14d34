/**
 * The parts of the CNI specification (0.3.0 … 1.1.0) the plugins speak, as plain values: the
 * versions, the well-known error codes, the error object, and the result in each version's JSON
 * shape. Pure: no I/O. Results are kept in one internal form (CniResult) and rendered for the
 * version the runtime asked for, so every command shares one renderer.
 */

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];

/** Well-known error codes (spec "Error" section); 100+ are Brindle's own. */
export const CniCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IoFailure: 5,
  DecodingFailure: 6,
  InvalidConfig: 7,
  TryAgainLater: 11,
  /** STATUS: the plugin cannot accept ADDs. */
  PluginNotAvailable: 50,
  /** STATUS: not available, and existing attachments may have limited connectivity. */
  PluginNotAvailableLimited: 51,
  /** CHECK found the attachment differs from what ADD made. */
  CheckFailed: 100,
  /** No address left in the pools the configuration allows. */
  AddressesExhausted: 101,
  /** Something Brindle did not expect (a bug, or the kernel refused). */
  Internal: 999,
} as const;

/** A failure a plugin reports as the spec's error JSON on stdout (and a non-zero exit). */
export class CniError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CniError';
  }
}

export function errorJson(version: string, err: CniError): string {
  const o: Record<string, unknown> = { cniVersion: version, code: err.code, msg: err.message };
  if (err.details) o['details'] = err.details;
  return JSON.stringify(o);
}

/** `a` compared with `b` as semantic versions (major.minor.patch only). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function isSupportedVersion(v: string): v is CniVersion {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

/** The version to speak: the highest supported one of `cniVersions` when given (spec 1.1), else `cniVersion`. */
export function negotiateVersion(cniVersion: unknown, cniVersions: unknown): CniVersion {
  if (Array.isArray(cniVersions) && cniVersions.length > 0) {
    const ok = cniVersions.filter((v): v is CniVersion => typeof v === 'string' && isSupportedVersion(v)).sort(compareVersions);
    if (ok.length > 0) return ok[ok.length - 1]!;
    throw new CniError(CniCode.IncompatibleVersion, `none of cniVersions ${JSON.stringify(cniVersions)} is supported; this plugin speaks ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  if (typeof cniVersion !== 'string' || cniVersion === '') {
    throw new CniError(CniCode.InvalidConfig, 'the network configuration has no "cniVersion"; set it to one of ' + SUPPORTED_VERSIONS.join(', '));
  }
  if (!isSupportedVersion(cniVersion)) {
    throw new CniError(CniCode.IncompatibleVersion, `cniVersion "${cniVersion}" is not supported; this plugin speaks ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  return cniVersion;
}

export function versionJson(version: string): string {
  return JSON.stringify({ cniVersion: version, supportedVersions: [...SUPPORTED_VERSIONS] });
}

// ---------------------------------------------------------------------------------- results

export interface CniInterface {
  name: string;
  mac?: string;
  /** netns path for container interfaces; absent for host interfaces. */
  sandbox?: string;
  /** 1.1.0 only. */
  mtu?: number;
}

export interface CniIpConfig {
  /** `10.65.0.5/32` */
  address: string;
  gateway?: string;
  /** Index into interfaces. */
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** A result in version-independent form. */
export interface CniResult {
  interfaces: CniInterface[];
  ips: CniIpConfig[];
  routes: CniRoute[];
  dns: CniDns;
}

/** The result as the given spec version writes it (0.3.x/0.4.0 carry `version` on each IP; only 1.1.0 has interface `mtu`). */
export function renderResult(version: CniVersion, r: CniResult): Record<string, unknown> {
  const legacy = compareVersions(version, '1.0.0') < 0;
  const modern = compareVersions(version, '1.1.0') >= 0;
  const out: Record<string, unknown> = { cniVersion: version };
  if (r.interfaces.length > 0) {
    out['interfaces'] = r.interfaces.map((i) => {
      const o: Record<string, unknown> = { name: i.name };
      if (i.mac) o['mac'] = i.mac;
      if (modern && i.mtu !== undefined) o['mtu'] = i.mtu;
      if (i.sandbox) o['sandbox'] = i.sandbox;
      return o;
    });
  }
  out['ips'] = r.ips.map((ip) => {
    const o: Record<string, unknown> = {};
    if (legacy) o['version'] = ip.address.includes(':') ? '6' : '4';
    if (ip.interface !== undefined) o['interface'] = ip.interface;
    o['address'] = ip.address;
    if (ip.gateway) o['gateway'] = ip.gateway;
    return o;
  });
  if (r.routes.length > 0) out['routes'] = r.routes.map((rt) => (rt.gw ? { dst: rt.dst, gw: rt.gw } : { dst: rt.dst }));
  out['dns'] = { ...r.dns };
  return out;
}

/** Reads a prevResult of any supported version back into internal form (CHECK, chained IPAM). */
export function parseResult(raw: unknown): CniResult {
  if (!raw || typeof raw !== 'object') throw new CniError(CniCode.DecodingFailure, 'prevResult is not an object');
  const o = raw as Record<string, unknown>;
  const arr = (v: unknown) => (Array.isArray(v) ? v : []);
  const ips = arr(o['ips']).map((ip: Record<string, unknown>) => {
    if (typeof ip?.['address'] !== 'string') throw new CniError(CniCode.DecodingFailure, 'prevResult.ips[] entry has no "address"');
    const c: CniIpConfig = { address: ip['address'] };
    if (typeof ip['gateway'] === 'string') c.gateway = ip['gateway'];
    if (typeof ip['interface'] === 'number') c.interface = ip['interface'];
    return c;
  });
  const interfaces = arr(o['interfaces']).map((i: Record<string, unknown>) => {
    const c: CniInterface = { name: String(i?.['name'] ?? '') };
    if (typeof i['mac'] === 'string') c.mac = i['mac'];
    if (typeof i['sandbox'] === 'string') c.sandbox = i['sandbox'];
    if (typeof i['mtu'] === 'number') c.mtu = i['mtu'];
    return c;
  });
  const routes = arr(o['routes']).map((r: Record<string, unknown>) => (typeof r['gw'] === 'string' ? { dst: String(r['dst']), gw: r['gw'] } : { dst: String(r['dst']) }));
  const dns = o['dns'] && typeof o['dns'] === 'object' ? (o['dns'] as CniDns) : {};
  return { interfaces, ips, routes, dns };
}
