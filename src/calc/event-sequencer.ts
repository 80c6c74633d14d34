/**
 * EventSequencer (Felix's `event_sequencer.go`): the graph's output stage. It holds the desired
 * state the other nodes report, remembers what was sent, and on `flush()` sends only the
 * difference, in dependency order:
 *
 *   up:   config → IP sets added → members added/removed → policies, profiles active
 *         → endpoints updated → host IPs, pools → VTEPs added → routes added
 *   down: routes removed → VTEPs removed → pools, host IPs removed → endpoints removed
 *         → policies, profiles inactive → IP sets removed
 *   then: in-sync (once, after `markInSync()`), and `onBatchComplete()` if anything was sent.
 *
 * Several changes to one object between flushes coalesce into one message (or none if it ends
 * where it started). It does NOT compute anything; it only orders and de-duplicates.
 */
import type {
  ActivePolicy, ActiveProfile, DataplaneCallbacks, EndpointState, FelixSettings, HostIpUpdate, IpPoolUpdate, IpSetType, PolicyKey, RouteUpdate,
  VtepUpdate,
} from './types.js';

/** Desired vs sent for one kind of whole-object message. */
class Slot<T> {
  readonly desired = new Map<string, T>();
  readonly sent = new Map<string, string>();
  readonly dirty = new Set<string>();
  set(id: string, v: T | null): void {
    if (v === null) this.desired.delete(id);
    else this.desired.set(id, v);
    this.dirty.add(id);
  }
  /** Sends updates for dirty objects that exist (and changed); returns how many were sent. */
  flushUpdates(send: (v: T) => void): number {
    let n = 0;
    for (const id of this.dirty) {
      const v = this.desired.get(id);
      if (v === undefined) continue;
      const json = JSON.stringify(v);
      if (this.sent.get(id) === json) continue;
      this.sent.set(id, json);
      send(v);
      n++;
    }
    return n;
  }
  /** Sends removals for dirty objects that are gone, then forgets the dirty marks; returns how many. */
  flushRemovals(send: (id: string) => void): number {
    let n = 0;
    for (const id of this.dirty) {
      if (this.desired.has(id) || !this.sent.has(id)) continue;
      this.sent.delete(id);
      send(id);
      n++;
    }
    this.dirty.clear();
    return n;
  }
}

export class EventSequencer {
  private readonly setTypes = new Map<string, IpSetType>();
  private readonly desiredMembers = new Map<string, Set<string>>();
  private readonly sentSets = new Set<string>();
  private readonly sentMembers = new Map<string, Set<string>>();
  private readonly dirtySets = new Set<string>();
  private readonly dirtyMembers = new Map<string, Set<string>>();
  private readonly policies = new Slot<ActivePolicy>();
  private readonly profiles = new Slot<ActiveProfile>();
  private readonly endpoints = new Slot<EndpointState>();
  private readonly vteps = new Slot<VtepUpdate>();
  private readonly routes = new Slot<RouteUpdate>();
  private readonly hostIps = new Slot<HostIpUpdate>();
  private readonly pools = new Slot<IpPoolUpdate>();
  private readonly config = new Slot<FelixSettings>();
  private inSyncPending = false;
  private inSyncSent = false;

  constructor(private readonly dataplane: DataplaneCallbacks) {}

  onIpSetAdded(id: string, type: IpSetType): void {
    this.setTypes.set(id, type);
    if (!this.desiredMembers.has(id)) this.desiredMembers.set(id, new Set());
    this.dirtySets.add(id);
  }
  onIpSetRemoved(id: string): void {
    this.setTypes.delete(id);
    this.desiredMembers.delete(id);
    this.dirtyMembers.delete(id);
    this.dirtySets.add(id);
  }
  onIpSetMemberAdded(id: string, member: string): void {
    let m = this.desiredMembers.get(id);
    if (!m) this.desiredMembers.set(id, (m = new Set()));
    m.add(member);
    this.markMember(id, member);
  }
  onIpSetMemberRemoved(id: string, member: string): void {
    this.desiredMembers.get(id)?.delete(member);
    this.markMember(id, member);
  }
  onPolicyActive(p: ActivePolicy): void { this.policies.set(p.key, p); }
  onPolicyInactive(key: PolicyKey): void { this.policies.set(key, null); }
  onProfileActive(p: ActiveProfile): void { this.profiles.set(p.name, p); }
  onProfileInactive(name: string): void { this.profiles.set(name, null); }
  onEndpointUpdate(e: EndpointState): void { this.endpoints.set(e.id, e); }
  onEndpointRemoved(id: string): void { this.endpoints.set(id, null); }
  onVtepUpdate(v: VtepUpdate): void { this.vteps.set(v.node, v); }
  onVtepRemoved(node: string): void { this.vteps.set(node, null); }
  onRouteUpdate(r: RouteUpdate): void { this.routes.set(r.dst, r); }
  onRouteRemoved(dst: string): void { this.routes.set(dst, null); }
  onHostIpUpdate(h: HostIpUpdate): void { this.hostIps.set(h.node, h); }
  onHostIpRemoved(node: string): void { this.hostIps.set(node, null); }
  onIpPoolUpdate(p: IpPoolUpdate): void { this.pools.set(p.name, p); }
  onIpPoolRemoved(name: string): void { this.pools.set(name, null); }
  /** Settings are never removed: the graph always has some (Calico's defaults at least). */
  onConfigUpdate(c: FelixSettings): void { this.config.set('', c); }
  /** The next flush reports in-sync (once). */
  markInSync(): void {
    if (!this.inSyncSent) this.inSyncPending = true;
  }

