import type { AllowedUse, IPAMConfigurationSpec, IPPool } from '../api/types.js';
import { NotFoundError, UsageError } from '../errors.js';
import { parseSelector, type LabelGetter } from '../selector/index.js';
import { cidrContains, cidrEquals, familyBits, formatCidr, parseCidr, type Cidr, type IpAddr, type IpFamily } from '../net/cidr.js';

/**
 * Which pools an allocation may use (pure): IPAM's own defaulting of pools and configuration, the
 * family / disabled / allowedUses / nodeSelector filter, requested pools by name or CIDR, and the
 * CIDR split used by `brindle ipam split`.
 */

export interface IpamPool {
  name: string;
  cidr: Cidr;
  blockSize: number;
  disabled: boolean;
  nodeSelector: string;
  allowedUses: AllowedUse[];
  resource: IPPool;
}

export interface IpamConfig {
  strictAffinity: boolean;
  autoAllocateBlocks: boolean;
  /** 0 means "not set" (the allocator then uses 20). */
  maxBlocksPerHost: number;
  ipCooldownSeconds: number;
}

export const DEFAULT_MAX_BLOCKS_PER_HOST = 20;
export const MAX_COOLDOWN_SECONDS = 1200;

/** Applies IPAM's defaults to a stored pool (defensively: stored pools are already defaulted). */
export function toIpamPool(p: IPPool): IpamPool {
  const cidr = parseCidr(p.spec.cidr);
  return {
    name: p.metadata.name,
    cidr,
    blockSize: p.spec.blockSize ?? (cidr.family === 4 ? 26 : 122),
    disabled: p.spec.disabled ?? false,
    nodeSelector: p.spec.nodeSelector?.trim() || 'all()',
    allowedUses: p.spec.allowedUses && p.spec.allowedUses.length > 0 ? p.spec.allowedUses : ['Workload', 'Tunnel'],
    resource: p,
  };
}

export function toIpamConfig(spec: IPAMConfigurationSpec | undefined): IpamConfig {
  return {
    strictAffinity: spec?.strictAffinity ?? false,
    autoAllocateBlocks: spec?.autoAllocateBlocks ?? true,
    maxBlocksPerHost: spec?.maxBlocksPerHost ?? 0,
    ipCooldownSeconds: Math.min(MAX_COOLDOWN_SECONDS, Math.max(0, spec?.ipCooldownSeconds ?? 0)),
  };
}

/** True when the pool's nodeSelector matches the node's labels (`all()` matches every node). */
export function poolSelectsNode(pool: IpamPool, labels: LabelGetter): boolean {
  if (pool.nodeSelector === 'all()') return true;
  return parseSelector(pool.nodeSelector).evaluate(labels);
}

/** Finds a pool by name or by CIDR text. */
export function findPool(pools: IpamPool[], nameOrCidr: string): IpamPool | undefined {
  const byName = pools.find((p) => p.name === nameOrCidr);
  if (byName) return byName;
  if (!nameOrCidr.includes('/')) return undefined;
  const c = parseCidr(nameOrCidr);
  return pools.find((p) => cidrEquals(p.cidr, c));
}

export interface PoolFilter {
  family: IpFamily;
  use: AllowedUse;
  nodeLabels: LabelGetter;
  /** Pool names or CIDRs the caller asked for; empty = every enabled pool. */
  requested?: string[];
}

/** The pools an allocation may draw from, in a stable order (by name). */
export function usablePools(pools: IpamPool[], f: PoolFilter): IpamPool[] {
  let candidates: IpamPool[];
  if (f.requested && f.requested.length > 0) {
    candidates = f.requested.map((r) => {
      const p = findPool(pools, r);
      if (!p) throw new NotFoundError(`IP pool "${r}" does not exist`);
      return p;
    });
  } else {
    candidates = pools;
  }
  return candidates
    .filter((p) => p.cidr.family === f.family && !p.disabled && p.allowedUses.includes(f.use) && poolSelectsNode(p, f.nodeLabels))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The (enabled or not) pool containing an address. */
export function poolForIp(pools: IpamPool[], ip: IpAddr): IpamPool | undefined {
  return pools.find((p) => cidrContains(p.cidr, ip));
}

/** Splits a CIDR into `parts` equal CIDRs (`parts` a power of two ≥ 2), as `calicoctl ipam split`. */
export function splitCidr(cidr: Cidr, parts: number): Cidr[] {
  const power = Math.log2(parts);
  if (!Number.isInteger(parts) || parts < 2 || !Number.isInteger(power)) {
    throw new UsageError(`number to split into must be a power of 2 greater than 1, got ${parts}`);
  }
  if (cidr.prefix + power > familyBits(cidr.family)) throw new UsageError(`the CIDR ${formatCidr(cidr)} is not large enough to be split into ${parts} parts`);
  const prefix = cidr.prefix + power;
  const step = 1n << BigInt(familyBits(cidr.family) - prefix);
  return Array.from({ length: parts }, (_, i) => ({ family: cidr.family, base: cidr.base + BigInt(i) * step, prefix }));
}
