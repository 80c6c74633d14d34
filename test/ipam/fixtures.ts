import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kindInfo, resourceKey } from '../../src/api/kinds.js';
import type { IPPoolSpec, Resource } from '../../src/api/types.js';
import type { Datastore } from '../../src/datastore/datastore.js';
import { MemoryDatastore } from '../../src/datastore/memory.js';
import { openDatastore } from '../../src/datastore/open.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { encodeResource } from '../../src/datastore/resource-codec.js';

/** Test fixtures: v3 resources written straight into a datastore, and throwaway backends. */

async function put(ds: Datastore, kind: string, name: string, spec: unknown, extra: { namespace?: string; labels?: Record<string, string> } = {}): Promise<void> {
  const r: Resource = { apiVersion: 'projectcalico.org/v3', kind, metadata: { name, ...extra }, spec };
  const key = resourceKey(kindInfo(kind)!, name, extra.namespace);
  const cur = await ds.get(key);
  if (cur) await ds.update(key, encodeResource(r), cur.modRevision);
  else await ds.create(key, encodeResource(r));
}

/** Pools go through the ResourceClient, so they are validated and stored defaulted, as in real use. */
export async function addPool(ds: Datastore, name: string, cidr: string, spec: Partial<IPPoolSpec> = {}): Promise<void> {
  await new ResourceClient(ds).apply({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, ...spec } });
}

export function addNode(ds: Datastore, name: string, labels: Record<string, string> = {}): Promise<void> {
  return put(ds, 'Node', name, {}, { labels });
}

export function addReservation(ds: Datastore, name: string, reservedCIDRs: string[]): Promise<void> {
  return put(ds, 'IPReservation', name, { reservedCIDRs });
}

export function addWorkloadEndpoint(ds: Datastore, namespace: string, name: string, node: string, ipNetworks: string[]): Promise<void> {
  return put(ds, 'WorkloadEndpoint', name, { node, ipNetworks }, { namespace });
}

export async function removeResource(ds: Datastore, kind: string, name: string, namespace?: string): Promise<void> {
  await ds.delete(resourceKey(kindInfo(kind)!, name, namespace));
}

/** A fresh backend of the given kind and a cleanup function that closes it and removes its files. */
export async function freshStore(kind: 'memory' | 'sqlite'): Promise<{ ds: Datastore; url: string; dispose: () => Promise<void> }> {
  if (kind === 'memory') {
    const ds = new MemoryDatastore();
    return { ds, url: 'memory:', dispose: () => ds.close() };
  }
  const dir = mkdtempSync(join(tmpdir(), 'brindle-ipam-'));
  const url = `sqlite:${join(dir, 'brindle.db')}`;
  const ds = await openDatastore(url);
  return {
    ds,
    url,
    dispose: async () => {
      try {
        await ds.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A clock tests move by hand. */
export class ManualClock {
  constructor(private t = Date.parse('2026-01-01T00:00:00Z')) {}
  now(): Date {
    return new Date(this.t);
  }
  advance(seconds: number): void {
    this.t += seconds * 1000;
  }
}
