import { UsageError } from '../errors.js';

/** `etcd://h1:p1,h2:p2` (or `etcds://` for TLS) → gRPC hosts and an endpoint list for messages. */
export function parseEtcdUrl(url: string, tls: boolean): { hosts: string[]; endpoints: string; secure: boolean } {
  const m = /^(etcds?):\/\/([^/]*)\/?$/.exec(url);
  if (!m || m[2] === '') throw new UsageError(`bad etcd datastore URL "${url}": use etcd://host:port[,host:port…]`);
  const secure = m[1] === 'etcds' || tls;
  const eps = m[2]!.split(',').map((hp) => {
    const ep = hp.trim();
    if (!/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(ep)) throw new UsageError(`bad etcd endpoint "${ep}" in ${url}: use host:port`);
    return /:\d+$/.test(ep) && !/^\[[^\]]*\]$/.test(ep) ? ep : `${ep}:2379`;
  });
  return { hosts: eps.map((ep) => `${secure ? 'https' : 'http'}://${ep}`), endpoints: eps.join(','), secure };
}
