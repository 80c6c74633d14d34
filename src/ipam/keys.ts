import { cidrKeyName, parseCidr, type IpFamily } from '../net/cidr.js';

/**
 * Datastore keys of IPAM state (pure):
 * - blocks:     `/brindle/ipam/v2/assignment/ipv4/block/10-0-0-0-26`
 * - affinities: `/brindle/ipam/v2/host/<node>/ipv4/block/10-0-0-0-26`
 * - handles:    `/brindle/ipam/v2/handle/<id>`
 * The stored values carry the real CIDR, so key names never have to be parsed back into one.
 */

export const IPAM_ROOT = '/brindle/ipam/v2/';

const fam = (f: IpFamily): string => (f === 4 ? 'ipv4' : 'ipv6');

export function blockKey(cidr: string): string {
  return `${IPAM_ROOT}assignment/${fam(parseCidr(cidr).family)}/block/${cidrKeyName(cidr)}`;
}

export function blockPrefix(family: IpFamily): string {
  return `${IPAM_ROOT}assignment/${fam(family)}/block/`;
}

export function affinityKey(node: string, cidr: string): string {
  return `${IPAM_ROOT}host/${node}/${fam(parseCidr(cidr).family)}/block/${cidrKeyName(cidr)}`;
}

/** Prefix of one node's affinities (of one family, or both when family is omitted). */
export function hostAffinityPrefix(node: string, family?: IpFamily): string {
  return family === undefined ? `${IPAM_ROOT}host/${node}/` : `${IPAM_ROOT}host/${node}/${fam(family)}/block/`;
}

export const ALL_AFFINITIES_PREFIX = `${IPAM_ROOT}host/`;

export function handleKey(handleId: string): string {
  return `${IPAM_ROOT}handle/${handleId}`;
}

export const HANDLE_PREFIX = `${IPAM_ROOT}handle/`;

/** Handle ids and node names become key segments: refuse what would break the key space. */
export function checkKeySegment(what: string, value: string): string | undefined {
  if (value.length === 0) return `${what} must not be empty`;
  if (value.includes('/')) return `${what} "${value}" must not contain "/"`;
  if (value.length > 253) return `${what} is longer than 253 characters`;
  return undefined;
}
