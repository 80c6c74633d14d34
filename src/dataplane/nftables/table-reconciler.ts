/**
 * Keeps the desired contents of Brindle's table and what the kernel is believed to hold, and turns
 * the difference into one transaction (Felix's `generictables.Table` / knftables usage). Managers
 * set whole chains and sets and add/remove single elements; each marks only what it touched
 * dirty, so building a transaction costs what changed, never the size of the table. No I/O: the
 * driver runs the transaction and then calls `committed()`; after a failure or a kernel read-back
 * it calls `resync(observed)`, which makes the next transaction repair every difference.
 *
 * Transaction order (references must exist when a command runs): table → new sets and chains
 * (empty) → element removals and additions → changed chains (flush + rules) → stale chains
 * flushed, then deleted → stale sets deleted.
 */
import { emptyTable, sameRules, sameSetShape, type NftChain, type NftSet, type NftTable } from './model.js';
import { NftTransaction } from './transaction.js';

export class TableReconciler {
  readonly desired: NftTable = emptyTable();
  private applied: NftTable = emptyTable();
  private readonly dirtyChains = new Set<string>();
  private readonly dirtySets = new Set<string>();
  /** Per set whose declaration did not change: element keys to compare. */
  private readonly dirtyElements = new Map<string, Set<string>>();
  private tableKnown = false;
  /** What the last built transaction makes the kernel hold (committed() makes it `applied`). */
  private pending: { chains: Map<string, NftChain | null>; sets: Map<string, NftSet | null>; elements: Map<string, Map<string, string | undefined>> } | undefined;

  setChain(chain: NftChain): void {
    this.desired.chains.set(chain.name, chain);
    this.dirtyChains.add(chain.name);
  }

  deleteChain(name: string): void {
    if (this.desired.chains.delete(name)) this.dirtyChains.add(name);
  }

  hasChain(name: string): boolean {
    return this.desired.chains.has(name);
  }

  /** Declares a set (its elements replace any desired before). */
  setSet(set: NftSet): void {
    this.desired.sets.set(set.name, set);
    this.dirtySets.add(set.name);
  }

  deleteSet(name: string): void {
    if (this.desired.sets.delete(name)) this.dirtySets.add(name);
  }

  hasSet(name: string): boolean {
    return this.desired.sets.has(name);
  }

  addElement(set: string, key: string, value = ''): void {
    const s = this.desired.sets.get(set);
    if (!s) throw new Error(`element ${key} added to set ${set}, which is not declared`);
    s.elements.set(key, value);
    this.markElement(set, key);
  }

  removeElement(set: string, key: string): void {
    const s = this.desired.sets.get(set);
    if (s?.elements.delete(key)) this.markElement(set, key);
  }

  private markElement(set: string, key: string): void {
    let keys = this.dirtyElements.get(set);
    if (!keys) this.dirtyElements.set(set, (keys = new Set()));
    keys.add(key);
  }

  get isDirty(): boolean {
    return !this.tableKnown || this.dirtyChains.size > 0 || this.dirtySets.size > 0 || this.dirtyElements.size > 0;
  }

  /** What the kernel really holds (from a read-back): everything is compared on the next build. */
  resync(observed: NftTable | null): void {
    this.applied = observed ?? emptyTable();
    this.tableKnown = observed !== null;
    this.pending = undefined;
    for (const n of new Set([...this.desired.chains.keys(), ...this.applied.chains.keys()])) this.dirtyChains.add(n);
    for (const n of new Set([...this.desired.sets.keys(), ...this.applied.sets.keys()])) this.dirtySets.add(n);
  }

