/**
 * The desired (or observed) contents of Brindle's nftables table as plain data: chains with their
 * rules, sets and verdict maps with their elements. Renderers produce it, the table reconciler
 * diffs two of them into a transaction, the fake client keeps one, and the real client reads the
 * kernel back into one. No I/O here.
 *
 * A rule is its nft text (without the comment) plus an `id`: a short hash of the text (and of the
 * rule's origin for policy rules) written into the kernel as the rule's comment. Comparing chains
 * is comparing their id lists, so the kernel's own spelling of a rule never matters.
 */
import { shortHash } from './names.js';

/** Where a policy rule came from, so kernel counters map back to tier/policy/rule index. */
export interface RuleOrigin {
  /** `policy` or `profile`. */
  kind: 'policy' | 'profile';
  /** Policy key (`tier/ns/name`) or profile name. */
  key: string;
  tier?: string;
  direction: 'ingress' | 'egress';
  /** Index in the policy's ingress/egress list; -1 for a fail-closed policy's single drop. */
  ruleIndex: number;
  action: string;
  text: string;
}

/** What an endpoint chain's rule stands for (a policy jump, an end-of-tier drop…), for counters. */
export interface EndpointRuleOrigin {
  endpoint: string;
  direction: 'ingress' | 'egress';
  what: string;
}

export interface NftRule {
  text: string;
  /** Comment written to the kernel; unique within its chain. */
  id: string;
  origin?: RuleOrigin;
  endpointOrigin?: EndpointRuleOrigin;
}

export interface BaseChainSpec {
  type: 'filter' | 'nat' | 'route';
  hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  priority: string;
  policy?: 'accept' | 'drop';
}

export interface NftChain {
  name: string;
  base?: BaseChainSpec;
  comment?: string;
  rules: NftRule[];
  /** Shared by several endpoints (a tier group chain): reference-counted by its users. */
  shared?: boolean;
}

/** A named set, or a verdict map when `map` is set (elements then carry a verdict value). */
export interface NftSet {
  name: string;
  /** nft type expression: `ipv4_addr`, `ipv4_addr . inet_proto . inet_service`, `ifname`. */
  type: string;
  interval?: boolean;
  /** Verdict map (`type <type> : verdict`). */
  map?: boolean;
  /** Element key → verdict (`goto fw-cali1`) for maps, '' for sets. Keys are in nft syntax. */
  elements: Map<string, string>;
}

export interface NftTable {
  chains: Map<string, NftChain>;
  sets: Map<string, NftSet>;
}

export function emptyTable(): NftTable {
  return { chains: new Map(), sets: new Map() };
}

/** Builds rules with ids unique within one chain: the id is a hash of the text and the origin. */
export class ChainBuilder {
  private readonly rules: NftRule[] = [];
  private readonly seen = new Map<string, number>();

  constructor(private readonly name: string) {}

  add(text: string, extra: { origin?: RuleOrigin; endpointOrigin?: EndpointRuleOrigin; label?: string } = {}): this {
    const o = extra.origin;
    const tag = o ? `r${o.ruleIndex}` : (extra.label ?? '');
    let id = `${tag ? `${tag} ` : ''}${shortHash(`${text}|${tag}`, 10)}`;
    const n = this.seen.get(id) ?? 0;
    this.seen.set(id, n + 1);
    if (n > 0) id = `${id}.${n}`;
    const rule: NftRule = { text, id };
    if (o) rule.origin = o;
    if (extra.endpointOrigin) rule.endpointOrigin = extra.endpointOrigin;
    this.rules.push(rule);
    return this;
  }

  /** Several rules with no origin, in order. */
  addAll(texts: readonly string[]): this {
    for (const t of texts) this.add(t);
    return this;
  }

  build(extra: { base?: BaseChainSpec; comment?: string } = {}): NftChain {
    const c: NftChain = { name: this.name, rules: this.rules };
    if (extra.base) c.base = extra.base;
    if (extra.comment) c.comment = extra.comment;
    return c;
  }
}

export function sameRules(a: NftChain, b: NftChain): boolean {
  if (a.rules.length !== b.rules.length) return false;
  for (let i = 0; i < a.rules.length; i++) if (a.rules[i]!.id !== b.rules[i]!.id) return false;
  return true;
}

export function sameSetShape(a: NftSet, b: NftSet): boolean {
  return a.type === b.type && !!a.interval === !!b.interval && !!a.map === !!b.map;
}
