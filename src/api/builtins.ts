import { CALICO_API_VERSION } from './kinds.js';
import { DEFAULT_ALLOW_PROFILE, type Profile, type Resource, type Tier } from './types.js';

/**
 * Resources that always exist, stored or not: the three built-in tiers and the
 * `projectcalico-default-allow` profile. Their fixed fields cannot be changed and they cannot be
 * deleted (Calico's tier CEL rules and `libcalico-go/lib/backend/etcdv3/etcdv3.go`).
 */

export const BUILTIN_TIERS: Readonly<Record<string, { order: number; defaultAction: 'Deny' | 'Pass' }>> = {
  default: { order: 1000000, defaultAction: 'Deny' },
  'kube-admin': { order: 1000, defaultAction: 'Pass' },
  'kube-baseline': { order: 10000000, defaultAction: 'Pass' },
};

export function builtinTier(name: string): Tier | undefined {
  const fixed = BUILTIN_TIERS[name];
  if (!fixed) return undefined;
  return { apiVersion: CALICO_API_VERSION, kind: 'Tier', metadata: { name }, spec: { order: fixed.order, defaultAction: fixed.defaultAction } };
}

export function defaultAllowProfile(): Profile {
  return {
    apiVersion: CALICO_API_VERSION,
    kind: 'Profile',
    metadata: { name: DEFAULT_ALLOW_PROFILE },
    spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] },
  };
}

/** The built-in resource of this kind and name, if there is one. */
export function builtinResource(kind: string, name: string): Resource | undefined {
  if (kind === 'Tier') return builtinTier(name);
  if (kind === 'Profile' && name === DEFAULT_ALLOW_PROFILE) return defaultAllowProfile();
  return undefined;
}

/** Every built-in resource of a kind, sorted by name. */
export function builtinResources(kind: string): Resource[] {
  if (kind === 'Tier') return Object.keys(BUILTIN_TIERS).sort().map((n) => builtinTier(n)!);
  if (kind === 'Profile') return [defaultAllowProfile()];
  return [];
}
