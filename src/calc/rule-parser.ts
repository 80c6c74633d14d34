/**
 * Converts one backend rule (v3 rule + composed selectors) into a dataplane `ParsedRule` whose
 * selectors and named ports are replaced by IP-set IDs, plus the IP sets it needs (Felix's
 * `ruleToParsedRule`). Pure function over a selector cache; does not ref-count or emit anything
 * (that is the RuleScanner's job). Throws `RuleParseError` on an unparsable selector, port or net,
 * and on what cannot be enforced here (service and HTTP matches), so the policy fails closed.
 */
import type { EntityRule, Port, Protocol, Rule } from '../api/types.js';
import { protocolByNumber, protocolKey, protocolNumberOf } from '../net/protocols.js';
import type { Selector } from '../selector/index.js';
import { makeUniqueId, parseSelector } from '../selector/index.js';
import type { BackendRule, IpSetData } from './model.js';
import { toCidr } from './resource-converter.js';
import { ruleText } from './rule-text.js';
import type { ParsedRule, PortRange, RuleAction, RuleSide } from './types.js';

export class RuleParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleParseError';
  }
}

/** Parses selectors once and remembers them (selector strings repeat a lot across rules). */
export class SelectorCache {
  private readonly cache = new Map<string, Selector>();
  parse(text: string): Selector {
    let sel = this.cache.get(text);
    if (!sel) {
      try {
        sel = parseSelector(text);
      } catch (err) {
        throw new RuleParseError(`invalid selector ${JSON.stringify(text)}: ${(err as Error).message}`);
      }
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(text, sel);
    }
    return sel;
  }
}

const ACTIONS: Record<string, RuleAction> = { Allow: 'allow', Deny: 'deny', Log: 'log', Pass: 'pass' };
/** `TCP` → `tcp`, 6 → `6` (the protocol table's lower-case form). */
export function normaliseProtocol(p: Protocol): string {
  if (typeof p === 'number') return String(p);
  if (typeof p !== 'string') throw new RuleParseError(`invalid protocol ${JSON.stringify(p)}`);
  return protocolKey(p);
}

/** `{type, code}` of an icmp/notICMP match; a type or code that is not a number is refused (ignoring it would widen the rule). */
function icmpMatch(field: string, m: unknown): { type: number; code?: number } | undefined {
  if (m === undefined || m === null) return undefined;
  const { type, code } = m as { type?: unknown; code?: unknown };
  if (typeof m !== 'object' || (type !== undefined && typeof type !== 'number') || (code !== undefined && typeof code !== 'number')) {
    throw new RuleParseError(`invalid ${field} ${JSON.stringify(m)}`);
  }
  if (type === undefined) return undefined;
  return code === undefined ? { type } : { type, code };
}

/** The protocol a rule's named ports are looked up with (Felix: TCP unless the rule says UDP/SCTP). */
function namedPortProtocol(p: Protocol | undefined): 'tcp' | 'udp' | 'sctp' {
  if (p === undefined) return 'tcp';
  normaliseProtocol(p); // refuses values of the wrong type
  const key = protocolByNumber(protocolNumberOf(p, { anyCase: true }) ?? -1)?.key;
  return key === 'udp' || key === 'sctp' ? key : 'tcp';
}

function splitPorts(ports: Port[] | undefined): { numeric: PortRange[]; named: string[] } {
  const numeric: PortRange[] = [];
  const named: string[] = [];
  if (ports !== undefined && !Array.isArray(ports)) throw new RuleParseError('ports must be a list');
  for (const p of ports ?? []) {
    if (typeof p === 'number') {
      numeric.push({ first: p, last: p });
      continue;
    }
    const m = /^(\d+)(?::(\d+))?$/.exec(String(p));
    if (m) numeric.push({ first: Number(m[1]), last: Number(m[2] ?? m[1]) });
    else if (/^[a-zA-Z0-9_.-]{1,128}$/.test(String(p))) named.push(String(p));
    else throw new RuleParseError(`invalid port ${JSON.stringify(p)}`);
  }
  return { numeric, named };
}

