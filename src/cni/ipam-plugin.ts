import type { Datastore } from '../datastore/datastore.js';
import { IpamClient } from '../ipam/ipam-client.js';
import { CniCode, CniError, parseResult, type CniResult } from './cni-spec.js';
import type { CniRequest } from './cni-request.js';
import type { NetConf } from './net-conf.js';
import { toCniError } from './plugin-datastore.js';
import { WorkloadIpam } from './workload-ipam.js';

export interface IpamPluginDeps {
  openDatastore(conf: NetConf): Promise<Datastore>;
  hostname(): string;
  now(): Date;
}

/**
 * `brindle-ipam`, the IPAM plugin any CNI plugin (ptp, bridge, …) can name as its `ipam.type`:
 * ADD assigns from Brindle IPAM with handle `<network>.<containerID>` and returns the addresses
 * (/32, /128) and the configured `ipam.routes`; DEL releases the handle (nothing held is
 * success); CHECK confirms the handle still holds prevResult's addresses. No WorkloadEndpoint is
 * written here, so the allocations carry no `workload` attribute (`ipam check` judges them by node).
 */
export class IpamPlugin {
  constructor(private readonly deps: IpamPluginDeps) {}

  async add(req: CniRequest, conf: NetConf): Promise<CniResult> {
    const node = conf.nodename ?? this.deps.hostname();
    return this.withIpam(conf, async (ipam) => {
      await ipam.checkPools(conf.ipam);
      const attrs: Record<string, string> = { node, containerID: req.containerId, timestamp: this.deps.now().toISOString() };
      const ns = req.args.get('K8S_POD_NAMESPACE');
      const pod = req.args.get('K8S_POD_NAME');
      if (ns) attrs['namespace'] = ns;
      if (pod) attrs['pod'] = pod;
      const { addresses } = await ipam.assign(conf.ipam, handleOf(conf, req), node, attrs);
      const routes = Array.isArray(conf.raw['ipam'] && (conf.raw['ipam'] as Record<string, unknown>)['routes'])
        ? ((conf.raw['ipam'] as Record<string, unknown>)['routes'] as { dst: string; gw?: string }[])
        : [];
      return { interfaces: [], ips: addresses.map((a) => ({ address: `${a}/${a.includes(':') ? 128 : 32}` })), routes, dns: conf.dns };
    });
  }

  async del(req: CniRequest, conf: NetConf): Promise<void> {
    await this.withIpam(conf, (ipam) => ipam.release(handleOf(conf, req)));
  }

  async check(req: CniRequest, conf: NetConf): Promise<void> {
    if (conf.prevResult === undefined) throw new CniError(CniCode.InvalidConfig, 'CHECK needs "prevResult" in the network configuration');
    const want = parseResult(conf.prevResult).ips.map((i) => i.address.split('/')[0]!);
    const handle = handleOf(conf, req);
    const held = new Set(await this.withIpam(conf, (ipam) => ipam.held(handle)));
    const missing = want.filter((a) => !held.has(a));
    if (missing.length > 0) throw new CniError(CniCode.CheckFailed, `IPAM handle ${handle} does not hold ${missing.join(', ')}`);
  }

  async gc(conf: NetConf): Promise<string[]> {
    if (!conf.validAttachments) throw new CniError(CniCode.InvalidConfig, 'GC needs "cni.dev/valid-attachments" in the network configuration');
    const node = conf.nodename ?? this.deps.hostname();
    const valid = new Set(conf.validAttachments.map((a) => a.containerID));
    return this.withIpam(conf, async (ipam) => {
      const stale = await ipam.staleHandles(conf.name, node, valid);
      for (const h of stale.keys()) await ipam.release(h);
      return [...stale.keys()];
    });
  }

  async status(conf: NetConf): Promise<void> {
    try {
      await this.withIpam(conf, (ipam) => ipam.checkPools(conf.ipam));
    } catch (err) {
      throw new CniError(CniCode.PluginNotAvailable, `not ready for ADD: ${(err as Error).message}`);
    }
  }

  private async withIpam<T>(conf: NetConf, fn: (ipam: WorkloadIpam) => Promise<T>): Promise<T> {
    const ds = await this.deps.openDatastore(conf);
    try {
      return await fn(new WorkloadIpam(new IpamClient(ds)));
    } catch (err) {
      throw toCniError(err);
    } finally {
      await ds.close().catch(() => undefined);
    }
  }
}

function handleOf(conf: NetConf, req: CniRequest): string {
  return `${conf.name}.${req.containerId}`;
}
