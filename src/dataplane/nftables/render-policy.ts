/**
 * Renders an active policy or profile as one chain per direction (`pi-`/`po-` for policies,
 * `ri-`/`ro-` for profiles). Each calc rule becomes one or more nft rules (see render-rule.ts),
 * all carrying the rule's origin so kernel counters map back to tier/policy/rule index, and all
 * ending in `ruleVerdict`. A fail-closed policy (missing, invalid) is one counted drop. Pure.
 */
import type { ActivePolicy, ActiveProfile, ParsedRule } from '../../calc/types.js';
import { ChainBuilder, type NftChain, type RuleOrigin } from './model.js';
import { policyChain, profileChain, type PolicyDirection } from './names.js';
import { renderRuleMatches, ruleFamilies, type SetNameResolver } from './render-rule.js';
import { ruleVerdict } from './render-verdict.js';

function renderRules(
  chainName: string, comment: string, rules: readonly ParsedRule[], failClosed: boolean,
  base: Omit<RuleOrigin, 'ruleIndex' | 'action' | 'text'>, sets: SetNameResolver, untracked: boolean, logPrefix: string | undefined,
): NftChain {
  const b = new ChainBuilder(chainName);
  if (failClosed) {
    const origin: RuleOrigin = { ...base, ruleIndex: -1, action: 'deny', text: 'fail closed: missing or invalid' };
    b.add(ruleVerdict('deny', { origin }), { origin });
    return b.build({ comment });
  }
  for (const rule of rules) {
    const origin: RuleOrigin = { ...base, ruleIndex: rule.index, action: rule.action, text: rule.text };
    const verdict = ruleVerdict(rule.action, { untracked, origin, ...(logPrefix !== undefined ? { logPrefix } : {}) });
    for (const family of ruleFamilies(rule)) {
      for (const m of renderRuleMatches(rule, family, sets)) b.add(m ? `${m} ${verdict}` : verdict, { origin });
    }
  }
  return b.build({ comment });
}

function commentText(s: string): string {
  return s.replace(/["\\]/g, '').slice(0, 120);
}

export interface PolicyRenderOptions {
  /** Prefix of `log` rules (FelixConfiguration logPrefix). */
  logPrefix?: string;
}

export function renderPolicyChain(p: ActivePolicy, dir: PolicyDirection, sets: SetNameResolver, o: PolicyRenderOptions = {}): NftChain {
  const direction = dir === 'in' ? 'ingress' : 'egress';
  return renderRules(
    policyChain(p.key, dir), commentText(`policy ${p.key} ${direction}`), dir === 'in' ? p.inbound : p.outbound, !!p.failClosed,
    { kind: 'policy', key: p.key, tier: p.identity.tier, direction }, sets, !!p.untracked, o.logPrefix,
  );
}

export function renderProfileChain(p: ActiveProfile, dir: PolicyDirection, sets: SetNameResolver, o: PolicyRenderOptions = {}): NftChain {
  const direction = dir === 'in' ? 'ingress' : 'egress';
  return renderRules(
    profileChain(p.name, dir), commentText(`profile ${p.name} ${direction}`), dir === 'in' ? p.inbound : p.outbound, !!p.failClosed,
    { kind: 'profile', key: p.name, direction }, sets, false, o.logPrefix,
  );
}
