import type { WorkloadEndpoint } from '../api/types.js';
import type { Exec } from '../base/exec.js';
import type { Datastore } from '../datastore/datastore.js';
import { ResourceClient } from '../datastore/resource-client.js';
import { isNotFound } from '../errors.js';
import { IpamClient } from '../ipam/ipam-client.js';
import { CniCode, CniError, parseResult, type CniResult } from './cni-spec.js';
import type { CniRequest } from './cni-request.js';
import type { NetConf } from './net-conf.js';
import { toCniError } from './plugin-datastore.js';
import { VethPlumber } from './veth-plumber.js';
import { buildWorkloadEndpoint } from './workload-endpoint.js';
import { GATEWAY_V4, GATEWAY_V6, HOST_VETH_MAC, workloadIdentity, type WorkloadIdentity } from './workload-identity.js';
import { WorkloadIpam } from './workload-ipam.js';

export interface PluginDeps {
  exec: Exec;
  openDatastore(conf: NetConf): Promise<Datastore>;
  /** This host's node name when the configuration has none. */
  hostname(): string;
  now(): Date;
  procSys?: string;
  /** Called after each ADD step (tests use it to kill the plugin between steps). */
  checkpoint?(step: 'pools' | 'ipam' | 'veth' | 'endpoint'): Promise<void>;
}

/**
 * The `brindle` network plugin's commands. ADD: addresses from Brindle IPAM (handle
 * `<network>.<containerID>`), the veth wired Calico-style, then the WorkloadEndpoint; a failure
 * at any step undoes every step (the same teardown DEL does), and a retried ADD reuses what the
 * earlier attempt left. DEL tears down in the reverse order and treats everything already gone as
 * done. CHECK compares the kernel, the endpoint and IPAM with prevResult. GC releases this
 * node's addresses whose containers the runtime no longer lists. It needs no node agent.
 */
export class NetworkPlugin {
  private readonly plumber: VethPlumber;
  constructor(private readonly deps: PluginDeps) {
    this.plumber = new VethPlumber(deps.exec, deps.procSys);
  }

  async add(req: CniRequest, conf: NetConf): Promise<CniResult> {
    this.requireBrindleIpam(conf);
    const id = this.identity(req, conf);
    this.plumber.requireNetns(req.netns);
    return this.withStore(conf, async (ds) => {
      const ipam = new WorkloadIpam(new IpamClient(ds));
      const rc = new ResourceClient(ds);
      await ipam.checkPools(conf.ipam).catch((e) => {
        throw toCniError(e, 'reading IP pools');
      });
      await this.deps.checkpoint?.('pools');
      let vethTouched = false;
      try {
        const attrs = { ...id.ipamAttrs, timestamp: this.deps.now().toISOString() };
        const { addresses } = await ipam.assign(conf.ipam, id.handleId, id.node, attrs);
        await this.deps.checkpoint?.('ipam');
        vethTouched = true;
        this.plumber.setUp({
          hostVeth: id.hostVeth, ifname: req.ifname, netns: req.netns, mtu: conf.mtu, containerMac: id.containerMac, addresses,
          replaceHostVeth: this.plumber.hostLinkExists(id.hostVeth),
        });
        await this.deps.checkpoint?.('veth');
        await rc.apply(buildWorkloadEndpoint(id, addresses));
        await this.deps.checkpoint?.('endpoint');
        return this.result(id, req, conf, addresses);
      } catch (err) {
        const cause = toCniError(err);
        const undo = await this.teardown(rc, ipam, id, vethTouched ? 'yes' : 'no');
        if (undo.length > 0) cause.message += ` (rolling back also failed: ${undo.join('; ')}; run DEL again or brindle ipam check)`;
        throw cause;
      }
    });
  }

