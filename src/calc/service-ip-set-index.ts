/**
 * ServiceIpSetIndex: the members of service IP sets (the sets behind Calico's `services` rule
 * match) from Kubernetes EndpointSlices, which the kube controllers store as
 * `KubernetesEndpointSlice`. A source set holds the service's endpoint addresses; a destination
 * set holds `addr,proto:port` for every endpoint address and port of the service (the traffic
 * after the service address is translated to an endpoint). Members are reported added on their
 * first contributing slice and removed with their last, like IpSetMemberIndex.
 *
 * It does NOT decide which sets are active (RuleScanner does) or look at labels.
 */
import type { EndpointSliceModel, IpSetData } from './model.js';

export interface ServiceIpSetCallbacks {
  onMemberAdded(setId: string, member: string): void;
  onMemberRemoved(setId: string, member: string): void;
}

export class ServiceIpSetIndex {
  private readonly slices = new Map<string, EndpointSliceModel>();
  private readonly slicesByService = new Map<string, Set<string>>();
  private readonly sets = new Map<string, IpSetData>();
  private readonly setsByService = new Map<string, Set<string>>();
  /** set → member → contributing slice count. */
  private readonly counts = new Map<string, Map<string, number>>();

  constructor(private readonly callbacks: ServiceIpSetCallbacks) {}

  onIpSetActive(set: IpSetData): void {
    if (!set.service || this.sets.has(set.id)) return;
    this.sets.set(set.id, set);
    add(this.setsByService, set.service, set.id);
    this.counts.set(set.id, new Map());
    for (const sliceId of this.slicesByService.get(set.service) ?? []) this.contribute(set, this.slices.get(sliceId)!, +1);
  }

  onIpSetInactive(set: IpSetData): void {
    if (!this.sets.delete(set.id)) return;
    this.setsByService.get(set.service!)?.delete(set.id);
    this.counts.delete(set.id);
  }

  onSliceUpdate(slice: EndpointSliceModel): void {
    this.onSliceRemoved(slice.id);
    this.slices.set(slice.id, slice);
    add(this.slicesByService, slice.service, slice.id);
    for (const setId of this.setsByService.get(slice.service) ?? []) this.contribute(this.sets.get(setId)!, slice, +1);
  }

  onSliceRemoved(id: string): void {
    const old = this.slices.get(id);
    if (!old) return;
    for (const setId of this.setsByService.get(old.service) ?? []) this.contribute(this.sets.get(setId)!, old, -1);
    this.slices.delete(id);
    this.slicesByService.get(old.service)?.delete(id);
  }

  private contribute(set: IpSetData, slice: EndpointSliceModel, delta: 1 | -1): void {
    const counts = this.counts.get(set.id)!;
    for (const m of membersOf(set, slice)) {
      const n = (counts.get(m) ?? 0) + delta;
      if (n > 0) counts.set(m, n);
      else counts.delete(m);
      if (delta > 0 && n === 1) this.callbacks.onMemberAdded(set.id, m);
      if (delta < 0 && n === 0) this.callbacks.onMemberRemoved(set.id, m);
    }
  }
}

function membersOf(set: IpSetData, slice: EndpointSliceModel): string[] {
  if (!set.servicePorts) return [...new Set(slice.addresses)];
  const out = new Set<string>();
  for (const a of slice.addresses) {
    const addr = a.split('/')[0]!;
    for (const p of slice.ports) out.add(`${addr},${p.protocol}:${p.port}`);
  }
  return [...out];
}

function add(m: Map<string, Set<string>>, k: string, v: string): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}
