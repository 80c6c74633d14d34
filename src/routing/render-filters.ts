/**
 * BGPFilter → BIRD functions (Calico's `bgp_<name>_<dir>FilterV<n>`), one per filter, direction and
 * family that has rules. Rules run in order; the first whose conditions all hold ends the whole
 * BIRD filter with its action (a function's `accept`/`reject` terminates the calling filter), so a
 * route no rule matches falls through to Brindle's default import/export decision. Pure.
 */
import { createHash } from 'node:crypto';
import type { BgpFilterModel, Family, FilterRule } from './model.js';

export type FilterDirection = 'import' | 'export';

/** BIRD symbols are at most 64 characters: long filter names are cut and made unique with a hash. */
export function filterFunctionName(filter: string, dir: FilterDirection, family: Family): string {
  const suffix = `_${dir}FilterV${family}`;
  let base = `bgp_${filter}`;
  if (base.length + suffix.length > 64) {
    const h = createHash('sha256').update(filter).digest('hex').slice(0, 8);
    base = `${base.slice(0, 64 - suffix.length - 9)}_${h}`;
  }
  return `'${base}${suffix}'`;
}

export function rulesOf(f: BgpFilterModel, dir: FilterDirection, family: Family): FilterRule[] {
  return dir === 'import' ? (family === 4 ? f.importV4 : f.importV6) : family === 4 ? f.exportV4 : f.exportV6;
}

export function renderFilterFunctions(filters: readonly BgpFilterModel[]): string[] {
  const out: string[] = [];
  for (const f of filters) {
    for (const family of [4, 6] as const) {
      for (const dir of ['export', 'import'] as const) {
        const rules = rulesOf(f, dir, family);
        if (rules.length === 0) continue;
        out.push(`# BGPFilter ${f.name}: ${dir}V${family}`);
        out.push(`function ${filterFunctionName(f.name, dir, family)}(bool to_ibgp) {`);
        for (const r of rules) out.push(`  ${renderRule(r, family)}`);
        out.push('}', '');
      }
    }
  }
  return out;
}

export function renderRule(r: FilterRule, family: Family): string {
  const conds: string[] = [];
  if (r.cidr) {
    const max = family === 4 ? 32 : 128;
    const len = Number(r.cidr.slice(r.cidr.indexOf('/') + 1));
    const min = r.prefixLength?.min ?? len;
    const hi = r.prefixLength?.max ?? max;
    const set = min === len && hi === max ? `[ ${r.cidr}+ ]` : `[ ${r.cidr}{${min},${hi}} ]`;
    switch (r.matchOperator ?? 'In') {
      case 'Equal': conds.push(`net = ${r.cidr}`); break;
      case 'NotEqual': conds.push(`net != ${r.cidr}`); break;
      case 'In': conds.push(`net ~ ${set}`); break;
      case 'NotIn': conds.push(`net !~ ${set}`); break;
    }
  }
  if (r.source === 'RemotePeers') conds.push('source = RTS_BGP');
  if (r.interface) conds.push(`ifname ~ "${r.interface}"`);
  if (r.peerType === 'iBGP') conds.push('to_ibgp');
  if (r.peerType === 'eBGP') conds.push('!to_ibgp');
  const action = r.action === 'Accept' ? 'accept;' : 'reject;';
  return conds.length === 0 ? action : `if ${conds.map((c) => `(${c})`).join(' && ')} then { ${action} }`;
}
