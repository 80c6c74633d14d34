import { randomUUID } from 'node:crypto';
import { kindInfo, resourceKey } from '../api/kinds.js';
import type { IPAMConfiguration, IPAMConfigurationSpec, IPPool, IPReservation, Node, Resource, WorkloadEndpoint } from '../api/types.js';
import type { Datastore } from '../datastore/datastore.js';
import { ResourceClient } from '../datastore/resource-client.js';
import { encodeResource } from '../datastore/resource-codec.js';
import { ConflictError, isAlreadyExists, isConflict } from '../errors.js';
import { parseCidr, tryParseIp, type Cidr } from '../net/cidr.js';
import { toIpamConfig, toIpamPool, type IpamConfig, type IpamPool } from './pool-selection.js';

/**
 * The v3 resources IPAM reads (IPPool, IPReservation, IPAMConfiguration, Node, WorkloadEndpoint)
 * and the few it writes (the IPAMConfiguration singleton, pools for `ipam split`), all through the
 * project's ResourceClient so that what IPAM writes is validated like any other resource.
 */
export class ResourceReader {
  private readonly client: ResourceClient;

  constructor(private readonly ds: Datastore) {
    this.client = new ResourceClient(ds);
  }

  private async listKind<R extends Resource>(kind: string): Promise<R[]> {
    return (await this.client.list(kind)).items as R[];
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
    return (await this.client.get('IPPool', name)) as IPPool | null;
  }

  /**
   * Creates a pool that may overlap a disabled pool it replaces (calicoctl's "unsafe create" used
   * by `ipam split`): validated and defaulted like any pool, but not checked for overlap.
   */
  async createReplacementPool(p: IPPool): Promise<void> {
    const r = this.client.prepare(p);
    const stored = { ...r, metadata: { ...r.metadata, uid: randomUUID(), creationTimestamp: new Date().toISOString() } };
    await this.ds.create(resourceKey(kindInfo('IPPool')!, r.metadata.name), encodeResource(stored));
  }

  async updatePool(p: IPPool): Promise<void> {
    await this.client.update(p);
  }

  async deletePool(p: IPPool): Promise<void> {
    await this.client.delete('IPPool', p.metadata.name, undefined, p.metadata.resourceVersion);
  }

  async config(): Promise<IpamConfig> {
    const r = (await this.client.get('IPAMConfiguration', 'default')) as IPAMConfiguration | null;
    return toIpamConfig(r?.spec);
  }

  /**
   * Merges `patch` into the `default` IPAMConfiguration (created if absent), validated like any
   * resource: e.g. maxBlocksPerHost > 0 needs strictAffinity true (ValidationError otherwise).
   */
  async patchConfig(patch: IPAMConfigurationSpec): Promise<IpamConfig> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const cur = (await this.client.get('IPAMConfiguration', 'default')) as IPAMConfiguration | null;
      const next: IPAMConfiguration = {
        apiVersion: 'projectcalico.org/v3',
        kind: 'IPAMConfiguration',
        metadata: cur ? { ...cur.metadata } : { name: 'default' },
        spec: { ...cur?.spec, ...patch },
      };
      try {
        const written = cur ? await this.client.update(next) : await this.client.create(next);
        return toIpamConfig((written as IPAMConfiguration).spec);
      } catch (err) {
        if (isConflict(err) || isAlreadyExists(err)) continue;
        throw err;
      }
    }
    throw new ConflictError('could not write IPAMConfiguration default: too many concurrent writers');
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
    const n = (await this.client.get('Node', name)) as Node | null;
    return n ? new Map(Object.entries(n.metadata.labels ?? {})) : null;
  }

  async nodes(): Promise<Node[]> {
    return this.listKind<Node>('Node');
  }

  async workloadEndpoints(): Promise<WorkloadEndpoint[]> {
    return this.listKind<WorkloadEndpoint>('WorkloadEndpoint');
  }
}
