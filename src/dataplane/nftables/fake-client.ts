/**
 * An in-memory nft for tests (after knftables' fake): interprets a transaction's operations on a
 * table model and refuses, as the kernel would, anything that references what does not exist — a
 * rule added to a missing chain, a jump/goto to a missing chain, `@set` of a missing set, an
 * element of a missing set, deleting a chain or set still referenced, deleting an element that is
 * not there. A refused transaction changes nothing. `dump()` gives canonical text for goldens.
 */
import { emptyTable, type NftTable } from './model.js';
import type { KernelListing } from './listing.js';
import type { NftClient } from './client.js';
import { renderTableText } from './render.js';
import type { NftOp, NftTransaction } from './transaction.js';

export class FakeNftError extends Error {}

const REF_RE = /(?:@|\b(?:jump|goto) )([A-Za-z0-9_.-]+)/g;

function refsOf(text: string): { sets: string[]; chains: string[] } {
  const sets: string[] = [];
  const chains: string[] = [];
  for (const m of text.matchAll(REF_RE)) (m[0].startsWith('@') ? sets : chains).push(m[1]!);
  return { sets, chains };
}

function clone(t: NftTable): NftTable {
  return {
    chains: new Map([...t.chains].map(([k, c]) => [k, { ...c, rules: [...c.rules] }])),
    sets: new Map([...t.sets].map(([k, s]) => [k, { ...s, elements: new Map(s.elements) }])),
  };
}

export class FakeNftClient implements NftClient {
  table: NftTable | null = null;
  readonly transactions: NftTransaction[] = [];
  /** Packet/byte counters tests can set, keyed `chain|id`. */
  readonly counters = new Map<string, { packets: number; bytes: number }>();
  /** Makes the next run fail (tests of retry paths). */
  failNext: Error | undefined;

  async run(tx: NftTransaction): Promise<void> {
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = undefined;
      throw e;
    }
    let t = this.table ? clone(this.table) : null;
    for (const op of tx.ops) t = apply(t, op);
    this.table = t;
    this.transactions.push(tx);
  }

  async list(): Promise<KernelListing | null> {
    if (!this.table) return null;
    const t = clone(this.table);
    const counters = [...t.chains.values()].flatMap((c) => c.rules.map((r) => ({ chain: c.name, id: r.id, ...(this.counters.get(`${c.name}|${r.id}`) ?? { packets: 0, bytes: 0 }) })));
    return { table: t, counters };
  }

  dump(): string {
    return this.table ? renderTableText(this.table) : '';
  }
}

function apply(t: NftTable | null, op: NftOp): NftTable | null {
  if (op.op === 'add-table') return t ?? emptyTable();
  if (!t) throw new FakeNftError(`${op.op}: table does not exist`);
  const referenced = (kind: 'sets' | 'chains', name: string): string | undefined => {
    for (const c of t.chains.values()) for (const r of c.rules) if (refsOf(r.text)[kind].includes(name)) return `rule in chain ${c.name}`;
    if (kind === 'chains') for (const s of t.sets.values()) for (const v of s.elements.values()) if (refsOf(v).chains.includes(name)) return `element of map ${s.name}`;
    return undefined;
  };
  switch (op.op) {
    case 'delete-table':
      return null;
    case 'add-chain':
      if (!t.chains.has(op.chain.name)) t.chains.set(op.chain.name, { ...op.chain, rules: [] });
      return t;
    case 'flush-chain': {
      const c = t.chains.get(op.name);
      if (!c) throw new FakeNftError(`flush chain ${op.name}: no such chain`);
      c.rules = [];
      return t;
    }
    case 'delete-chain': {
      const c = t.chains.get(op.name);
      if (!c) throw new FakeNftError(`delete chain ${op.name}: no such chain`);
      if (c.rules.length) throw new FakeNftError(`delete chain ${op.name}: chain is not empty`);
      const by = referenced('chains', op.name);
      if (by) throw new FakeNftError(`delete chain ${op.name}: still referenced by ${by}`);
      t.chains.delete(op.name);
      return t;
    }
    case 'add-rule': {
      const c = t.chains.get(op.chain);
      if (!c) throw new FakeNftError(`add rule to chain ${op.chain}: no such chain`);
      const refs = refsOf(op.rule.text);
      for (const s of refs.sets) if (!t.sets.has(s)) throw new FakeNftError(`rule in ${op.chain} references missing set @${s}`);
      for (const ch of refs.chains) if (!t.chains.has(ch)) throw new FakeNftError(`rule in ${op.chain} jumps to missing chain ${ch}`);
      c.rules.push({ text: op.rule.text, id: op.rule.id });
      return t;
    }
    case 'add-set':
      if (t.sets.has(op.set.name)) throw new FakeNftError(`add set ${op.set.name}: exists already`);
      t.sets.set(op.set.name, { ...op.set, elements: new Map() });
      return t;
    case 'delete-set': {
      if (!t.sets.has(op.name)) throw new FakeNftError(`delete set ${op.name}: no such set`);
      const by = referenced('sets', op.name);
      if (by) throw new FakeNftError(`delete set ${op.name}: still referenced by ${by}`);
      t.sets.delete(op.name);
      return t;
    }
    case 'add-elements': {
      const s = t.sets.get(op.set);
      if (!s) throw new FakeNftError(`add element to ${op.set}: no such set`);
      for (const [k, v] of op.elements) {
        for (const ch of refsOf(v).chains) if (!t.chains.has(ch)) throw new FakeNftError(`element ${k} of map ${op.set} points to missing chain ${ch}`);
        if (s.interval) checkNoOverlap(s.elements, k, op.set);
        s.elements.set(k, v);
      }
      return t;
    }
    case 'delete-elements': {
      const s = t.sets.get(op.set);
      if (!s) throw new FakeNftError(`delete element from ${op.set}: no such set`);
      for (const k of op.keys) {
        if (!s.elements.delete(k)) throw new FakeNftError(`delete element ${k} from ${op.set}: no such element`);
      }
      return t;
    }
  }
}

/** Interval sets refuse overlapping elements (nft 1.0.6 without auto-merge); checked for IPv4 CIDRs. */
function checkNoOverlap(elements: Map<string, string>, key: string, set: string): void {
  const r = v4Range(key);
  if (!r) return;
  for (const k of elements.keys()) {
    const o = v4Range(k);
    if (o && o[0] <= r[1] && r[0] <= o[1] && k !== key) throw new FakeNftError(`add element ${key} to ${set}: overlaps ${k}`);
  }
}

function v4Range(k: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(k);
  if (!m) return undefined;
  const ip = ((+m[1]! << 24) >>> 0) + (+m[2]! << 16) + (+m[3]! << 8) + +m[4]!;
  const len = m[5] === undefined ? 32 : +m[5];
  const size = 2 ** (32 - len);
  return [ip, ip + size - 1];
}