  private markMember(id: string, member: string): void {
    let d = this.dirtyMembers.get(id);
    if (!d) this.dirtyMembers.set(id, (d = new Set()));
    d.add(member);
  }

  flush(): void {
    const dp = this.dataplane;
    let sent = this.config.flushUpdates((c) => dp.onConfigUpdate(c));
    this.config.flushRemovals(() => {});
    // Up: new sets with their members, then member deltas of existing sets.
    for (const id of this.dirtySets) {
      const type = this.setTypes.get(id);
      if (type === undefined) continue;
      if (this.sentSets.has(id)) {
        // Removed and re-added between flushes: compare the whole membership.
        for (const m of [...this.sentMembers.get(id)!, ...this.desiredMembers.get(id)!]) this.markMember(id, m);
        continue;
      }
      dp.onIpSetAdded(id, type);
      sent++;
      this.sentSets.add(id);
      const members = new Set<string>();
      this.sentMembers.set(id, members);
      for (const m of this.desiredMembers.get(id) ?? []) {
        members.add(m);
        dp.onIpSetMemberAdded(id, m);
      }
      this.dirtyMembers.delete(id);
    }
    for (const [id, members] of this.dirtyMembers) {
      const desired = this.desiredMembers.get(id);
      const had = this.sentMembers.get(id);
      if (!desired || !had) continue;
      for (const m of members) {
        if (desired.has(m) && !had.has(m)) {
          had.add(m);
          dp.onIpSetMemberAdded(id, m);
          sent++;
        } else if (!desired.has(m) && had.has(m)) {
          had.delete(m);
          dp.onIpSetMemberRemoved(id, m);
          sent++;
        }
      }
    }
    this.dirtyMembers.clear();
    sent += this.policies.flushUpdates((p) => dp.onPolicyActive(p));
    sent += this.profiles.flushUpdates((p) => dp.onProfileActive(p));
    sent += this.endpoints.flushUpdates((e) => dp.onEndpointUpdate(e));
    sent += this.hostIps.flushUpdates((h) => dp.onHostIpUpdate(h));
    sent += this.pools.flushUpdates((p) => dp.onIpPoolUpdate(p));
    sent += this.vteps.flushUpdates((v) => dp.onVtepUpdate(v));
    sent += this.routes.flushUpdates((r) => dp.onRouteUpdate(r));
    // Down: the reverse order.
    sent += this.routes.flushRemovals((dst) => dp.onRouteRemoved(dst));
    sent += this.vteps.flushRemovals((node) => dp.onVtepRemoved(node));
    sent += this.pools.flushRemovals((name) => dp.onIpPoolRemoved(name));
    sent += this.hostIps.flushRemovals((node) => dp.onHostIpRemoved(node));
    sent += this.endpoints.flushRemovals((id) => dp.onEndpointRemoved(id));
    sent += this.policies.flushRemovals((key) => dp.onPolicyInactive(key));
    sent += this.profiles.flushRemovals((name) => dp.onProfileInactive(name));
    for (const id of this.dirtySets) {
      if (this.setTypes.has(id) || !this.sentSets.has(id)) continue;
      this.sentSets.delete(id);
      this.sentMembers.delete(id);
      dp.onIpSetRemoved(id);
      sent++;
    }
    this.dirtySets.clear();
    if (this.inSyncPending) {
      this.inSyncPending = false;
      this.inSyncSent = true;
      dp.onInSync();
      sent++;
    }
    if (sent > 0) dp.onBatchComplete();
  }
}
