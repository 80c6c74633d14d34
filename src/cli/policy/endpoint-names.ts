import type { Resource } from '../../api/types.js';
import { endpointLabel } from '../../calc/explain.js';
import type { EndpointState } from '../../calc/types.js';

/**
 * The names a user knows endpoints by, for `policy explain --from/--to` and `policy matrix`:
 * `namespace/name` of a WorkloadEndpoint (what `get wep -o wide` shows in NAME), `namespace/workload`
 * (the pod: what `get wep` shows in WORKLOAD), a host endpoint's name, or a bare pod or endpoint
 * name when it is unique. Calico-style endpoint names (`node1-k8s-frontend--7d4b9-eth0`) are long;
 * the workload name is the short label when it names one endpoint of its namespace.
 */
export class EndpointNames {
  private readonly byLabel = new Map<string, EndpointState>();
  /** `ns/workload` → endpoints (a pod with two interfaces has two). */
  private readonly byWorkload = new Map<string, EndpointState[]>();
  private readonly workloadOf = new Map<string, string>();

  constructor(
    private readonly endpoints: EndpointState[],
    workloadEndpoints: Resource[],
  ) {
    for (const ep of endpoints) this.byLabel.set(endpointLabel(ep), ep);
    for (const w of workloadEndpoints) {
      const spec = (w.spec ?? {}) as { workload?: string; pod?: string };
      const workload = spec.pod || spec.workload;
      const ep = this.byLabel.get(`${w.metadata.namespace ?? 'default'}/${w.metadata.name}`);
      if (!workload || !ep) continue;
      const key = `${w.metadata.namespace ?? 'default'}/${workload}`;
      this.workloadOf.set(endpointLabel(ep), key);
      this.byWorkload.set(key, [...(this.byWorkload.get(key) ?? []), ep]);
    }
  }

  /** The short label: `ns/workload` when that workload has this one endpoint, else the full label. */
  short(ep: EndpointState): string {
    const full = endpointLabel(ep);
    const w = this.workloadOf.get(full);
    return w !== undefined && this.byWorkload.get(w)!.length === 1 && (w === full || !this.byLabel.has(w)) ? w : full;
  }

  /**
   * The endpoints a reference names: exactly one when it is unambiguous, several when ambiguous,
   * none when unknown. Endpoint names win over workload names.
   */
  resolve(ref: string): EndpointState[] {
    const exact = this.byLabel.get(ref) ?? this.byLabel.get(ref.replace(/^(wep|hep):/, ''));
    if (exact) return [exact];
    const byWorkload = this.byWorkload.get(ref);
    if (byWorkload) return byWorkload;
    if (ref.includes('/')) return [];
    // a bare name: an endpoint or workload of that name in any namespace
    const bare = this.endpoints.filter((e) => e.name === ref || this.workloadOf.get(endpointLabel(e))?.split('/')[1] === ref);
    return bare;
  }

  /** What to suggest for an unknown reference: endpoints of the same namespace first, at most `max`. */
  candidates(ref: string, max = 8): { shown: string[]; more: number } {
    const ns = ref.includes('/') ? ref.split('/')[0] : undefined;
    const all = this.endpoints.map((e) => ({ e, label: this.short(e) }));
    const near = ns !== undefined ? all.filter(({ e }) => (e.namespace ?? 'default') === ns) : [];
    // names that start like the reference first, then the rest, each alphabetically
    const typed = ref.includes('/') ? ref.slice(ref.indexOf('/') + 1) : ref;
    const rank = (label: string): number => (label.slice(label.indexOf('/') + 1).startsWith(typed) ? 0 : 1);
    const pool = (near.length > 0 ? near : all).map(({ label }) => label).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
    return { shown: pool.slice(0, max), more: Math.max(0, pool.length - max) };
  }

  /** `shop/frontend-7d4b9 (endpoint shop/node1-k8s-frontend--7d4b9-eth0)`, for messages. */
  describe(ep: EndpointState): string {
    const s = this.short(ep);
    const full = endpointLabel(ep);
    return s === full ? full : `${s} (endpoint ${full})`;
  }
}
