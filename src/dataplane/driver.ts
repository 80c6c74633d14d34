/**
 * The dataplane driver: receives the calculation output, fans it out to the managers (which only
 * record desired state), and once per batch runs one apply pass: every manager's
 * `completeDeferredWork()`, one atomic nftables transaction holding only the differences, then the
 * managers' own kernel work (routes). Bursts coalesce: while a pass runs, later batches wait and
 * are applied together. Nothing touches the kernel before the calculation is in sync; the first
 * pass reads the kernel's table back and adopts it (a restarted agent changes only what differs,
 * with no gap in enforcement). A periodic resync reads the kernel back and repairs drift. A failed
 * pass re-reads the kernel and retries with back-off; the last programmed state stays in force.
 *
 *   calc callbacks ─► managers (static → ip sets → policies → endpoints → routes …, one list)
 *   apply pass:      completeDeferredWork() each ─► TableReconciler.build() ─► nft -f (one tx)
 *                    ─► committed() ─► manager.apply() each (routes…)
 */
import type { Clock } from '../base/clock.js';
import type { Disposable } from '../base/lifecycle.js';
import type {
  ActivePolicy, ActiveProfile, DataplaneCallbacks, EndpointState, FelixSettings, HostIpUpdate, IpPoolUpdate, IpSetType, PolicyKey, RouteUpdate, VtepUpdate,
} from '../calc/types.js';
import { EndpointManager } from './managers/endpoint-manager.js';
import { IpSetManager } from './managers/ip-set-manager.js';
import type { DataplaneManager, ManagerCallbacks } from './managers/manager.js';
import { PolicyManager } from './managers/policy-manager.js';
import { RouteManager } from './managers/route-manager.js';
import { StaticManager } from './managers/static-manager.js';
import type { NftClient } from './nftables/client.js';
import { TableReconciler } from './nftables/table-reconciler.js';
import type { RouteTable } from './routes/route-table.js';
import { collectCounters, type CountersReport } from './counters.js';

export interface DriverLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface ApplyObserver {
  onApply(result: { ok: boolean; durationMs: number; nftMs: number; ops: number; error?: Error }): void;
  onDrift(found: string[]): void;
}

export interface DriverOptions {
  nft: NftClient;
  routes?: RouteTable;
  clock: Clock;
  log: DriverLogger;
  observer?: ApplyObserver;
  /** Kernel read-back period (ms); 0 disables. */
  resyncIntervalMs?: number;
  /** Called after the first successful apply following in-sync (readiness). */
  onFirstApply?: () => void;
}

type CallbackName = keyof ManagerCallbacks;

export class DataplaneDriver implements DataplaneCallbacks, Disposable {
  readonly table = new TableReconciler();
  readonly ipSets: IpSetManager;
  readonly policies: PolicyManager;
  readonly endpoints: EndpointManager;
  readonly statics: StaticManager;
  /** Every manager, in the order their deferred work runs (IP sets before the rules using them). */
  private readonly managers: DataplaneManager[] = [];
  private inSync = false;
  private applying: Promise<void> | undefined;
  private running = false;
  private again = false;
  private adopted = false;
  private failures = 0;
  private retryTimer: ReturnType<Clock['setTimeout']> | undefined;
  private resyncTimer: ReturnType<Clock['setTimeout']> | undefined;
  private disposed = false;
  /** Counts apply passes, so a read-back that overlapped one is not mistaken for drift. */
  private generation = 0;
  firstApplyDone = false;

  constructor(private readonly opts: DriverOptions) {
    this.ipSets = new IpSetManager(this.table, (id) => this.policies.onSetRenamed(id));
    this.policies = new PolicyManager(this.table, this.ipSets);
    this.endpoints = new EndpointManager(this.table);
    this.statics = new StaticManager(this.table);
    this.managers.push(this.statics, this.ipSets, this.policies, this.endpoints);
    if (opts.routes) this.managers.push(new RouteManager(opts.routes));
  }

  /** Plugs in another manager (VXLAN, BGP…); it gets the callbacks it implements and runs last. */
  addManager(m: DataplaneManager): void {
    this.managers.push(m);
  }

  private fan<K extends CallbackName>(name: K, ...args: Parameters<NonNullable<ManagerCallbacks[K]>>): void {
    for (const m of this.managers) {
      const f = m[name] as ((...a: unknown[]) => void) | undefined;
      if (f) f.apply(m, args);
    }
  }

  onConfigUpdate(s: FelixSettings): void { this.fan('onConfigUpdate', s); }
  onIpSetAdded(id: string, type: IpSetType): void { this.fan('onIpSetAdded', id, type); }
  onIpSetMemberAdded(id: string, member: string): void { this.fan('onIpSetMemberAdded', id, member); }
  onIpSetMemberRemoved(id: string, member: string): void { this.fan('onIpSetMemberRemoved', id, member); }
  onIpSetRemoved(id: string): void { this.fan('onIpSetRemoved', id); }
  onPolicyActive(p: ActivePolicy): void { this.fan('onPolicyActive', p); }
  onPolicyInactive(key: PolicyKey): void { this.fan('onPolicyInactive', key); }
  onProfileActive(p: ActiveProfile): void { this.fan('onProfileActive', p); }
  onProfileInactive(name: string): void { this.fan('onProfileInactive', name); }
  onEndpointUpdate(e: EndpointState): void { this.fan('onEndpointUpdate', e); }
  onEndpointRemoved(id: string): void { this.fan('onEndpointRemoved', id); }
  onHostIpUpdate(h: HostIpUpdate): void { this.fan('onHostIpUpdate', h); }
  onHostIpRemoved(node: string): void { this.fan('onHostIpRemoved', node); }
  onIpPoolUpdate(p: IpPoolUpdate): void { this.fan('onIpPoolUpdate', p); }
  onIpPoolRemoved(name: string): void { this.fan('onIpPoolRemoved', name); }
  onRouteUpdate(r: RouteUpdate): void { this.fan('onRouteUpdate', r); }
  onRouteRemoved(dst: string): void { this.fan('onRouteRemoved', dst); }
  onVtepUpdate(v: VtepUpdate): void { this.fan('onVtepUpdate', v); }
  onVtepRemoved(node: string): void { this.fan('onVtepRemoved', node); }

