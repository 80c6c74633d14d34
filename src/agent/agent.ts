/**
 * The node agent's wiring — the one place where its parts are connected:
 *
 *   datastore ─► DatastoreFeed ─ updates ─┬─► CalculationGraph(node) ─ calc callbacks ─► DataplaneDriver
 *                 │                        └─► settings (FelixConfiguration) and pools ─► driver.statics
 *                 └─ status ─► metrics, readiness; in-sync ─► graph.onInSync() ─► first apply
 *   DataplaneDriver ─ managers (static, ip sets, policies, endpoints, routes, + extra) ─► nft -f, ip
 *   StatusServer (unix socket: livez, readyz, counters) + metrics on 127.0.0.1:<port>
 *
 * Fail static: when the datastore goes away the feed reports wait-for-datastore and nothing in the
 * kernel changes; when it comes back the feed re-lists and only differences are applied.
 * Extra dataplane managers (VXLAN, BGP routes) are passed in `extraManagers`.
 */
import type { Clock } from '../base/clock.js';
import type { Exec } from '../base/exec.js';
import { DisposableStore } from '../base/lifecycle.js';
import { parseResourceKey } from '../api/kinds.js';
import type { Resource } from '../api/types.js';
import { CalculationGraph, type Update } from '../calc/graph.js';
import type { Datastore } from '../datastore/datastore.js';
import { ResourceClient } from '../datastore/resource-client.js';
import { DataplaneDriver } from '../dataplane/driver.js';
import type { DataplaneManager } from '../dataplane/managers/manager.js';
import type { NftClient } from '../dataplane/nftables/client.js';
import { RouteTable } from '../dataplane/routes/route-table.js';
import type { SysctlWriter } from '../dataplane/routes/sysctl.js';
import { staticSettingsFrom, type AgentFlags } from './config.js';
import { DatastoreFeed, type SyncStatus } from './datastore-feed.js';
import type { Logger } from './logger.js';
import { AgentMetrics } from './metrics.js';
import { ensureNode } from './node-registration.js';
import { startStatusServer } from './status-server.js';

export interface AgentDeps {
  flags: AgentFlags;
  datastore: Datastore;
  exec: Exec;
  nft: NftClient;
  sysctl: SysctlWriter;
  clock: Clock;
  log: Logger;
  extraManagers?: DataplaneManager[];
}

export class Agent {
  private readonly store = new DisposableStore();
  readonly driver: DataplaneDriver;
  private readonly graph: CalculationGraph;
  private readonly metrics: AgentMetrics;
  private readonly feed: DatastoreFeed;
  private readonly felixConfigs = new Map<string, Record<string, unknown>>();
  private status: SyncStatus = 'wait-for-datastore';
  private ready = false;
  private flushScheduled = false;

  constructor(private readonly deps: AgentDeps) {
    const { flags, log, clock } = deps;
    this.driver = new DataplaneDriver({
      nft: deps.nft, clock, log: log.child({ component: 'dataplane' }), resyncIntervalMs: flags.resyncIntervalMs,
      routes: new RouteTable(deps.exec, deps.sysctl, log.child({ component: 'routes' })),
      observer: { onApply: (r) => this.metrics.onApply(r), onDrift: () => this.metrics.onDrift() },
      onFirstApply: () => {
        this.ready = true;
      },
    });
    for (const m of deps.extraManagers ?? []) this.driver.addManager(m);
    this.metrics = new AgentMetrics(() => this.driver.stats());
    this.graph = new CalculationGraph({ hostname: flags.node }, this.driver);
    this.feed = new DatastoreFeed(deps.datastore, clock, {
      onUpdates: (u) => this.onUpdates(u),
      onStatus: (s, cause) => this.onStatus(s, cause),
    });
  }

  async start(): Promise<void> {
    const { flags, log } = this.deps;
    const created = await ensureNode(new ResourceClient(this.deps.datastore), this.deps.exec, flags.node, flags).catch((err: Error) => {
      log.warn('cannot register the Node resource (will run without)', { error: err.message });
      return 'failed';
    });
    log.info('node resource', { node: flags.node, result: created });
    this.store.add(this.driver);
    this.store.add(await startStatusServer({
      live: () => true,
      ready: () => (this.ready ? { ready: true, reason: 'ready' } : { ready: false, reason: `not ready: datastore ${this.status}, dataplane not programmed yet` }),
      counters: () => this.driver.counters(flags.node),
      status: () => ({ node: flags.node, datastore: this.status, ready: this.ready, ...this.driver.stats() }),
      metrics: async () => ({ contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() }),
    }, `${flags.runDir}/agent.sock`, flags.metricsPort));
    this.store.add(this.feed);
    this.feed.start();
    log.info('agent started', { node: flags.node, datastore: this.deps.datastore.url, runDir: flags.runDir, metricsPort: flags.metricsPort });
  }

  private onStatus(s: SyncStatus, cause?: Error): void {
    if (s !== this.status) this.deps.log.info('datastore status', { status: s, ...(cause ? { cause: cause.message } : {}) });
    this.status = s;
    this.metrics.onDatastoreStatus(s);
    if (s === 'in-sync') this.graph.onInSync();
  }

  private onUpdates(updates: readonly Update[]): void {
    let settingsChanged = false;
    for (const u of updates) {
      const k = parseResourceKey(u.key);
      if (k?.plural === 'felixconfigurations') {
        const spec = (u.value as Resource | null)?.spec as Record<string, unknown> | undefined;
        if (spec) this.felixConfigs.set(k.name, spec);
        else this.felixConfigs.delete(k.name);
        settingsChanged = true;
      } else if (k?.plural === 'ippools') {
        const spec = (u.value as Resource | null)?.spec as { cidr?: string; natOutgoing?: boolean; disabled?: boolean } | undefined;
        this.driver.statics.onPoolUpdate(k.name, spec?.cidr ? { cidr: spec.cidr, natOutgoing: !!spec.natOutgoing, disabled: !!spec.disabled } : null);
      }
    }
    if (settingsChanged) this.driver.statics.onSettings(staticSettingsFrom([this.felixConfigs.get('default'), this.felixConfigs.get(`node.${this.deps.flags.node}`)]));
    this.graph.onUpdates([...updates]);
    // One batch per turn of the event loop: bursts of watch events coalesce into one apply.
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.graph.flush();
        this.driver.onBatchComplete();
      });
    }
  }

  isReady(): boolean {
    return this.ready;
  }

  async stop(): Promise<void> {
    await this.store.dispose();
  }
}
