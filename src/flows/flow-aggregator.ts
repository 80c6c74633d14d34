import { flowKey, type FlowRecord } from './flow-record.js';

/**
 * Sums flow records per key (node, 5-tuple, direction, verdict, deciding rule) over an interval:
 * a flood of denied SYNs from one source port becomes one record with a packet count. `add` is
 * O(1); connection counts add up too (two connections that reused a 5-tuple in one interval are
 * one record with `connections: 2`, not one connection lost); `flush` hands over everything collected since the last flush and starts a new interval.
 * A bounded number of open keys: past `maxKeys`, records pass through unaggregated rather than
 * growing memory (counted in `overflowed`). Pure.
 */
export class FlowAggregator {
  private open = new Map<string, FlowRecord>();
  overflowed = 0;
  /** Records summed into an already open one (counts, not losses: their connections are counted). */
  merged = 0;

  constructor(private readonly maxKeys = 100_000) {}

  /** Adds a record; returns it back when it could not be aggregated (the caller emits it as is). */
  add(r: FlowRecord): FlowRecord | undefined {
    const key = flowKey(r);
    const cur = this.open.get(key);
    if (cur) {
      cur.packets += r.packets;
      cur.bytes += r.bytes;
      if (cur.connections !== undefined || r.connections !== undefined) cur.connections = (cur.connections ?? 0) + (r.connections ?? 0);
      this.merged++;
      cur.start = Math.min(cur.start, r.start);
      cur.end = Math.max(cur.end, r.end);
      return undefined;
    }
    if (this.open.size >= this.maxKeys) {
      this.overflowed++;
      return r;
    }
    this.open.set(key, { ...r });
    return undefined;
  }

  get size(): number {
    return this.open.size;
  }

  flush(): FlowRecord[] {
    const out = [...this.open.values()];
    this.open = new Map();
    return out;
  }
}
