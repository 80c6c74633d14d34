import type { CalcSnapshot } from '../calc/types.js';
import type { FlowDirection, FlowVerdict, PolicyRef } from './flow-record.js';

/**
 * The NFLOG prefix that names the rule which logged a packet, so a logged packet maps back to its
 * tier, policy and rule index (as Felix's `API0|tier.policy` prefixes do). The dataplane renderer
 * writes it into `log group N prefix "…"`; the flow collector reads it back.
 *
 *   <verdict A|D><direction I|E><kind>|fields     kind: P policy rule, T end of tier, R profile rule, N no policy
 *   DIP|default|prod|deny-db|2    DIT|default    AER|kns.prod|0    DIN
 *
 * The kernel keeps at most 127 prefix bytes. A longer prefix is replaced by `<head>#<16 hex>`, a
 * hash of the full text, which `RuleIdIndex` resolves from the calculation snapshot (every policy
 * and profile rule the node programs is in it). Pure.
 */

export const NFLOG_GROUP_DENIED = 20;
export const NFLOG_GROUP_ALLOWED = 21;
export const MAX_PREFIX_BYTES = 127;

export interface RuleId {
  verdict: FlowVerdict;
  direction: FlowDirection;
  policy: PolicyRef;
}

export function encodeRuleId(id: RuleId): string {
  const head = `${id.verdict === 'allowed' ? 'A' : 'D'}${id.direction === 'ingress' ? 'I' : 'E'}`;
  const p = id.policy;
  let full: string;
  switch (p.kind) {
    case 'policy':
      full = `${head}P|${p.tier}|${p.namespace ?? '_'}|${p.name}|${p.ruleIndex ?? ''}`;
      break;
    case 'end-of-tier':
      full = `${head}T|${p.tier}`;
      break;
    case 'profile':
      full = `${head}R|${p.name}|${p.ruleIndex ?? ''}`;
      break;
    case 'no-policy':
      return `${head}N`;
  }
  if (Buffer.byteLength(full, 'utf8') <= MAX_PREFIX_BYTES) return full;
  return `${full.slice(0, 3)}#${fnv1a64(full)}`;
}

/** Parses a prefix; a hashed one needs the index. Returns undefined for a prefix that is not Brindle's. */
export function decodeRuleId(prefix: string, index?: RuleIdIndex): RuleId | undefined {
  const m = /^([AD])([IE])([PTRN])(.*)$/.exec(prefix.trim());
  if (!m) return undefined;
  const verdict: FlowVerdict = m[1] === 'A' ? 'allowed' : 'denied';
  const direction: FlowDirection = m[2] === 'I' ? 'ingress' : 'egress';
  const rest = m[4]!;
  if (rest.startsWith('#')) {
    const policy = index?.lookup(rest.slice(1));
    return policy ? { verdict, direction, policy } : undefined;
  }
  const f = rest.split('|').slice(1);
  const idx = (s: string | undefined): number | undefined => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);
  let policy: PolicyRef;
  switch (m[3]) {
    case 'P': {
      if (f.length < 4) return undefined;
      const ruleIndex = idx(f[3]);
      policy = { kind: 'policy', tier: f[0]!, ...(f[1] !== '_' ? { namespace: f[1]! } : {}), name: f[2]!, ...(ruleIndex !== undefined ? { ruleIndex } : {}) };
      break;
    }
    case 'T':
      if (f.length < 1) return undefined;
      policy = { kind: 'end-of-tier', tier: f[0]! };
      break;
    case 'R': {
      if (f.length < 2) return undefined;
      const ruleIndex = idx(f[1]);
      policy = { kind: 'profile', name: f[0]!, ...(ruleIndex !== undefined ? { ruleIndex } : {}) };
      break;
    }
    default:
      policy = { kind: 'no-policy' };
  }
  return { verdict, direction, policy };
}

/** FNV-1a 64-bit, hex: short, stable and dependency-free (collisions only cost a wrong label). */
export function fnv1a64(s: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

/** Resolves hashed prefixes: every rule, tier end and profile rule of a snapshot, by hash of its full prefix. */
export class RuleIdIndex {
  private readonly byHash = new Map<string, PolicyRef>();

  constructor(snapshot: CalcSnapshot) {
    const add = (policy: PolicyRef): void => {
      for (const verdict of ['allowed', 'denied'] as const) {
        for (const direction of ['ingress', 'egress'] as const) {
          const text = encodeRuleId({ verdict, direction, policy });
          const hash = /#([0-9a-f]{16})$/.exec(text)?.[1];
          if (hash) this.byHash.set(hash, policy);
        }
      }
    };
    for (const p of snapshot.policies.values()) {
      const base = { kind: 'policy' as const, tier: p.identity.tier, ...(p.identity.namespace ? { namespace: p.identity.namespace } : {}), name: p.identity.name };
      for (const r of [...p.inbound, ...p.outbound]) add({ ...base, ruleIndex: r.index });
      add({ kind: 'end-of-tier', tier: p.identity.tier });
    }
    for (const p of snapshot.profiles.values()) for (const r of [...p.inbound, ...p.outbound]) add({ kind: 'profile', name: p.name, ruleIndex: r.index });
  }

  lookup(hash: string): PolicyRef | undefined {
    return this.byHash.get(hash);
  }
}
