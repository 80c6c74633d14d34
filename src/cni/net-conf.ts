import { tryParseCidr } from '../net/cidr.js';
import { CniCode, CniError, negotiateVersion, type CniDns, type CniVersion } from './cni-spec.js';

/**
 * The network configuration the `brindle` and `brindle-ipam` plugins read from stdin, modelled on
 * Calico's NetConf (cni-plugin/pkg/types): `datastore`, `nodename`, `mtu`, `ipam {type,
 * assign_ipv4, assign_ipv6, ipv4_pools, ipv6_pools}`, `policy {type}`, plus the fields the
 * runtime adds (prevResult, runtimeConfig, GC's valid attachments). Parsing is pure and refuses bad
 * configuration with CNI error 6 (not JSON) or 7 (invalid), naming the field, before anything is
 * changed. Unknown fields are ignored, as Calico does, so the same file works across versions.
 */

export interface IpamConf {
  type: string;
  assignIpv4: boolean;
  assignIpv6: boolean;
  /** Pool names or CIDRs (empty: every enabled pool of the family). */
  ipv4Pools: string[];
  ipv6Pools: string[];
}

export interface GcAttachment {
  containerID: string;
  ifname: string;
}

export interface NetConf {
  cniVersion: CniVersion;
  name: string;
  type: string;
  datastore: string;
  etcdCaFile?: string;
  etcdCertFile?: string;
  etcdKeyFile?: string;
  /** Node name; undefined means "this host's name" (resolved by the caller). */
  nodename?: string;
  mtu: number;
  ipam: IpamConf;
  policyType: 'k8s' | 'none';
  /** Namespace of endpoints for workloads without a Kubernetes identity (podman, containerd, VMs). */
  workloadNamespace: string;
  dns: CniDns;
  prevResult?: unknown;
  /** GC only: the attachments the runtime still knows. */
  validAttachments?: GcAttachment[];
  /** The whole decoded object (passed on unchanged to a delegated IPAM plugin). */
  raw: Record<string, unknown>;
}