  async del(req: CniRequest, conf: NetConf): Promise<void> {
    this.requireBrindleIpam(conf);
    const id = this.identity(req, conf);
    // The kernel side needs no datastore (the veth dies with the container's interface): both halves run at once.
    const netnsGone = !this.plumber.netnsExists(req.netns);
    const kernel = this.plumber.removeContainerLink(req.netns, req.ifname);
    const store = this.withStore(conf, async (ds) => {
      const rc = new ResourceClient(ds);
      const ipam = new WorkloadIpam(new IpamClient(ds));
      const problems = await this.teardown(rc, ipam, id, netnsGone ? 'if-ours' : 'no');
      if (problems.length > 0) throw new CniError(CniCode.TryAgainLater, `DEL of ${id.endpointName} incomplete: ${problems.join('; ')}`);
    });
    const [k, s] = await Promise.allSettled([kernel, store]);
    if (k.status === 'rejected') throw k.reason;
    if (s.status === 'rejected') throw s.reason;
  }

  async check(req: CniRequest, conf: NetConf): Promise<void> {
    this.requireBrindleIpam(conf);
    if (conf.prevResult === undefined) throw new CniError(CniCode.InvalidConfig, 'CHECK needs "prevResult" (the result of the ADD) in the network configuration');
    const prev = parseResult(conf.prevResult);
    const id = this.identity(req, conf);
    const mine = prev.interfaces.findIndex((i) => i.name === req.ifname && !!i.sandbox);
    const addresses = prev.ips.filter((ip) => mine < 0 || ip.interface === undefined || ip.interface === mine).map((ip) => ip.address.split('/')[0]!);
    if (addresses.length === 0) throw new CniError(CniCode.CheckFailed, `prevResult lists no address for ${req.ifname}`);
    const problems = await this.plumber.verify({ hostVeth: id.hostVeth, ifname: req.ifname, netns: req.netns, addresses });
    await this.withStore(conf, async (ds) => {
      const wep = (await new ResourceClient(ds).get('WorkloadEndpoint', id.endpointName, id.namespace)) as WorkloadEndpoint | null;
      if (!wep) problems.push(`WorkloadEndpoint ${id.namespace}/${id.endpointName} does not exist`);
      else if (wep.spec.containerID !== id.containerId) problems.push(`WorkloadEndpoint ${id.namespace}/${id.endpointName} belongs to container ${wep.spec.containerID}`);
      else {
        const nets = new Set((wep.spec.ipNetworks ?? []).map((n) => n.split('/')[0]));
        for (const a of addresses) if (!nets.has(a)) problems.push(`WorkloadEndpoint ${id.namespace}/${id.endpointName} does not list ${a}`);
      }
      const held = new Set(await new WorkloadIpam(new IpamClient(ds)).held(id.handleId));
      for (const a of addresses) if (!held.has(a)) problems.push(`IPAM handle ${id.handleId} does not hold ${a}`);
    });
    if (problems.length > 0) throw new CniError(CniCode.CheckFailed, `CHECK of ${id.endpointName} failed: ${problems.join('; ')}`);
  }

  /** Releases this node's addresses (and endpoints) of containers not in the valid list. Returns the handles released. */
  async gc(conf: NetConf): Promise<string[]> {
    if (!conf.validAttachments) throw new CniError(CniCode.InvalidConfig, 'GC needs "cni.dev/valid-attachments" in the network configuration');
    const node = conf.nodename ?? this.deps.hostname();
    const valid = new Set(conf.validAttachments.map((a) => a.containerID));
    return this.withStore(conf, async (ds) => {
      const ipam = new WorkloadIpam(new IpamClient(ds));
      const rc = new ResourceClient(ds);
      const stale = await ipam.staleHandles(conf.name, node, valid);
      if (stale.size === 0) return [];
      const weps = (await rc.list('WorkloadEndpoint')).items as WorkloadEndpoint[];
      for (const handle of stale.keys()) {
        const cid = handle.slice(conf.name.length + 1);
        for (const w of weps.filter((x) => x.spec.node === node && x.spec.containerID === cid)) {
          await rc.delete('WorkloadEndpoint', w.metadata.name, w.metadata.namespace).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
        }
        await ipam.release(handle);
      }
      return [...stale.keys()];
    });
  }

