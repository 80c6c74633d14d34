/**
 * The datastore key layout, in one place (pure: no I/O). Every module that reads or writes keys
 * (datastore, ipam, calc, the agent's syncer) takes its keys and prefixes from here, so a layout
 * change is made once and no module holds a copy of another's prefix.
 *
 *   resources:    /brindle/v3/<plural>/<namespace or _cluster>/<name>
 *   IPAM blocks:  /brindle/ipam/v2/assignment/ipv4/block/10-0-0-0-26
 *   affinities:   /brindle/ipam/v2/host/<node>/ipv4/block/10-0-0-0-26
 *   handles:      /brindle/ipam/v2/handle/<id>
 *
 * IPAM values carry the real CIDR, so key names never have to be parsed back into one.
 */
import { cidrKeyName, parseCidr, type IpFamily } from '../net/cidr.js';

/** What `resourceKey` needs of a kind (a KindInfo fits). */
export interface KeyedKind {
  plural: string;
  namespaced: boolean;
}

export const RESOURCE_KEY_ROOT = '/brindle/v3/';
export const CLUSTER_SCOPE = '_cluster';

/** Datastore key of a resource: `/brindle/v3/<plural>/<namespace or _cluster>/<name>`. */
export function resourceKey(kind: KeyedKind, name: string, namespace?: string): string {
  const scope = kind.namespaced ? namespace ?? 'default' : CLUSTER_SCOPE;
  return `${RESOURCE_KEY_ROOT}${kind.plural}/${scope}/${name}`;
}

/** Key prefix for listing one kind, optionally in one namespace. */
export function resourcePrefix(kind: KeyedKind, namespace?: string): string {
  if (!kind.namespaced) return `${RESOURCE_KEY_ROOT}${kind.plural}/${CLUSTER_SCOPE}/`;
  return namespace === undefined ? `${RESOURCE_KEY_ROOT}${kind.plural}/` : `${RESOURCE_KEY_ROOT}${kind.plural}/${namespace}/`;
}

/** Parses a resource key back into plural, namespace (undefined for cluster scope) and name. */
export function parseResourceKey(key: string): { plural: string; namespace?: string; name: string } | undefined {
  if (!key.startsWith(RESOURCE_KEY_ROOT)) return undefined;
  const parts = key.slice(RESOURCE_KEY_ROOT.length).split('/');
  if (parts.length !== 3) return undefined;
  const [plural, scope, name] = parts as [string, string, string];
  return scope === CLUSTER_SCOPE ? { plural, name } : { plural, namespace: scope, name };
}

export const IPAM_ROOT = '/brindle/ipam/v2/';
/** Every allocation block, of both families (values: the block, with `cidr` and `affinity`). */
export const IPAM_BLOCK_PREFIX = `${IPAM_ROOT}assignment/`;
export const ALL_AFFINITIES_PREFIX = `${IPAM_ROOT}host/`;
export const HANDLE_PREFIX = `${IPAM_ROOT}handle/`;

const fam = (f: IpFamily): string => (f === 4 ? 'ipv4' : 'ipv6');

export function blockKey(cidr: string): string {
  return `${IPAM_BLOCK_PREFIX}${fam(parseCidr(cidr).family)}/block/${cidrKeyName(cidr)}`;
}

export function blockPrefix(family: IpFamily): string {
  return `${IPAM_BLOCK_PREFIX}${fam(family)}/block/`;
}

export function affinityKey(node: string, cidr: string): string {
  return `${ALL_AFFINITIES_PREFIX}${node}/${fam(parseCidr(cidr).family)}/block/${cidrKeyName(cidr)}`;
}

/** Prefix of one node's affinities (of one family, or both when family is omitted). */
export function hostAffinityPrefix(node: string, family?: IpFamily): string {
  return family === undefined ? `${ALL_AFFINITIES_PREFIX}${node}/` : `${ALL_AFFINITIES_PREFIX}${node}/${fam(family)}/block/`;
}

export function handleKey(handleId: string): string {
  return `${HANDLE_PREFIX}${handleId}`;
}

/** Handle ids and node names become key segments: refuse what would break the key space. */
export function checkKeySegment(what: string, value: string): string | undefined {
  if (value.length === 0) return `${what} must not be empty`;
  if (value.includes('/')) return `${what} "${value}" must not contain "/"`;
  if (value.length > 253) return `${what} is longer than 253 characters`;
  return undefined;
}