export const DEFAULT_MTU = 1500;
const NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function parseNetConf(stdin: string): NetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (err) {
    throw new CniError(CniCode.DecodingFailure, `the network configuration on stdin is not JSON: ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new CniError(CniCode.DecodingFailure, 'the network configuration on stdin must be a JSON object');
  const o = raw as Record<string, unknown>;
  const cniVersion = negotiateVersion(o['cniVersion'], o['cniVersions']);
  const bad = (field: string, why: string): never => {
    throw new CniError(CniCode.InvalidConfig, `network configuration: "${field}" ${why}`);
  };
  const str = (field: string, v: unknown, required: boolean): string | undefined => {
    if (v === undefined || v === null || v === '') return required ? bad(field, 'is required') : undefined;
    if (typeof v !== 'string') return bad(field, `must be a string, not ${JSON.stringify(v)}`);
    return v;
  };
  const name = str('name', o['name'], true)!;
  const type = str('type', o['type'], true)!;
  const datastore = str('datastore', o['datastore'], false) ?? 'sqlite:/var/lib/brindle/brindle.db';
  if (!/^(sqlite:.+|etcds?:\/\/.+)$/.test(datastore)) bad('datastore', `"${datastore}" is not a datastore URL: use sqlite:/path/file.db or etcd://host:port[,host:port…]`);
  const nodename = str('nodename', o['nodename'], false);
  if (nodename !== undefined && (!NAME_RE.test(nodename) || nodename.length > 253)) bad('nodename', `"${nodename}" is not a valid node name (lowercase letters, digits, "-" and ".")`);
  let mtu = DEFAULT_MTU;
  if (o['mtu'] !== undefined) {
    if (typeof o['mtu'] !== 'number' || !Number.isInteger(o['mtu']) || o['mtu'] < 68 || o['mtu'] > 65535) bad('mtu', `must be an integer from 68 to 65535, not ${JSON.stringify(o['mtu'])}`);
    mtu = o['mtu'] as number;
  }
  const ipam = parseIpam(o['ipam'], bad, str);
  let policyType: 'k8s' | 'none' = 'none';
  if (o['policy'] !== undefined) {
    const p = o['policy'] as Record<string, unknown>;
    if (!p || typeof p !== 'object') bad('policy', 'must be an object like {"type": "k8s"}');
    const t = p['type'] ?? 'none';
    if (t !== 'k8s' && t !== 'none') bad('policy.type', `must be "k8s" or "none", not ${JSON.stringify(t)}`);
    policyType = t as 'k8s' | 'none';
  }
  const workloadNamespace = str('workload_namespace', o['workload_namespace'], false) ?? 'default';
  if (!NAME_RE.test(workloadNamespace) || workloadNamespace.length > 63) bad('workload_namespace', `"${workloadNamespace}" is not a valid namespace name`);
  const conf: NetConf = {
    cniVersion, name, type, datastore, mtu, ipam, policyType, workloadNamespace,
    dns: o['dns'] && typeof o['dns'] === 'object' ? (o['dns'] as CniDns) : {},
    raw: o,
  };
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) bad('name', `"${name}" must start with a letter or digit and hold only letters, digits, "_", "." and "-"`);
  if (nodename !== undefined) conf.nodename = nodename;
  const files = [['etcd_ca_cert_file', 'etcdCaFile'], ['etcd_cert_file', 'etcdCertFile'], ['etcd_key_file', 'etcdKeyFile']] as const;
  for (const [field, key] of files) {
    const v = str(field, o[field], false);
    if (v !== undefined) conf[key] = v;
  }
  if (o['prevResult'] !== undefined) conf.prevResult = o['prevResult'];
  const att = o['cni.dev/valid-attachments'] ?? o['cni.dev/attachments'];
  if (att !== undefined) {
    if (!Array.isArray(att)) bad('cni.dev/valid-attachments', 'must be a list of {containerID, ifname}');
    conf.validAttachments = (att as unknown[]).map((a, i) => {
      const x = a as Record<string, unknown>;
      if (!x || typeof x['containerID'] !== 'string') return bad(`cni.dev/valid-attachments[${i}]`, 'needs a "containerID" string');
      return { containerID: x['containerID'], ifname: typeof x['ifname'] === 'string' ? x['ifname'] : '' };
    });
  }
  return conf;
}

function parseIpam(v: unknown, bad: (f: string, why: string) => never, str: (f: string, v: unknown, r: boolean) => string | undefined): IpamConf {
  if (v === undefined || v === null) bad('ipam', 'is required, e.g. {"type": "brindle-ipam"}');
  if (typeof v !== 'object' || Array.isArray(v)) bad('ipam', 'must be an object');
  const o = v as Record<string, unknown>;
  const flag = (field: string, dflt: boolean): boolean => {
    const x = o[field];
    if (x === undefined) return dflt;
    if (x === true || x === 'true') return true;
    if (x === false || x === 'false') return false;
    return bad(`ipam.${field}`, `must be true or false, not ${JSON.stringify(x)}`);
  };
  const pools = (field: string, family: 4 | 6): string[] => {
    const x = o[field];
    if (x === undefined) return [];
    if (!Array.isArray(x) || x.some((p) => typeof p !== 'string' || p === '')) bad(`ipam.${field}`, 'must be a list of pool names or CIDRs');
    for (const p of x as string[]) {
      if (p.includes('/')) {
        const c = tryParseCidr(p);
        if (!c) bad(`ipam.${field}`, `"${p}" is not a valid CIDR`);
        else if (c.family !== family) bad(`ipam.${field}`, `"${p}" is not an IPv${family} CIDR`);
      } else if (!NAME_RE.test(p)) bad(`ipam.${field}`, `"${p}" is neither a pool name nor a CIDR`);
    }
    return x as string[];
  };
  const conf: IpamConf = {
    type: str('ipam.type', o['type'], true)!,
    assignIpv4: flag('assign_ipv4', true),
    assignIpv6: flag('assign_ipv6', false),
    ipv4Pools: pools('ipv4_pools', 4),
    ipv6Pools: pools('ipv6_pools', 6),
  };
  if (!conf.assignIpv4 && !conf.assignIpv6) bad('ipam', 'assigns no address: set assign_ipv4 or assign_ipv6 to true');
  return conf;
}
