import type { Clock } from '../base/clock.js';
import { decidingPolicy, type FlowContext } from './flow-context.js';
import type { FlowDirection, FlowRecord, PolicyRef, StagedVerdict } from './flow-record.js';
import { decodeRuleId } from './rule-id.js';
import { tupleKey, type ConntrackEnd, type LoggedPacket, type UlogdEvent } from './ulogd-event.js';

export interface FlowRecorderCallbacks {
  onFlow(record: FlowRecord): void;
}

/** How many allowed-connection labels wait for their conntrack end at most (oldest evicted first). */
const MAX_PENDING = 65_536;
/** A label older than this is forgotten (the connection's end will be labelled by the calculation). */
const PENDING_TTL_MS = 15 * 60_000;
/** Decisions remembered per (addresses, protocol, port, direction) until the context changes; cleared when full. */
const MAX_DECISIONS = 50_000;

/**
 * Turns kernel events of one node into flow records. A packet logged by a deny rule is a denied
 * record at once (its NFLOG prefix names the tier/policy/rule). A packet logged by an allow rule
 * (the first of a connection) only labels the connection; the record is made when conntrack reports
 * the connection's end, with its packet and byte counts (both directions summed). A connection whose
 * label was never seen (rate-limited, or allowed by a profile that logs nothing) is labelled by the
 * calculation, the same evaluation `policy explain` runs. Every record carries the staged policies'
 * would-be verdicts. It does not aggregate or store (FlowAggregator, sinks do).
 */
export class FlowRecorder {
  private readonly pending = new Map<string, { policy: PolicyRef; direction: FlowDirection; at: number }>();
  /**
   * What the calculation decided for connections that had no label, and their staged verdicts:
   * at thousands of connections a second most share addresses and destination port, and one
   * evaluation is most of a record's cost. The source port is part of the key only when some rule
   * matches on it. Emptied on every new context.
   */
  private readonly decisions = new Map<string, { policy: PolicyRef; direction: FlowDirection; staged: StagedVerdict[] }>();
  /** Logged packets whose prefix is not Brindle's (counted, not recorded). */
  unknownPrefixes = 0;

  constructor(
    private readonly node: string,
    private context: FlowContext,
    private readonly clock: Clock,
    private readonly cb: FlowRecorderCallbacks,
  ) {}

  setContext(c: FlowContext): void {
    this.context = c;
    this.decisions.clear();
  }

  onEvent(ev: UlogdEvent): void {
    if (ev.kind === 'packet') this.onPacket(ev);
    else this.onConntrackEnd(ev);
  }

  private onPacket(ev: LoggedPacket): void {
    const id = decodeRuleId(ev.prefix, this.context.ruleIds);
    if (!id) {
      this.unknownPrefixes++;
      return;
    }
    if (id.verdict === 'allowed') {
      const key = tupleKey(ev);
      this.pending.delete(key);
      this.pending.set(key, { policy: id.policy, direction: id.direction, at: this.clock.now() });
      if (this.pending.size > MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
      return;
    }
    this.cb.onFlow({
      ...this.base(ev, id.direction),
      verdict: 'denied',
      policy: id.policy,
      packets: 1,
      bytes: ev.bytes,
      start: ev.time,
      end: ev.time,
    });
  }

  private onConntrackEnd(ev: ConntrackEnd): void {
    const key = tupleKey(ev);
    const label = this.pending.get(key);
    this.pending.delete(key);
    let policy: PolicyRef;
    let direction: FlowDirection;
    let staged: StagedVerdict[] | undefined;
    if (label && this.clock.now() - label.at <= PENDING_TTL_MS) {
      policy = label.policy;
      direction = label.direction;
    } else {
      const memo = `${ev.srcIp}|${ev.dstIp}|${ev.protocol}|${ev.dstPort ?? ''}|${this.context.matchesSourcePorts ? (ev.srcPort ?? '') : '*'}`;
      let d = this.decisions.get(memo);
      if (!d) {
        const dir: FlowDirection = this.context.endpointAt(ev.dstIp) ? 'ingress' : 'egress';
        const x = this.context.explain(ev);
        const mine = x && (dir === 'ingress' ? x.ingress : x.egress);
        const other = x && (dir === 'ingress' ? x.egress : x.ingress);
        const p: PolicyRef = mine && mine.evaluated ? decidingPolicy(mine) : other && other.evaluated ? decidingPolicy(other) : { kind: 'no-policy' };
        d = { policy: p, direction: dir, staged: this.context.stagedVerdicts(ev, dir) };
        if (this.decisions.size >= MAX_DECISIONS) this.decisions.clear();
        this.decisions.set(memo, d);
      }
      ({ policy, direction, staged } = d);
    }
    this.cb.onFlow({
      ...this.base(ev, direction, staged),
      verdict: 'allowed',
      policy,
      packets: ev.packets + ev.replyPackets,
      bytes: ev.bytes + ev.replyBytes,
      connections: 1,
      start: ev.start,
      end: ev.end,
    });
  }

  private base(ev: LoggedPacket | ConntrackEnd, direction: FlowDirection, known?: StagedVerdict[]): Pick<FlowRecord, 'node' | 'src' | 'dst' | 'protocol' | 'srcPort' | 'dstPort' | 'direction' | 'staged'> {
    const staged = known ?? this.context.stagedVerdicts(ev, direction);
    return {
      node: this.node,
      src: this.context.peer(ev.srcIp),
      dst: this.context.peer(ev.dstIp),
      protocol: ev.protocol,
      ...(ev.srcPort !== undefined ? { srcPort: ev.srcPort } : {}),
      ...(ev.dstPort !== undefined ? { dstPort: ev.dstPort } : {}),
      direction,
      ...(staged.length > 0 ? { staged } : {}),
    };
  }

  /** Drops labels older than the TTL (call now and then). */
  expire(): void {
    const cutoff = this.clock.now() - PENDING_TTL_MS;
    for (const [k, v] of this.pending) {
      if (v.at >= cutoff) break;
      this.pending.delete(k);
    }
  }
}