function nets(list: string[] | undefined): string[] {
  const out: string[] = [];
  if (list !== undefined && !Array.isArray(list)) throw new RuleParseError('nets must be a list');
  for (const n of list ?? []) {
    const c = toCidr(n);
    if (!c) throw new RuleParseError(`invalid CIDR ${JSON.stringify(n)}`);
    out.push(c.cidr);
  }
  return out;
}

/** Felix's `combineMatchesIfPossible`: fold the negative selector into a positive one when there is one. */
function combine(pos: string, neg: string): [string, string] {
  if (pos === '' || neg === '') return [pos, neg];
  return [`(${pos}) && (!(${neg}))`, ''];
}

export interface ParsedRuleResult {
  rule: ParsedRule;
  ipSets: IpSetData[];
}

export function parseRule(br: BackendRule, selectors: SelectorCache): ParsedRuleResult {
  const r: Rule = br.rule;
  if (typeof r !== 'object' || r === null) throw new RuleParseError(`rule ${br.index} is not an object`);
  const action = ACTIONS[r.action];
  if (!action) throw new RuleParseError(`invalid action ${JSON.stringify(r.action)}`);
  // Not computable here (no Service endpoint index, no L7 proxy): ignoring them would widen the rule.
  if (r.source?.services || r.destination?.services) throw new RuleParseError('service matches are not supported');
  if (r.http) throw new RuleParseError('HTTP matches are not supported');
  const ipSets: IpSetData[] = [];
  const selectorSet = (text: string): IpSetData => {
    const sel = selectors.parse(text);
    const set: IpSetData = { id: sel.uniqueId, selectorId: sel.uniqueId, selector: sel };
    ipSets.push(set);
    return set;
  };
  const namedPortSet = (selText: string, port: string, proto: 'tcp' | 'udp' | 'sctp'): IpSetData => {
    const sel = selectors.parse(selText === '' ? 'all()' : selText);
    const id = makeUniqueId('n', `${sel.uniqueId},${proto},${port}`);
    const set: IpSetData = { id, selectorId: sel.uniqueId, selector: sel, namedPort: port, namedPortProtocol: proto };
    ipSets.push(set);
    return set;
  };
  const proto = namedPortProtocol(r.protocol);
  const out: ParsedRule = { action, index: br.index, text: ruleText(r) };
  if (r.ipVersion === 4 || r.ipVersion === 6) out.ipVersion = r.ipVersion;
  if (r.protocol !== undefined) out.protocol = normaliseProtocol(r.protocol);
  if (r.notProtocol !== undefined) out.notProtocol = normaliseProtocol(r.notProtocol);
  const icmp = icmpMatch('icmp', r.icmp);
  if (icmp) out.icmp = icmp;
  const notIcmp = icmpMatch('notICMP', r.notICMP);
  if (notIcmp) out.notIcmp = notIcmp;

  const side = (er: EntityRule | undefined, posRaw: string, negRaw: string): RuleSide | undefined => {
    const [pos, neg] = combine(posRaw, negRaw);
    const ports = splitPorts(er?.ports);
    const notPorts = splitPorts(er?.notPorts);
    const o: RuleSide = {};
    const put = <K extends keyof RuleSide>(field: K, v: NonNullable<RuleSide[K]>): void => {
      if (v.length > 0) o[field] = v;
    };
    put('nets', nets(er?.nets));
    put('notNets', nets(er?.notNets));
    put('ports', ports.numeric);
    put('notPorts', notPorts.numeric);
    put('namedPortIpSetIds', ports.named.map((p) => namedPortSet(pos, p, proto).id));
    put('notNamedPortIpSetIds', notPorts.named.map((p) => namedPortSet(pos, p, proto).id));
    // A named-port set already filters by the positive selector; keep the plain set only if numeric ports need it.
    if (pos !== '' && (ports.numeric.length > 0 || ports.named.length === 0)) put('ipSetIds', [selectorSet(pos).id]);
    if (neg !== '') put('notIpSetIds', [selectorSet(neg).id]);
    return Object.keys(o).length > 0 ? o : undefined;
  };
  const src = side(r.source, br.srcSelector, br.notSrcSelector);
  if (src) out.src = src;
  const dst = side(r.destination, br.dstSelector, br.notDstSelector);
  if (dst) out.dst = dst;
  return { rule: out, ipSets };
}
