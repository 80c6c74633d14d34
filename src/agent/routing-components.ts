/**
 * The agent's routing between nodes (`--routing auto|bgp|vxlan|none`):
 *
 *   calc ─ VtepUpdate/RouteUpdate ─► VxlanManager (a dataplane manager) ─► VxlanApplier ─► ip, bridge
 *   datastore ─► Syncer (Node, BGP kinds, IPPool, own affinities) ─► BgpRouting ─► BirdDriver ─► BIRD
 *                                                                   NodeStatusReporter ◄─ bird.ctl
 *   start: the node's VXLAN tunnel address (IPAM, when a VXLAN pool exists), again on pool changes
 *
 *   auto   BIRD while some pool is not VXLAN (as the pools say); VXLAN manager always
 *   bgp    BIRD always; VXLAN manager always (VXLAN pools keep working)
 *   vxlan  no BIRD; the VXLAN manager also programs plain routes for pools without encapsulation
 *   none   neither (routes come from elsewhere)
 * BIRD's files live in the run directory (`bird.cfg`, `bird.ctl`, `bird.log`). On agent stop BIRD
 * is killed without a goodbye, so its routes stay in force here and at its peers (fail static).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Exec } from '../base/exec.js';
import type { Disposable } from '../base/lifecycle.js';
import { kindInfo, resourcePrefix } from '../api/kinds.js';
import type { Datastore } from '../datastore/datastore.js';
import { Syncer } from '../datastore/syncer.js';
import { VxlanApplier } from '../dataplane/apply/vxlan-applier.js';
import type { DataplaneManager } from '../dataplane/managers/manager.js';
import { VxlanManager } from '../dataplane/managers/vxlan-manager.js';
import { ensureVxlanTunnelAddress } from '../ipam/tunnel-address.js';
import { BgpRouting } from '../routing/bgp-routing.js';
import { BirdDriver } from '../routing/bird-driver.js';
import { BirdSocketClient } from '../routing/bird-socket.js';
import { NodeStatusReporter } from '../routing/node-status-reporter.js';
import type { Logger } from './logger.js';

export const DEFAULT_SECRETS_DIR = '/etc/brindle/secrets';

export type RoutingMode = 'auto' | 'bgp' | 'vxlan' | 'none';
export const ROUTING_MODES: readonly RoutingMode[] = ['auto', 'bgp', 'vxlan', 'none'];

export interface RoutingDeps {
  node: string;
  runDir: string;
  mode: RoutingMode;
  datastore: Datastore;
  exec: Exec;
  log: Logger;
  /** BGP passwords: the secret `name`/`key` is the file `<secretsDir>/<name>/<key>` (as a mounted Kubernetes secret). */
  secretsDir?: string;
}

export class RoutingComponents implements Disposable {
  readonly managers: DataplaneManager[] = [];
  readonly bgp: BgpRouting | undefined;
  private readonly syncer: Syncer | undefined;
  private readonly reporter: NodeStatusReporter | undefined;
  private tunnelRun: Promise<void> = Promise.resolve();
  private readonly poolPrefix = resourcePrefix(kindInfo('IPPool')!);

  constructor(private readonly deps: RoutingDeps) {
    const log = deps.log.child({ component: 'routing' });
    if (deps.mode === 'none') return;
    this.managers.push(new VxlanManager({ hostname: deps.node, programNoEncapRoutes: deps.mode === 'vxlan', applier: new VxlanApplier(deps.exec) }));
    if (deps.mode === 'vxlan') return;
    const driver = new BirdDriver({ runDir: deps.runDir, exec: deps.exec, stopMode: 'keep-routes', log: (m) => log.info(m) });
    const secretsDir = deps.secretsDir ?? DEFAULT_SECRETS_DIR;
    const secrets = (name: string, key: string): string | undefined => {
      try {
        return readFileSync(join(secretsDir, name, key), 'utf8').replace(/\n$/, '');
      } catch {
        return undefined;
      }
    };
    const bgp = new BgpRouting({ hostname: deps.node, driver, secrets, mode: deps.mode === 'auto' ? 'auto' : 'always', log: (m) => log.info(m) });
    this.bgp = bgp;
    this.syncer = new Syncer(deps.datastore, {
      onUpdates: (u) => {
        bgp.onUpdates(u);
        if (u.some((x) => x.key.startsWith(this.poolPrefix))) this.ensureTunnelAddress();
      },
      onStatus: (s) => bgp.onStatus(s),
    }, { prefixes: bgp.prefixes });
    this.reporter = new NodeStatusReporter({ ds: deps.datastore, hostname: deps.node, bird: new BirdSocketClient(driver.paths.socket), log: (m) => log.warn(m) });
  }

  start(): void {
    this.ensureTunnelAddress();
    this.syncer?.start();
    this.reporter?.start(1000);
  }

  /** One run at a time; pool changes while one runs queue another. */
  private ensureTunnelAddress(): void {
    if (this.deps.mode === 'none') return;
    this.tunnelRun = this.tunnelRun.then(async () => {
      try {
        const r = await ensureVxlanTunnelAddress(this.deps.datastore, this.deps.node);
        if (r.action !== 'kept' && r.action !== 'none') this.deps.log.info('VXLAN tunnel address', { action: r.action, address: r.address });
      } catch (err) {
        this.deps.log.warn('cannot set the VXLAN tunnel address', { error: err instanceof Error ? err.message : String(err) });
      }
    });
  }

  async dispose(): Promise<void> {
    this.reporter?.dispose();
    this.syncer?.dispose();
    await this.tunnelRun;
    await this.bgp?.dispose();
  }
}
