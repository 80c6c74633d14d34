import type { DirectionTrace, FlowExplanation, NotEvaluated, PolicyStep, TierStep } from './explain.js';

/**
 * Renders a FlowExplanation as the human text of `brindle policy explain`: the verdict line, then
 * the egress path of the source and the ingress path of the destination, tier by tier, policy by
 * policy, with the rule that decided (index and text) or why nothing matched. Pure.
 */
export function renderExplanation(x: FlowExplanation): string {
  const f = x.flow;
  const what = `${f.protocol}${f.port !== undefined ? ` ${f.port}` : ''}`;
  const lines = [`Verdict: ${x.verdict.toUpperCase()}  (${f.from} → ${f.to}, ${what})`];
  lines.push(...direction(x.egress, 'Egress of', f.from));
  lines.push(...direction(x.ingress, 'Ingress of', f.to));
  if (x.egress.evaluated && x.egress.verdict === 'deny' && x.ingress.evaluated) {
    lines.push('(Ingress is shown for completeness: the flow is already dropped on the source\'s egress.)');
  }
  return lines.join('\n') + '\n';
}

function direction(d: DirectionTrace | NotEvaluated, title: string, who: string): string[] {
  if (!d.evaluated) return [`${title} ${who}: not evaluated (${d.reason})`];
  const out = [`${title} ${d.endpoint} (node ${d.node}, ${d.ip}): ${d.verdict.toUpperCase()}`];
  if (d.tiers.length === 0) out.push('  no policy applies to this endpoint in this direction');
  for (const t of d.tiers) out.push(...tier(t));
  if (d.profiles.length > 0) {
    for (const p of d.profiles) {
      const how = p.outcome === 'fail-closed' ? 'missing: fail closed (deny)'
        : p.rule ? `rule ${p.rule.index} matched: ${p.rule.action}  [${p.rule.text}]` : 'no rule matched';
      out.push(`  profile ${p.name}: ${how}`);
    }
  } else if (d.tiers.every((t) => t.outcome === 'pass' || t.outcome === 'end-of-tier-pass')) {
    out.push('  no profiles');
  }
  out.push(`  => ${d.decision}`);
  for (const n of d.notEvaluated ?? []) out.push(`  note: ${n} also applies to this host endpoint and is not evaluated here`);
  return out;
}

function tier(t: TierStep): string[] {
  const out = [`  tier ${t.name} (default action ${t.defaultAction}):`];
  for (const p of t.policies) out.push(...policy(p));
  if (t.outcome === 'end-of-tier-deny') out.push('    end of tier: deny');
  else if (t.outcome === 'end-of-tier-pass') out.push(`    end of tier: pass to the next tier (${t.defaultAction === 'Pass' ? 'default action Pass' : 'only staged policies'})`);
  return out;
}

const KIND_WORDS: Record<string, string> = {
  NetworkPolicy: 'policy',
  GlobalNetworkPolicy: 'global policy',
  StagedNetworkPolicy: 'staged policy',
  StagedGlobalNetworkPolicy: 'staged global policy',
  StagedKubernetesNetworkPolicy: 'staged Kubernetes policy',
};

function policy(p: PolicyStep): string[] {
  const name = `${KIND_WORDS[p.kind] ?? p.kind} ${p.namespace ? `${p.namespace}/` : ''}${p.name}${p.order !== undefined ? ` (order ${p.order})` : ''}`;
  if (p.outcome === 'staged') return [`    ${name}: staged, not enforced (skipped)`];
  if (p.outcome === 'fail-closed') return [`    ${name}: missing or invalid: fail closed (deny)`];
  const events = [
    ...p.misses.map((m) => ({ index: m.index, line: `rule ${m.index} did not match: ${m.reason}  [${m.text}]` })),
    ...p.logged.map((l) => ({ index: l.index, line: `rule ${l.index} matched: log (evaluation continues)  [${l.text}]` })),
  ].sort((a, b) => a.index - b.index);
  const out = [`    ${name}:`, ...events.map((e) => `      ${e.line}`)];
  if (p.rule) out.push(`      rule ${p.rule.index} matched: ${p.rule.action}${p.rule.action === 'pass' ? ' (go to the next tier)' : ''}  [${p.rule.text}]`);
  else out.push(events.length === 0 ? '      no rules for this direction: no match' : '      no rule matched');
  return out;
}