  onInSync(): void {
    this.inSync = true;
    this.scheduleApply();
    this.scheduleResync();
  }

  /** End of one calculation batch: apply it (coalesced with any batch already waiting). */
  onBatchComplete(): void {
    if (this.inSync) this.scheduleApply();
  }

  /** Resolves when every batch received so far is applied (or has failed once). */
  async flushed(): Promise<void> {
    while (this.applying) await this.applying;
  }

  private scheduleApply(): void {
    if (this.disposed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    // Marked running before any of the pass runs: a callback arriving synchronously from inside
    // the pass must queue behind it, never start a second pass.
    this.running = true;
    this.applying = (async () => {
      try {
        await this.applyLoop();
      } finally {
        this.running = false;
        this.applying = undefined;
      }
    })();
  }

  private async applyLoop(): Promise<void> {
    do {
      this.again = false;
      await this.applyOnce();
    } while (this.again && !this.disposed);
  }

  private async applyOnce(): Promise<void> {
    this.generation++;
    const start = this.opts.clock.now();
    let nftMs = 0;
    let ops = 0;
    try {
      for (const m of this.managers) m.completeDeferredWork();
      if (!this.adopted) {
        // First pass: adopt what a previous run left in the kernel instead of rebuilding it.
        const listing = await this.opts.nft.list();
        this.table.resync(listing?.table ?? null);
        this.adopted = true;
      }
      const tx = this.table.build();
      ops = tx.ops.length;
      if (!tx.isEmpty) {
        const t0 = this.opts.clock.now();
        await this.opts.nft.run(tx);
        nftMs = this.opts.clock.now() - t0;
      }
      this.table.committed();
      for (const m of this.managers) if (m.apply) await m.apply();
      this.failures = 0;
      this.opts.observer?.onApply({ ok: true, durationMs: this.opts.clock.now() - start, nftMs, ops });
      if (!this.firstApplyDone) {
        this.firstApplyDone = true;
        this.opts.log.info('dataplane programmed (first in-sync apply)', { ops, ms: Math.round(this.opts.clock.now() - start) });
        this.opts.onFirstApply?.();
      }
    } catch (err) {
      const e = err as Error;
      this.table.failed();
      this.failures++;
      this.opts.observer?.onApply({ ok: false, durationMs: this.opts.clock.now() - start, nftMs, ops, error: e });
      this.opts.log.error('dataplane apply failed; previous state stays in force, retrying', { error: e.message, failures: this.failures });
      this.adopted = false; // re-read the kernel before the next attempt
      const delay = Math.min(30_000, 100 * 2 ** Math.min(this.failures, 8));
      this.retryTimer = this.opts.clock.setTimeout(() => this.scheduleApply(), delay);
    }
  }

  private scheduleResync(): void {
    const every = this.opts.resyncIntervalMs ?? 10_000;
    if (every <= 0 || this.disposed || this.resyncTimer) return;
    this.resyncTimer = this.opts.clock.setTimeout(() => {
      this.resyncTimer = undefined;
      void this.resync().finally(() => this.scheduleResync());
    }, every);
  }

  /** Reads the kernel back and repairs any drift (also run periodically). Returns what differed. */
  async resync(): Promise<string[]> {
    if (!this.inSync || this.disposed) return [];
    await this.flushed();
    let found: string[] = [];
    try {
      const gen = this.generation;
      const listing = await this.opts.nft.list();
      if (gen !== this.generation || this.running) return []; // an apply overlapped the read: next time
      found = listing ? this.table.drift(listing.table) : ['table missing'];
      if (found.length) {
        this.opts.log.warn('nftables drift found; repairing', { differences: found.slice(0, 10), count: found.length });
        this.opts.observer?.onDrift(found);
        this.table.resync(listing?.table ?? null);
        this.adopted = true;
        this.scheduleApply();
      }
      for (const m of this.managers) if (m.resync) await m.resync();
    } catch (err) {
      this.opts.log.warn('kernel read-back failed', { error: (err as Error).message });
    }
    await this.flushed();
    return found;
  }

  async counters(node: string): Promise<CountersReport> {
    const listing = await this.opts.nft.list();
    return collectCounters(node, this.table.desired, listing?.counters ?? []);
  }

  stats(): { endpoints: number; policies: number; profiles: number; ipSets: number; chains: number; rules: number; sets: number } {
    let rules = 0;
    for (const c of this.table.desired.chains.values()) rules += c.rules.length;
    return {
      endpoints: this.endpoints.count, policies: this.policies.policyCount, profiles: this.policies.profileCount, ipSets: this.ipSets.count,
      chains: this.table.desired.chains.size, rules, sets: this.table.desired.sets.size,
    };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    void this.retryTimer?.dispose();
    void this.resyncTimer?.dispose();
    await this.flushed();
  }
}
