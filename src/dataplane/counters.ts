/**
 * Maps kernel rule counters back to what the rules stand for: per policy/profile rule (tier,
 * policy, direction, rule index; summed over the nft rules one calc rule became) and per endpoint
 * chain rule (policy jumps, end-of-tier drops, spoof drops). The kernel side of `policy explain`.
 */
import type { KernelRuleCounter } from './nftables/listing.js';
import type { NftTable } from './nftables/model.js';

export interface RuleCounter {
  kind: 'policy' | 'profile';
  key: string;
  tier?: string;
  direction: 'ingress' | 'egress';
  ruleIndex: number;
  action: string;
  text: string;
  packets: number;
  bytes: number;
}

export interface EndpointCounter {
  endpoint: string;
  direction: 'ingress' | 'egress';
  what: string;
  packets: number;
  bytes: number;
}

export interface CountersReport {
  node: string;
  rules: RuleCounter[];
  endpoints: EndpointCounter[];
}

export function collectCounters(node: string, desired: NftTable, kernel: readonly KernelRuleCounter[]): CountersReport {
  const byId = new Map<string, KernelRuleCounter>();
  for (const k of kernel) byId.set(`${k.chain}|${k.id}`, k);
  const rules = new Map<string, RuleCounter>();
  const endpoints: EndpointCounter[] = [];
  for (const c of desired.chains.values()) {
    for (const r of c.rules) {
      const k = byId.get(`${c.name}|${r.id}`);
      const packets = k?.packets ?? 0;
      const bytes = k?.bytes ?? 0;
      if (r.origin) {
        const o = r.origin;
        const key = `${o.kind}|${o.key}|${o.direction}|${o.ruleIndex}`;
        const have = rules.get(key);
        if (have) {
          have.packets += packets;
          have.bytes += bytes;
        } else {
          rules.set(key, { kind: o.kind, key: o.key, ...(o.tier ? { tier: o.tier } : {}), direction: o.direction, ruleIndex: o.ruleIndex, action: o.action, text: o.text, packets, bytes });
        }
      } else if (r.endpointOrigin) {
        endpoints.push({ ...r.endpointOrigin, packets, bytes });
      }
    }
  }
  const sortedRules = [...rules.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.key.localeCompare(b.key) || a.direction.localeCompare(b.direction) || a.ruleIndex - b.ruleIndex);
  endpoints.sort((a, b) => a.endpoint.localeCompare(b.endpoint) || a.direction.localeCompare(b.direction));
  return { node, rules: sortedRules, endpoints };
}
