/**
 * The node agent's wiring — the one place where its parts are connected:
 *
 *   datastore ─► Syncer (resources, IPAM blocks) ─ updates ─► CalculationGraph(node) ─ calc callbacks, batches ─► DataplaneDriver
 *                 └─ status ─► metrics, readiness; in-sync ─► graph.onInSync() ─► first apply
 *   DataplaneDriver ─ managers (static, ip sets, policies, endpoints, routes, + extra) ─► nft -f, ip
 *   StatusServer (unix socket: livez, readyz, counters) + metrics on 127.0.0.1:<port>
 *   RoutingComponents (routing-components.ts): VXLAN manager into the driver; BIRD fed by its own syncer
 *
 * Fail static: when the datastore goes away the syncer reports wait-for-datastore and nothing in
 * the kernel changes; when it comes back it re-lists and only differences are applied.
 * Extra dataplane managers (VXLAN, BGP routes) are passed in `extraManagers`.
 */
import type { Clock } from '../base/clock.js';
import type { Exec } from '../base/exec.js';
import { DisposableStore } from '../base/lifecycle.js';
import { RESOURCE_KEY_ROOT } from '../api/kinds.js';
import { CalculationGraph, IPAM_BLOCK_PREFIX, type Update } from '../calc/graph.js';
import type { Datastore } from '../datastore/datastore.js';
import { ResourceClient } from '../datastore/resource-client.js';
import { DataplaneDriver } from '../dataplane/driver.js';
import type { DataplaneManager } from '../dataplane/managers/manager.js';
import type { NftClient } from '../dataplane/nftables/client.js';
import { RouteTable } from '../dataplane/routes/route-table.js';
import type { SysctlWriter } from '../dataplane/routes/sysctl.js';
import type { AgentFlags } from './config.js';
import { Syncer, type SyncStatus, type SyncUpdate } from '../datastore/syncer.js';
import type { Logger } from './logger.js';
import { AgentMetrics } from './metrics.js';
import { ensureNode } from './node-registration.js';
import { RoutingComponents } from './routing-components.js';
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
  readonly routing: RoutingComponents;
  private readonly graph: CalculationGraph;
  private readonly metrics: AgentMetrics;
  private readonly syncer: Syncer<Update['value']>;
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
    this.routing = new RoutingComponents({ node: flags.node, runDir: flags.runDir, mode: flags.routing ?? 'auto', ...(flags.bgpSecretsDir ? { secretsDir: flags.bgpSecretsDir } : {}), datastore: deps.datastore, exec: deps.exec, log });
    for (const m of [...this.routing.managers, ...(deps.extraManagers ?? [])]) this.driver.addManager(m);
    this.metrics = new AgentMetrics(() => this.driver.stats());
    this.graph = new CalculationGraph({ hostname: flags.node }, this.driver);
    // Resources and IPAM blocks (routes); not IPAM handles and affinities, which the graph ignores.
    this.syncer = new Syncer<Update['value']>(deps.datastore, {
      onUpdates: (u) => this.onUpdates(u),
      onStatus: (s, cause) => this.onStatus(s, cause),
    }, { prefixes: [RESOURCE_KEY_ROOT, IPAM_BLOCK_PREFIX], clock });
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
    this.store.add(this.syncer);
    this.syncer.start();
    this.store.add(this.routing);
    this.routing.start();
    log.info('agent started', { node: flags.node, datastore: this.deps.datastore.url, runDir: flags.runDir, metricsPort: flags.metricsPort });
  }

  private onStatus(s: SyncStatus, cause?: Error): void {
    if (s !== this.status) this.deps.log.info('datastore status', { status: s, ...(cause ? { cause: cause.message } : {}) });
    this.status = s;
    this.metrics.onDatastoreStatus(s);
    if (s === 'in-sync') this.graph.onInSync();
  }

  private onUpdates(updates: readonly SyncUpdate<Update['value']>[]): void {
    this.graph.onUpdates(updates.map((u) => ({ key: u.key, value: u.value })));
    // One calc batch per turn of the event loop: bursts of watch events coalesce into one apply
    // (the graph ends the batch with onBatchComplete when the flush sent something).
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.graph.flush();
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
