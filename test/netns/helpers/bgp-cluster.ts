import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kindInfo, resourceKey } from '../../../src/api/kinds.js';
import type { Resource } from '../../../src/api/types.js';
import { affinityKey } from '../../../src/ipam/keys.js';
import { BgpRouting } from '../../../src/routing/bgp-routing.js';
import type { BgpUpdate } from '../../../src/routing/bgp-state.js';
import { BirdDriver } from '../../../src/routing/bird-driver.js';
import { BirdSocketClient } from '../../../src/routing/bird-socket.js';
import { readBirdStatus, type BirdStatus } from '../../../src/routing/bird-status.js';
import { exec, Topology, type NodeNs } from './topology.js';

/**
 * One BgpRouting + BirdDriver per node namespace of a Topology, fed the same resource updates a
 * datastore syncer would deliver (every node sees every resource; each node its own affinities).
 */

export const V3 = 'projectcalico.org/v3';

export function nodeResource(n: NodeNs, extra: { labels?: Record<string, string>; bgp?: Record<string, unknown>; spec?: Record<string, unknown> } = {}): Resource {
  return { apiVersion: V3, kind: 'Node', metadata: { name: n.name, labels: extra.labels ?? {} }, spec: { bgp: { ipv4Address: n.cidr, ...(extra.bgp ?? {}) }, ...(extra.spec ?? {}) } };
}

export function resourceUpdate(r: Resource | { kind: string; metadata: { name: string } }, deleted = false): BgpUpdate {
  return { key: resourceKey(kindInfo(r.kind)!, r.metadata.name), value: deleted ? null : JSON.stringify(r) };
}

export function affinityUpdate(node: string, cidr: string, state = 'confirmed'): BgpUpdate {
  return { key: affinityKey(node, cidr), value: JSON.stringify({ state, node, type: 'host', cidr, deleted: false }) };
}

export class BgpCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'brindle-bgp-'));
  readonly routing = new Map<string, BgpRouting>();
  readonly drivers = new Map<string, BirdDriver>();
  readonly logs: string[] = [];

  constructor(readonly topo: Topology, nodes: NodeNs[] = topo.nodes) {
    for (const n of nodes) {
      const driver = new BirdDriver({ runDir: join(this.dir, n.name), exec, netns: n.ns, restartDelayMs: 100, log: (m) => this.logs.push(`${n.name}: ${m}`) });
      this.drivers.set(n.name, driver);
      this.routing.set(n.name, new BgpRouting({ hostname: n.name, driver, debounceMs: 0, log: (m) => this.logs.push(`${n.name}: ${m}`) }));
    }
  }

  /** Sends updates to every node (affinity keys only matter to their own node). */
  send(updates: BgpUpdate[]): void {
    for (const r of this.routing.values()) r.onUpdates(updates);
  }

  async syncAll(): Promise<void> {
    for (const r of this.routing.values()) r.onStatus('in-sync');
    await this.flushAll();
  }

  async flushAll(): Promise<void> {
    await Promise.all([...this.routing.values()].map((r) => r.flush()));
    for (const [name, r] of this.routing) if (r.lastError) throw new Error(`${name}: ${r.lastError.message}`);
  }

  client(node: string): BirdSocketClient {
    return new BirdSocketClient(this.drivers.get(node)!.paths.socket);
  }

  status(node: string): Promise<BirdStatus> {
    return readBirdStatus(this.client(node));
  }

  async establishedCount(node: string): Promise<number> {
    try {
      return (await this.status(node)).sessions.filter((s) => s.info.startsWith('Established')).length;
    } catch {
      return 0;
    }
  }

  async destroy(): Promise<void> {
    await Promise.allSettled([...this.routing.values()].map((r) => r.dispose()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
