import { formatCidr } from '../net/cidr.js';
import { allocationAt, describeIp, inUseOrdinals } from '../ipam/block.js';
import type { IpamClient } from '../ipam/ipam-client.js';
import { isNotFound } from '../errors.js';
import { CniCode, CniError } from './cni-spec.js';
import type { IpamConf } from './net-conf.js';

/**
 * What the CNI plugins ask of IPAM, over IpamClient: check the configured pools (before any
 * change), assign a workload's addresses idempotently (a retried ADD for the same handle gets the
 * addresses it already holds, also when the earlier attempt's outcome was unknown), release by
 * handle, and find the handles GC may release. The `brindle` plugin calls it in-process;
 * `brindle-ipam` is the same code behind the IPAM plugin protocol.
 */
export class WorkloadIpam {
  constructor(private readonly ipam: IpamClient) {}

  /** Refuses (CNI 7) pools that do not exist or are disabled, and families with no pool at all. */
  async checkPools(conf: IpamConf): Promise<void> {
    const pools = await this.ipam.resources.pools();
    const check = (wanted: string[], family: 4 | 6, on: boolean) => {
      if (!on) return;
      for (const w of wanted) {
        const p = pools.find((x) => x.name === w || formatCidr(x.cidr) === w);
        if (!p) throw new CniError(CniCode.InvalidConfig, `network configuration: ipam.ipv${family}_pools names "${w}", which is not an IP pool (see brindle get ippools)`);
        if (p.disabled) throw new CniError(CniCode.InvalidConfig, `network configuration: ipam.ipv${family}_pools names pool ${p.name}, which is disabled`);
        if (p.cidr.family !== family) throw new CniError(CniCode.InvalidConfig, `network configuration: ipam.ipv${family}_pools names pool ${p.name} (${formatCidr(p.cidr)}), which is not IPv${family}`);
      }
      if (wanted.length === 0 && !pools.some((p) => p.cidr.family === family && !p.disabled)) {
        throw new CniError(CniCode.InvalidConfig, `no enabled IPv${family} pool exists; create one (brindle apply -f pool.yaml) or set ipam.assign_ipv${family} to false`);
      }
    };
    check(conf.ipv4Pools, 4, conf.assignIpv4);
    check(conf.ipv6Pools, 6, conf.assignIpv6);
  }

  /** The handle's addresses: those it already holds when they fit the request, otherwise newly assigned. */
  async assign(conf: IpamConf, handleId: string, node: string, attrs: Record<string, string>): Promise<{ addresses: string[]; reused: boolean }> {
    const held = await this.held(handleId);
    const has4 = held.some((a) => !a.includes(':'));
    const has6 = held.some((a) => a.includes(':'));
    if (held.length > 0 && has4 === conf.assignIpv4 && has6 === conf.assignIpv6 && held.length === Number(has4) + Number(has6)) {
      return { addresses: held, reused: true };
    }
    if (held.length > 0) await this.ipam.releaseByHandle(handleId);
    const pools = [...(conf.assignIpv4 ? conf.ipv4Pools : []), ...(conf.assignIpv6 ? conf.ipv6Pools : [])];
    const r = await this.ipam.autoAssign({
      node, handleId, attrs,
      num4: conf.assignIpv4 ? 1 : 0,
      num6: conf.assignIpv6 ? 1 : 0,
      pools: pools.length > 0 ? pools : undefined,
      use: 'Workload',
    });
    return { addresses: [...r.ipv4, ...r.ipv6].map((a) => a.ip), reused: false };
  }

  release(handleId: string): Promise<string[]> {
    return this.ipam.releaseByHandle(handleId);
  }

  async held(handleId: string): Promise<string[]> {
    try {
      return await this.ipam.ipsByHandle(handleId);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }

  /**
   * Handles of `network` on `node` whose container is not among `valid` (GC): judged from the
   * allocations themselves (their handle and `node` attribute), so other nodes' workloads sharing
   * the datastore are never touched.
   */
  async staleHandles(network: string, node: string, valid: Set<string>): Promise<Map<string, string[]>> {
    const prefix = `${network}.`;
    const out = new Map<string, string[]>();
    for (const b of await this.ipam.store.listBlocks()) {
      for (const o of inUseOrdinals(b.value)) {
        const live = allocationAt(b.value, o);
        const h = live?.handleId;
        if (!h || !h.startsWith(prefix) || live.attrs['node'] !== node) continue;
        if (valid.has(h.slice(prefix.length))) continue;
        out.set(h, [...(out.get(h) ?? []), describeIp(b.value, o)]);
      }
    }
    return out;
  }
}
