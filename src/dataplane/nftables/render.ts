/**
 * Canonical text of a whole table model (`table inet brindle { … }`), in the shape `nft -f` loads:
 * sets and maps first, then chains sorted by name, rules in order with their ids as comments.
 * Used for golden files and for humans; never to apply a change (the reconciler applies diffs).
 * Pure.
 */
import type { NftTable } from './model.js';
import { TABLE } from './names.js';

export function renderTableText(t: NftTable): string {
  const out: string[] = [`table ${TABLE} {`];
  for (const s of [...t.sets.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    out.push(`\t${s.map ? 'map' : 'set'} ${s.name} {`, `\t\ttype ${s.type}${s.map ? ' : verdict' : ''}`);
    if (s.interval) out.push('\t\tflags interval');
    const els = [...s.elements].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => (s.map ? `${k} : ${v}` : k));
    if (els.length) out.push(`\t\telements = { ${els.join(',\n\t\t\t     ')} }`);
    out.push('\t}', '');
  }
  for (const c of [...t.chains.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    out.push(`\tchain ${c.name} {`);
    if (c.base) out.push(`\t\ttype ${c.base.type} hook ${c.base.hook} priority ${c.base.priority}; policy ${c.base.policy ?? 'accept'};`);
    if (c.comment) out.push(`\t\tcomment "${c.comment}"`);
    for (const r of c.rules) out.push(`\t\t${r.text} comment "${r.id}"`);
    out.push('\t}', '');
  }
  if (out[out.length - 1] === '') out.pop();
  out.push('}');
  return out.join('\n') + '\n';
}
