import { kindInfo, resourceKey, resourcePrefix } from '../api/kinds.js';
import type { IPAMConfiguration, IPAMConfigurationSpec, IPPool, IPReservation, Node, Resource, WorkloadEndpoint } from '../api/types.js';
import type { Datastore } from '../datastore/datastore.js';
import { decodeResource, encodeResource } from '../datastore/resource-codec.js';
import { isAlreadyExists, isConflict } from '../errors.js';
import { parseCidr, tryParseIp, type Cidr } from './cidr.js';
import { toIpamConfig, toIpamPool, type IpamConfig, type IpamPool } from './pool-selection.js';

/**
 * The v3 resources IPAM reads (IPPool, IPReservation, IPAMConfiguration, Node, WorkloadEndpoint)
 * and the few it writes (the IPAMConfiguration singleton, pools for `ipam split`). Reads go straight
 * to the datastore through the resource codec.
 */
export class ResourceReader {
  constructor(private readonly ds: Datastore) {}

  private async listKind<R extends Resource>(kind: string): Promise<R[]> {
    const res = await this.ds.list(resourcePrefix(kindInfo(kind)!));
    return res.items.map((kv) => decodeResource<R>(kv));
  }

  async pools(): Promise<IpamPool[]> {
    const out: IpamPool[] = [];
    for (const p of await this.listKind<IPPool>('IPPool')) {
      try {
        out.push(toIpamPool(p));
      } catch {
        // a pool with an unparsable CIDR cannot be allocated from; validation keeps these out
      }
    }
    return out;
  }

  async rawPool(name: string): Promise<IPPool | null> {
    const kv = await this.ds.get(resourceKey(kindInfo('IPPool')!, name));
    return kv ? decodeResource<IPPool>(kv) : null;
  }

  async createPool(p: IPPool): Promise<void> {
    await this.ds.create(resourceKey(kindInfo('IPPool')!, p.metadata.name), encodeResource(p));
  }

  async updatePool(p: IPPool): Promise<void> {
    await this.ds.update(resourceKey(kindInfo('IPPool')!, p.metadata.name), encodeResource(p), Number(p.metadata.resourceVersion));
  }

  async deletePool(p: IPPool): Promise<void> {
    await this.ds.delete(resourceKey(kindInfo('IPPool')!, p.metadata.name), Number(p.metadata.resourceVersion));
  }

  async config(): Promise<IpamConfig> {
    const kv = await this.ds.get(resourceKey(kindInfo('IPAMConfiguration')!, 'default'));
    return toIpamConfig(kv ? decodeResource<IPAMConfiguration>(kv).spec : undefined);
  }

  /** Merges `patch` into the `default` IPAMConfiguration, creating it if absent (CAS, bounded). */
  async patchConfig(patch: IPAMConfigurationSpec): Promise<IpamConfig> {
    const key = resourceKey(kindInfo('IPAMConfiguration')!, 'default');
    for (let attempt = 0; attempt < 20; attempt++) {
      const kv = await this.ds.get(key);
      const cur: IPAMConfiguration = kv
        ? decodeResource<IPAMConfiguration>(kv)
        : { apiVersion: 'projectcalico.org/v3', kind: 'IPAMConfiguration', metadata: { name: 'default' }, spec: {} };
      const spec = { ...toIpamConfig(cur.spec), ...cur.spec, ...patch };
      const next: IPAMConfiguration = { ...cur, spec };
      try {
        if (kv) await this.ds.update(key, encodeResource(next), kv.modRevision);
        else await this.ds.create(key, encodeResource(next));
        return toIpamConfig(spec);
      } catch (err) {
        if (isConflict(err) || isAlreadyExists(err)) continue;
        throw err;
      }
    }
    throw new Error('could not write IPAMConfiguration default: too many concurrent writers');
  }

  /** Every reserved CIDR (single addresses become /32 or /128). */
  async reservations(): Promise<Cidr[]> {
    const out: Cidr[] = [];
    for (const r of await this.listKind<IPReservation>('IPReservation')) {
      for (const text of r.spec.reservedCIDRs ?? []) {
        try {
          if (text.includes('/')) out.push(parseCidr(text));
          else {
            const ip = tryParseIp(text);
            if (ip) out.push({ family: ip.family, base: ip.value, prefix: ip.family === 4 ? 32 : 128 });
          }
        } catch {
          // unparsable entries are refused by validation; ignore here
        }
      }
    }
    return out;
  }

  /** The node's labels, or null when no Node resource of that name exists. */
  async nodeLabels(name: string): Promise<Map<string, string> | null> {
    const kv = await this.ds.get(resourceKey(kindInfo('Node')!, name));
    if (!kv) return null;
    return new Map(Object.entries(decodeResource<Node>(kv).metadata.labels ?? {}));
  }

  async nodeNames(): Promise<Set<string>> {
    return new Set((await this.listKind<Node>('Node')).map((n) => n.metadata.name));
  }

  async nodes(): Promise<Node[]> {
    return this.listKind<Node>('Node');
  }

  async workloadEndpoints(): Promise<WorkloadEndpoint[]> {
    return this.listKind<WorkloadEndpoint>('WorkloadEndpoint');
  }
}
