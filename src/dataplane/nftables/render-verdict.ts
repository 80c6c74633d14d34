/**
 * The one function that renders what a policy or profile rule does with a packet it matches.
 * Every policy/profile rule's verdict goes through `ruleVerdict` (flow logging hooks in here):
 *
 *   allow → count, set the accept mark, return to the endpoint chain (which returns "allowed")
 *   pass  → count, set the pass mark, return (the endpoint chain skips the rest of the tier)
 *   deny  → count, drop
 *   log   → count, log, continue with the next rule
 *
 * In untracked (doNotTrack) chains an allow also stops connection tracking for the packet.
 *
 * With flow logging on, `flowLog` gives the statement of the rule rendered just before a verdict
 * rule, with the same matches: NFLOG to the denied group (every denied packet) or the allowed group
 * (a connection's first packet), prefixed with the rule ID that maps back to tier/policy/rule
 * (src/flows/rule-id.ts), rate-limited so a flood cannot hurt the node. It is a rule of its own
 * because an nft `limit` ends the rule it is in: in the verdict rule it would stop the drop too.
 */
import type { RuleAction } from '../../calc/types.js';
import type { PolicyRef } from '../../flows/flow-record.js';
import { encodeRuleId, NFLOG_GROUP_ALLOWED, NFLOG_GROUP_DENIED } from '../../flows/rule-id.js';
import type { RuleOrigin } from './model.js';
import { hexMark, MARK_ACCEPT, MARK_PASS } from './names.js';

/** Flow logging's kernel side: NFLOG rate per rule (packets per second, burst). */
export interface FlowLogSettings {
  ratePerSecond: number;
  burst: number;
}

export interface VerdictContext {
  untracked?: boolean;
  /** The rule this verdict belongs to (tier, policy, direction, rule index): for flow logging. */
  origin?: RuleOrigin;
  /** Log prefix for `log` rules. */
  logPrefix?: string;
}

/** The NFLOG statement that precedes a verdict rule, or undefined (no logging for this verdict). */
export function flowLog(action: RuleAction, who: PolicyRef, direction: 'ingress' | 'egress', s: FlowLogSettings | undefined, ctx: VerdictContext = {}): string | undefined {
  if (!s || ctx.untracked || (action !== 'allow' && action !== 'deny')) return undefined;
  const verdict = action === 'allow' ? 'allowed' : 'denied';
  const prefix = encodeRuleId({ verdict, direction, policy: who }).replace(/"/g, '');
  const limit = `limit rate ${s.ratePerSecond}/second burst ${s.burst} packets`;
  return action === 'allow'
    ? `ct state new ${limit} log group ${NFLOG_GROUP_ALLOWED} prefix "${prefix}"`
    : `${limit} log group ${NFLOG_GROUP_DENIED} prefix "${prefix}"`;
}

export function ruleVerdict(action: RuleAction, ctx: VerdictContext = {}): string {
  switch (action) {
    case 'allow':
      return `counter ${ctx.untracked ? 'notrack ' : ''}meta mark set meta mark | ${hexMark(MARK_ACCEPT)} return`;
    case 'pass':
      return `counter meta mark set meta mark | ${hexMark(MARK_PASS)} return`;
    case 'deny':
      return 'counter drop';
    case 'log':
      return `counter log prefix "${(ctx.logPrefix ?? 'brindle-packet: ').replace(/"/g, '')}" level notice`;
  }
}
