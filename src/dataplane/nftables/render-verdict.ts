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
 */
import type { RuleAction } from '../../calc/types.js';
import type { RuleOrigin } from './model.js';
import { hexMark, MARK_ACCEPT, MARK_PASS } from './names.js';

export interface VerdictContext {
  untracked?: boolean;
  /** The rule this verdict belongs to (tier, policy, direction, rule index): for flow logging. */
  origin?: RuleOrigin;
  /** Log prefix for `log` rules. */
  logPrefix?: string;
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
