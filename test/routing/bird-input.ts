import { kindInfo, resourceKey } from '../../src/api/kinds.js';
import type { Resource } from '../../src/api/types.js';
import { affinityKey } from '../../src/ipam/keys.js';
import { BgpState } from '../../src/routing/bgp-state.js';

/** A golden case: the node whose bird.cfg is rendered and what the datastore holds. */
export interface GoldenInput {
  node: string;
  resources: Resource[];
  affinities?: { node?: string; cidr: string; state?: 'confirmed' | 'pending' | 'pendingDeletion' }[];
  secrets?: Record<string, string>;
}

/** Feeds the input through BgpState as a syncer would: `{key, value}` updates with JSON text values. */
export function stateFromInput(input: GoldenInput): BgpState {
  const state = new BgpState(input.node);
  for (const r of input.resources) {
    state.onUpdate({ key: resourceKey(kindInfo(r.kind)!, r.metadata.name), value: JSON.stringify(r) });
  }
  for (const a of input.affinities ?? []) {
    const node = a.node ?? input.node;
    state.onUpdate({ key: affinityKey(node, a.cidr), value: JSON.stringify({ state: a.state ?? 'confirmed', node, type: 'host', cidr: a.cidr, deleted: false }) });
  }
  return state;
}
