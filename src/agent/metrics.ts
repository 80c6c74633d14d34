/**
 * Prometheus metrics of the agent (prom-client, its own registry): apply latency, apply errors,
 * drift repairs, datastore status, and gauges of what is programmed.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ApplyObserver } from '../dataplane/driver.js';
import type { SyncStatus } from '../datastore/syncer.js';

export class AgentMetrics implements ApplyObserver {
  readonly registry = new Registry();
  private readonly applySeconds = new Histogram({ name: 'brindle_dataplane_apply_seconds', help: 'Time of one dataplane apply pass (all managers + nft transaction)', buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5], registers: [this.registry] });
  private readonly nftSeconds = new Histogram({ name: 'brindle_nft_transaction_seconds', help: 'Time of one nft -f transaction', buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5], registers: [this.registry] });
  private readonly applyErrors = new Counter({ name: 'brindle_dataplane_apply_errors_total', help: 'Failed dataplane apply passes', registers: [this.registry] });
  private readonly drift = new Counter({ name: 'brindle_dataplane_drift_repairs_total', help: 'Kernel read-backs that found and repaired drift', registers: [this.registry] });
  private readonly datastore = new Gauge({ name: 'brindle_datastore_status', help: 'Datastore sync status (1 for the current one)', labelNames: ['status'], registers: [this.registry] });
  readonly gauges: Record<'endpoints' | 'policies' | 'profiles' | 'ipsets' | 'chains' | 'rules' | 'sets', Gauge>;

  constructor(stats: () => Record<string, number>) {
    const g = (name: string, help: string, stat: string) =>
      new Gauge({ name, help, registers: [this.registry], collect() { this.set(stats()[stat] ?? 0); } });
    this.gauges = {
      endpoints: g('brindle_endpoints', 'Local endpoints programmed', 'endpoints'),
      policies: g('brindle_policies', 'Active policies', 'policies'),
      profiles: g('brindle_profiles', 'Active profiles', 'profiles'),
      ipsets: g('brindle_ip_sets', 'Active IP sets (calc)', 'ipSets'),
      chains: g('brindle_nft_chains', 'Chains in the brindle table', 'chains'),
      rules: g('brindle_nft_rules', 'Rules in the brindle table', 'rules'),
      sets: g('brindle_nft_sets', 'Sets and maps in the brindle table', 'sets'),
    };
    collectDefaultMetrics({ register: this.registry, prefix: 'brindle_agent_' });
  }

  onApply(r: { ok: boolean; durationMs: number; nftMs: number }): void {
    this.applySeconds.observe(r.durationMs / 1000);
    if (r.nftMs > 0) this.nftSeconds.observe(r.nftMs / 1000);
    if (!r.ok) this.applyErrors.inc();
  }

  onDrift(): void {
    this.drift.inc();
  }

  onDatastoreStatus(s: SyncStatus): void {
    for (const k of ['wait-for-datastore', 'resync', 'in-sync']) this.datastore.set({ status: k }, k === s ? 1 : 0);
  }
}
