/**
 * Creates this node's Node resource when it does not exist yet, with addresses detected in the
 * agent's network namespace (the first global address not on a workload interface) unless given
 * by flag. An existing Node is left as it is; other nodes are never touched.
 */
import type { Exec } from '../base/exec.js';
import type { Resource } from '../api/types.js';
import type { ResourceClient } from '../datastore/resource-client.js';
import { AlreadyExistsError } from '../errors.js';

interface IpAddrJson {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number; scope: string }[];
}

export async function detectAddress(exec: Exec, family: 4 | 6): Promise<string | undefined> {
  const { stdout } = await exec.run('ip', ['-j', `-${family}`, 'addr', 'show']);
  for (const link of JSON.parse(stdout || '[]') as IpAddrJson[]) {
    if (link.ifname === 'lo' || link.ifname.startsWith('cali')) continue;
    for (const a of link.addr_info ?? []) if (a.scope === 'global') return `${a.local}/${a.prefixlen}`;
  }
  return undefined;
}

export async function ensureNode(client: ResourceClient, exec: Exec, node: string, o: { ip?: string; ip6?: string; as?: number }): Promise<'created' | 'exists'> {
  if (await client.get('Node', node)) return 'exists';
  const ip4 = o.ip ?? (await detectAddress(exec, 4));
  const ip6 = o.ip6 ?? (await detectAddress(exec, 6));
  const withPrefix = (a: string, bits: number) => (a.includes('/') ? a : `${a}/${bits}`);
  const bgp: Record<string, unknown> = {};
  if (ip4) bgp['ipv4Address'] = withPrefix(ip4, 32);
  if (ip6) bgp['ipv6Address'] = withPrefix(ip6, 128);
  if (o.as !== undefined) bgp['asNumber'] = o.as;
  const addresses = [ip4, ip6].filter((a): a is string => !!a).map((a) => ({ address: a.split('/')[0]!, type: 'InternalIP' }));
  const spec: Record<string, unknown> = {};
  if (Object.keys(bgp).length) spec['bgp'] = bgp;
  if (addresses.length) spec['addresses'] = addresses;
  const doc = { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: node }, spec } as Resource;
  try {
    await client.create(doc);
    return 'created';
  } catch (err) {
    if (err instanceof AlreadyExistsError) return 'exists';
    throw err;
  }
}
