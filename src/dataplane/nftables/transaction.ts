/**
 * One nftables transaction (after knftables' `Transaction`): a list of operations on Brindle's
 * table, rendered as one `nft -f -` script that the kernel applies atomically (all or nothing).
 * The reconciler fills it in dependency order; the fake client interprets the same operations.
 */
import type { NftChain, NftRule, NftSet } from './model.js';
import { TABLE } from './names.js';

export type NftOp =
  | { op: 'add-table' }
  | { op: 'delete-table' }
  | { op: 'add-chain'; chain: Pick<NftChain, 'name' | 'base' | 'comment'> }
  | { op: 'flush-chain'; name: string }
  | { op: 'delete-chain'; name: string }
  | { op: 'add-rule'; chain: string; rule: Pick<NftRule, 'text' | 'id'> }
  | { op: 'add-set'; set: Omit<NftSet, 'elements'> }
  | { op: 'delete-set'; name: string; map?: boolean }
  | { op: 'add-elements'; set: string; map?: boolean; elements: [string, string][] }
  | { op: 'delete-elements'; set: string; map?: boolean; keys: string[] };

/** Element lists are split into lines of this many so no single command gets huge. */
const ELEMENTS_PER_LINE = 500;

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '')}"`;
}

export class NftTransaction {
  readonly ops: NftOp[] = [];

  get isEmpty(): boolean {
    return this.ops.length === 0;
  }

  add(op: NftOp): this {
    this.ops.push(op);
    return this;
  }

  /** Number of rule additions (for metrics). */
  get ruleCount(): number {
    return this.ops.filter((o) => o.op === 'add-rule').length;
  }

  toScript(): string {
    const lines: string[] = [];
    for (const o of this.ops) lines.push(...renderOp(o));
    return lines.join('\n') + (lines.length ? '\n' : '');
  }
}

function renderOp(o: NftOp): string[] {
  switch (o.op) {
    case 'add-table':
      return [`add table ${TABLE}`];
    case 'delete-table':
      return [`delete table ${TABLE}`];
    case 'add-chain': {
      const parts: string[] = [];
      const b = o.chain.base;
      if (b) parts.push(`type ${b.type} hook ${b.hook} priority ${b.priority};`, `policy ${b.policy ?? 'accept'};`);
      if (o.chain.comment) parts.push(`comment ${quote(o.chain.comment)};`);
      return [`add chain ${TABLE} ${o.chain.name}${parts.length ? ` { ${parts.join(' ')} }` : ''}`];
    }
    case 'flush-chain':
      return [`flush chain ${TABLE} ${o.name}`];
    case 'delete-chain':
      return [`delete chain ${TABLE} ${o.name}`];
    case 'add-rule':
      return [`add rule ${TABLE} ${o.chain} ${o.rule.text} comment ${quote(o.rule.id)}`];
    case 'add-set': {
      const s = o.set;
      const flags = s.interval ? ' flags interval;' : '';
      return [`add ${s.map ? 'map' : 'set'} ${TABLE} ${s.name} { type ${s.type}${s.map ? ' : verdict' : ''};${flags} }`];
    }
    case 'delete-set':
      return [`delete ${o.map ? 'map' : 'set'} ${TABLE} ${o.name}`];
    case 'add-elements':
      return chunks(o.elements).map((c) => `add element ${TABLE} ${o.set} { ${c.map(([k, v]) => (o.map ? `${k} : ${v}` : k)).join(', ')} }`);
    case 'delete-elements':
      return chunks(o.keys).map((c) => `delete element ${TABLE} ${o.set} { ${c.join(', ')} }`);
  }
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += ELEMENTS_PER_LINE) out.push(items.slice(i, i + ELEMENTS_PER_LINE));
  return out;
}
