/**
 * The network configuration list `brindle cni install` writes (pure), shaped like Calico's
 * `10-calico.conflist`: network `k8s-pod-network`, one `brindle` plugin with its datastore,
 * node name, MTU, `brindle-ipam` and policy. Runtimes chain further plugins (portmap, bandwidth,
 * tuning) by adding them to `plugins`. `cniVersions` lets a CNI 1.1 runtime pick 1.1.0 (GC,
 * STATUS) while older ones read `cniVersion`.
 */

export interface ConflistOptions {
  datastore: string;
  node?: string;
  mtu?: number;
  network?: string;
  ipv4?: boolean;
  ipv6?: boolean;
  ipv4Pools?: string[];
  ipv6Pools?: string[];
  /** Extra plugins appended after brindle (e.g. `{type: 'portmap', capabilities: {portMappings: true}}`). */
  chain?: Record<string, unknown>[];
}

export function defaultConflist(o: ConflistOptions): Record<string, unknown> {
  const ipam: Record<string, unknown> = {
    type: 'brindle-ipam',
    assign_ipv4: String(o.ipv4 ?? true),
    assign_ipv6: String(o.ipv6 ?? false),
  };
  if (o.ipv4Pools?.length) ipam['ipv4_pools'] = o.ipv4Pools;
  if (o.ipv6Pools?.length) ipam['ipv6_pools'] = o.ipv6Pools;
  const plugin: Record<string, unknown> = { type: 'brindle', datastore: o.datastore };
  if (o.node) plugin['nodename'] = o.node;
  plugin['mtu'] = o.mtu ?? 1500;
  plugin['ipam'] = ipam;
  plugin['policy'] = { type: 'k8s' };
  return {
    name: o.network ?? 'k8s-pod-network',
    cniVersion: '1.0.0',
    cniVersions: ['1.0.0', '1.1.0'],
    plugins: [plugin, ...(o.chain ?? [])],
  };
}
