/**
 * BgpRouting: the routing component of one node agent (Calico's confd + BIRD supervision).
 *
 *   syncer ──{key,value}──► BgpState ──(changed, in sync)──► buildBirdConfig ──► renderBirdConfig
 *                                                                                     │ text
 *                                                           BirdDriver.apply ◄────────┘
 *
 * BIRD runs only while the node has a peer (and, in `auto` mode, a pool that needs BGP).
 * Nothing reaches BIRD before the syncer reports in-sync (a half-listed datastore would drop
 * sessions). Updates are coalesced: one render per `debounceMs`. A configuration the builder or
 * BIRD refuses is logged and kept in `lastError`; BIRD keeps running the previous one.
 */
import type { Disposable } from '../base/lifecycle.js';
import { BgpState, bgpWatchPrefixes, type BgpSnapshot, type BgpUpdate } from './bgp-state.js';
import { buildBirdConfig } from './config-builder.js';
import type { SecretLookup } from './peer-resolver.js';
import { renderBirdConfig } from './render.js';

export interface BirdApplier {
  apply(text: string): Promise<boolean>;
  stop?(): Promise<void>;
}

export type SyncStatus = 'wait-for-datastore' | 'resync' | 'in-sync';

export interface BgpRoutingOptions {
  hostname: string;
  driver: BirdApplier & Partial<Disposable>;
  secrets?: SecretLookup;
  debounceMs?: number;
  log?: (msg: string) => void;
  /**
   * `always` (default): BIRD runs whenever the node has BGP settings. `auto`: only while some IP
   * pool needs BGP-distributed routes (not every pool is VXLAN); BIRD is stopped otherwise.
   */
  mode?: 'always' | 'auto';
}

export class BgpRouting implements Disposable {
  readonly state: BgpState;
  readonly prefixes: string[];
  private inSync = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private disposed = false;
  lastError: Error | undefined;
  /** The last text handed to the driver. */
  lastConfig: string | undefined;
  renders = 0;

  constructor(private readonly opts: BgpRoutingOptions) {
    this.state = new BgpState(opts.hostname);
    this.prefixes = bgpWatchPrefixes(opts.hostname);
  }

  onUpdates(updates: readonly BgpUpdate[]): void {
    this.state.onUpdates(updates);
    this.schedule();
  }

  onStatus(status: SyncStatus): void {
    if (status === 'in-sync' && !this.inSync) {
      this.inSync = true;
      this.state.takeChanged();
      void this.flush();
    }
  }

  private schedule(): void {
    if (!this.inSync || this.disposed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.opts.debounceMs ?? 10);
  }

  /** Renders and applies now if anything changed (or nothing was applied yet). Never rejects. */
  flush(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        if (this.disposed) break;
        const changed = this.state.takeChanged();
        if (!changed && this.lastConfig !== undefined && !this.lastError) continue;
        await this.renderAndApply();
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async renderAndApply(): Promise<void> {
    try {
      if (this.opts.mode === 'auto' && !needsBgp(this.state)) {
        if (this.lastConfig !== undefined || this.renders === 0) this.opts.log?.('every IP pool is VXLAN: BIRD not needed');
        await this.opts.driver.stop?.();
        this.lastConfig = '';
        this.lastError = undefined;
        this.renders++;
        return;
      }
      const cfg = buildBirdConfig(this.state, this.opts.hostname, { secrets: this.opts.secrets });
      if (!cfg) {
        this.opts.log?.(`node ${this.opts.hostname} has no BGP settings (spec.bgp): BIRD not configured`);
        return;
      }
      if (cfg.peers.length === 0) {
        // Nothing to speak to (a single node): no BIRD until a peer appears.
        await this.opts.driver.stop?.();
        this.lastConfig = '';
        this.lastError = undefined;
        return;
      }
      const text = renderBirdConfig(cfg);
      this.renders++;
      if (await this.opts.driver.apply(text)) this.opts.log?.(`bird.cfg applied (${cfg.peers.length} peers)`);
      this.lastConfig = text;
      this.lastError = undefined;
    } catch (err) {
      this.lastError = err instanceof Error ? err : new Error(String(err));
      this.opts.log?.(this.lastError.message);
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.opts.driver.dispose?.();
  }
}

/** Some pool routes without VXLAN (or there are no pools yet): BGP has something to carry. */
export function needsBgp(state: BgpSnapshot): boolean {
  const pools = [...state.pools.values()];
  return pools.length === 0 || pools.some((p) => (p.vxlanMode ?? 'Never') === 'Never');
}