  /** STATUS: ready when the datastore answers and the configured families have pools. */
  async status(conf: NetConf): Promise<void> {
    try {
      await this.withStore(conf, (ds) => new WorkloadIpam(new IpamClient(ds)).checkPools(conf.ipam));
    } catch (err) {
      throw new CniError(CniCode.PluginNotAvailable, `not ready for ADD: ${(err as Error).message}`);
    }
  }

  // ---------------------------------------------------------------------------- internals

  /**
   * Undoes an attachment in DEL order: the host veth ('yes' on an ADD's rollback, which made it;
   * 'if-ours' on a DEL whose netns is gone), the endpoint if it is still this container's, the
   * addresses.
   * Each step runs even when an earlier one failed; returns what could not be done.
   */
  private async teardown(rc: ResourceClient, ipam: WorkloadIpam, id: WorkloadIdentity, hostVeth: 'yes' | 'no' | 'if-ours'): Promise<string[]> {
    const problems: string[] = [];
    let wep: WorkloadEndpoint | null | undefined;
    try {
      wep = (await rc.get('WorkloadEndpoint', id.endpointName, id.namespace)) as WorkloadEndpoint | null;
    } catch (err) {
      problems.push(`reading the endpoint: ${(err as Error).message}`);
    }
    const ours = wep !== undefined && (wep === null || wep.spec.containerID === id.containerId);
    // A Kubernetes pod's next sandbox reuses the veth name: only remove it when no other container owns the endpoint.
    if (hostVeth === 'yes' || (hostVeth === 'if-ours' && (id.orchestrator === 'cni' || ours))) {
      await this.plumber.removeHostVeth(id.hostVeth).catch((err) => problems.push((err as Error).message));
    }
    if (wep && ours) {
      await rc.delete('WorkloadEndpoint', id.endpointName, id.namespace).catch((err) => {
        if (!isNotFound(err)) problems.push(`deleting the endpoint: ${(err as Error).message}`);
      });
    }
    await ipam.release(id.handleId).catch((err) => problems.push(`releasing handle ${id.handleId}: ${(err as Error).message}`));
    return problems;
  }

  private result(id: WorkloadIdentity, req: CniRequest, conf: NetConf, addresses: string[]): CniResult {
    const routes = [];
    if (addresses.some((a) => !a.includes(':'))) routes.push({ dst: '0.0.0.0/0', gw: GATEWAY_V4 });
    if (addresses.some((a) => a.includes(':'))) routes.push({ dst: '::/0', gw: GATEWAY_V6 });
    return {
      interfaces: [
        { name: id.hostVeth, mac: HOST_VETH_MAC, mtu: conf.mtu },
        { name: req.ifname, mac: id.containerMac, sandbox: req.netns, mtu: conf.mtu },
      ],
      ips: addresses.map((a) => ({ address: `${a}/${a.includes(':') ? 128 : 32}`, interface: 1 })),
      routes,
      dns: conf.dns,
    };
  }

  private identity(req: CniRequest, conf: NetConf): WorkloadIdentity {
    return workloadIdentity(req, conf, conf.nodename ?? this.deps.hostname());
  }

  private requireBrindleIpam(conf: NetConf): void {
    if (conf.ipam.type !== 'brindle-ipam') {
      throw new CniError(CniCode.InvalidConfig, `network configuration: ipam.type "${conf.ipam.type}" is not supported by the brindle plugin; use "brindle-ipam" (other plugins can use brindle-ipam as their IPAM)`);
    }
  }

  private async withStore<T>(conf: NetConf, fn: (ds: Datastore) => Promise<T>): Promise<T> {
    const ds = await this.deps.openDatastore(conf);
    try {
      return await fn(ds);
    } catch (err) {
      throw toCniError(err);
    } finally {
      await ds.close().catch(() => undefined);
    }
  }
}
