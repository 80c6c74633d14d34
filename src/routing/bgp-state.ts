/**
 * BgpState (the part of Calico's confd that caches what the BIRD templates read): the resources one
 * node's BIRD configuration depends on, fed by plain `{key, value | null}` updates from any syncer
 * of the prefixes `bgpWatchPrefixes()` names. It keeps state only; `config-builder.ts` turns it into
 * a BirdConfig. It does NOT see policy, endpoints or other nodes' block affinities: remote blocks
 * arrive over BGP, not from the datastore.
 */
import { kindInfo, parseResourceKey, resourcePrefix } from '../api/kinds.js';
import type { BGPConfigurationSpec, BGPFilterSpec, BGPPeerSpec, IPPoolSpec, NodeSpec, Resource } from '../api/types.js';
import { hostAffinityPrefix } from '../ipam/keys.js';

export interface BgpUpdate {
  key: string;
  /** A resource or an IPAM affinity, as an object or its stored JSON text; null when deleted. */
  value: unknown;
}

export interface BlockAffinityValue {
  state: 'confirmed' | 'pending' | 'pendingDeletion';
  node: string;
  cidr: string;
  deleted?: boolean;
}

export interface NodeRecord {
  name: string;
  labels: Record<string, string>;
  spec: NodeSpec;
}

/** A read-only view of the state, what the builder consumes (tests build it directly). */
export interface BgpSnapshot {
  nodes: ReadonlyMap<string, NodeRecord>;
  /** `default` and `node.<name>` BGPConfigurations. */
  configs: ReadonlyMap<string, BGPConfigurationSpec>;
  peers: ReadonlyMap<string, BGPPeerSpec>;
  filters: ReadonlyMap<string, BGPFilterSpec>;
  pools: ReadonlyMap<string, IPPoolSpec>;
  /** This node's block affinities by CIDR. */
  affinities: ReadonlyMap<string, BlockAffinityValue>;
}

const KINDS = ['Node', 'BGPConfiguration', 'BGPPeer', 'BGPFilter', 'IPPool'] as const;

/** The datastore prefixes this node's BIRD configuration is computed from. */
export function bgpWatchPrefixes(hostname: string): string[] {
  return [...KINDS.map((k) => resourcePrefix(kindInfo(k)!)), hostAffinityPrefix(hostname)];
}

export class BgpState implements BgpSnapshot {
  readonly nodes = new Map<string, NodeRecord>();
  readonly configs = new Map<string, BGPConfigurationSpec>();
  readonly peers = new Map<string, BGPPeerSpec>();
  readonly filters = new Map<string, BGPFilterSpec>();
  readonly pools = new Map<string, IPPoolSpec>();
  readonly affinities = new Map<string, BlockAffinityValue>();
  private readonly affinityPrefix: string;
  private changed = false;

  constructor(readonly hostname: string) {
    this.affinityPrefix = hostAffinityPrefix(hostname);
  }

  /** True (once) when an update since the last call changed something the config depends on. */
  takeChanged(): boolean {
    const c = this.changed;
    this.changed = false;
    return c;
  }

  onUpdates(updates: readonly BgpUpdate[]): void {
    for (const u of updates) this.onUpdate(u);
  }

  onUpdate(u: BgpUpdate): void {
    const value = typeof u.value === 'string' ? parseJson(u.value) : u.value;
    if (u.key.startsWith(this.affinityPrefix)) return this.onAffinity(u.key, value as BlockAffinityValue | null);
    const parsed = parseResourceKey(u.key);
    if (!parsed) return;
    const res = value as Resource | null;
    const name = parsed.name;
    switch (parsed.plural) {
      case 'nodes':
        return this.set(this.nodes, name, res ? { name, labels: res.metadata?.labels ?? {}, spec: (res.spec ?? {}) as NodeSpec } : null);
      case 'bgpconfigurations':
        return this.set(this.configs, name, res ? ((res.spec ?? {}) as BGPConfigurationSpec) : null);
      case 'bgppeers':
        return this.set(this.peers, name, res ? ((res.spec ?? {}) as BGPPeerSpec) : null);
      case 'bgpfilters':
        return this.set(this.filters, name, res ? ((res.spec ?? {}) as BGPFilterSpec) : null);
      case 'ippools':
        return this.set(this.pools, name, res ? ((res.spec ?? {}) as IPPoolSpec) : null);
      default:
        return;
    }
  }

  private onAffinity(key: string, v: BlockAffinityValue | null): void {
    if (v && typeof v.cidr === 'string' && v.deleted !== true) this.set(this.affinities, key, v);
    else this.set(this.affinities, key, null);
  }

  private set<T>(map: Map<string, T>, key: string, v: T | null): void {
    if (v === null) {
      if (map.delete(key)) this.changed = true;
      return;
    }
    const old = map.get(key);
    if (old !== undefined && JSON.stringify(old) === JSON.stringify(v)) return;
    map.set(key, v);
    this.changed = true;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