  /** The transaction that makes the kernel match the desired state (empty when it already does). */
  build(): NftTransaction {
    const tx = new NftTransaction();
    const a = this.applied;
    const d = this.desired;
    if (!this.tableKnown) tx.add({ op: 'add-table' });
    const setChanges: { name: string; want?: NftSet; have?: NftSet }[] = [];
    for (const name of this.dirtySets) setChanges.push({ name, want: d.sets.get(name), have: a.sets.get(name) });
    // 1. New sets (or sets whose type changed: recreated) and new chains, empty.
    for (const c of setChanges) {
      if (c.want && (!c.have || !sameSetShape(c.want, c.have))) {
        if (c.have) tx.add({ op: 'delete-set', name: c.name, map: !!c.have.map });
        tx.add({ op: 'add-set', set: { name: c.name, type: c.want.type, ...(c.want.interval ? { interval: true } : {}), ...(c.want.map ? { map: true } : {}) } });
      }
    }
    for (const name of this.dirtyChains) {
      const want = d.chains.get(name);
      if (want && !a.chains.has(name)) tx.add({ op: 'add-chain', chain: { name, ...(want.base ? { base: want.base } : {}), ...(want.comment ? { comment: want.comment } : {}) } });
    }
    // 2. Elements.
    for (const c of setChanges) {
      if (!c.want) continue;
      const fresh = !c.have || !sameSetShape(c.want, c.have);
      const have = fresh ? new Map<string, string>() : c.have!.elements;
      this.diffElements(tx, c.want, have, [...new Set([...c.want.elements.keys(), ...have.keys()])]);
    }
    for (const [name, keys] of this.dirtyElements) {
      if (this.dirtySets.has(name)) continue;
      const want = d.sets.get(name);
      const have = a.sets.get(name);
      if (want && have) this.diffElements(tx, want, have.elements, [...keys]);
    }
    // 3. Changed chains.
    for (const name of this.dirtyChains) {
      const want = d.chains.get(name);
      if (!want) continue;
      const have = a.chains.get(name);
      if (have && sameRules(want, have)) continue;
      if (have && have.rules.length > 0) tx.add({ op: 'flush-chain', name });
      for (const r of want.rules) tx.add({ op: 'add-rule', chain: name, rule: { text: r.text, id: r.id } });
    }
    // 4. Stale chains: flush all first (they may jump to each other), then delete.
    const stale = [...this.dirtyChains].filter((n) => !d.chains.has(n) && a.chains.has(n));
    for (const name of stale) if (a.chains.get(name)!.rules.length > 0) tx.add({ op: 'flush-chain', name });
    for (const name of stale) tx.add({ op: 'delete-chain', name });
    // 5. Stale sets.
    for (const c of setChanges) if (!c.want && c.have) tx.add({ op: 'delete-set', name: c.name, map: !!c.have.map });
    // What the kernel holds once this runs: captured now, because managers may change the desired
    // state while the transaction is in flight (those changes stay dirty for the next one).
    const pending: NonNullable<TableReconciler['pending']> = { chains: new Map(), sets: new Map(), elements: new Map() };
    for (const name of this.dirtyChains) pending.chains.set(name, d.chains.get(name) ?? null);
    for (const name of this.dirtySets) {
      const s = d.sets.get(name);
      pending.sets.set(name, s ? { ...s, elements: new Map(s.elements) } : null);
    }
    for (const [name, keys] of this.dirtyElements) {
      if (this.dirtySets.has(name)) continue;
      const s = d.sets.get(name);
      if (!s) continue;
      pending.elements.set(name, new Map([...keys].map((k) => [k, s.elements.get(k)])));
    }
    this.pending = pending;
    this.dirtyChains.clear();
    this.dirtySets.clear();
    this.dirtyElements.clear();
    return tx;
  }

  private diffElements(tx: NftTransaction, want: NftSet, have: Map<string, string>, keys: string[]): void {
    const remove: string[] = [];
    const add: [string, string][] = [];
    for (const k of keys) {
      const w = want.elements.get(k);
      const h = have.get(k);
      if (w === h) continue;
      if (h !== undefined) remove.push(k);
      if (w !== undefined) add.push([k, w]);
    }
    if (remove.length) tx.add({ op: 'delete-elements', set: want.name, ...(want.map ? { map: true } : {}), keys: remove });
    if (add.length) tx.add({ op: 'add-elements', set: want.name, ...(want.map ? { map: true } : {}), elements: add });
  }

  /** The last built transaction was applied: the kernel now holds what it said. */
  committed(): void {
    const p = this.pending;
    this.pending = undefined;
    if (!p) return;
    const a = this.applied;
    for (const [name, c] of p.chains) {
      if (c) a.chains.set(name, c);
      else a.chains.delete(name);
    }
    for (const [name, s] of p.sets) {
      if (s) a.sets.set(name, s);
      else a.sets.delete(name);
    }
    for (const [name, els] of p.elements) {
      const have = a.sets.get(name);
      if (!have) continue;
      for (const [k, v] of els) {
        if (v === undefined) have.elements.delete(k);
        else have.elements.set(k, v);
      }
    }
    this.tableKnown = true;
  }

  /** The last built transaction failed: forget it (the driver re-reads the kernel with resync()). */
  failed(): void {
    if (!this.pending) return;
    for (const n of this.pending.chains.keys()) this.dirtyChains.add(n);
    for (const n of this.pending.sets.keys()) this.dirtySets.add(n);
    for (const [n, els] of this.pending.elements) for (const k of els.keys()) this.markElement(n, k);
    this.pending = undefined;
  }

  /**
   * Compares a kernel read-back with what was last committed (not with the desired state, which
   * may hold changes not applied yet); returns what differs (for drift metrics/logs).
   */
  drift(observed: NftTable): string[] {
    const out: string[] = [];
    const d = this.applied;
    for (const [name, c] of d.chains) {
      const o = observed.chains.get(name);
      if (!o) out.push(`chain ${name} missing`);
      else if (!sameRules(c, o)) out.push(`chain ${name} rules differ`);
    }
    for (const name of observed.chains.keys()) if (!d.chains.has(name)) out.push(`chain ${name} unexpected`);
    for (const [name, s] of d.sets) {
      const o = observed.sets.get(name);
      if (!o) {
        out.push(`set ${name} missing`);
        continue;
      }
      if (!sameSetShape(s, o)) out.push(`set ${name} type differs`);
      else if (o.elements.size !== s.elements.size || [...s.elements].some(([k, v]) => o.elements.get(k) !== v)) out.push(`set ${name} elements differ`);
    }
    for (const name of observed.sets.keys()) if (!d.sets.has(name)) out.push(`set ${name} unexpected`);
    return out;
  }
}
