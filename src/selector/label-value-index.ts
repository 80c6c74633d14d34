/**
 * A multimap from (label name, label value) to a set of ids, with a per-label count. The label
 * index uses one for items (which items carry app=web) and one for selectors (which selectors
 * need app=web). Holds no matching logic.
 */
interface LabelEntry<T> {
  readonly values: Map<string, Set<T>>;
  /** Ids filed under this label over all its values. */
  count: number;
}

export class LabelValueIndex<T> {
  private readonly byLabel = new Map<string, LabelEntry<T>>();

  add(label: string, value: string, id: T): void {
    let entry = this.byLabel.get(label);
    if (entry === undefined) {
      entry = { values: new Map(), count: 0 };
      this.byLabel.set(label, entry);
    }
    let ids = entry.values.get(value);
    if (ids === undefined) {
      ids = new Set();
      entry.values.set(value, ids);
    }
    const before = ids.size;
    ids.add(id);
    entry.count += ids.size - before;
  }

  remove(label: string, value: string, id: T): void {
    const entry = this.byLabel.get(label);
    const ids = entry?.values.get(value);
    if (!entry || !ids || !ids.delete(id)) return;
    entry.count--;
    if (ids.size === 0) entry.values.delete(value);
    if (entry.values.size === 0) this.byLabel.delete(label);
  }

  /** The ids filed under label=value (live set: do not mutate). */
  get(label: string, value: string): ReadonlySet<T> | undefined {
    return this.byLabel.get(label)?.values.get(value);
  }

  /** Every id set filed under the label, whatever the value. */
  *setsForLabel(label: string): Iterable<ReadonlySet<T>> {
    const entry = this.byLabel.get(label);
    if (entry) yield* entry.values.values();
  }

  /** How many ids are filed under the label, over all its values. */
  countForLabel(label: string): number {
    return this.byLabel.get(label)?.count ?? 0;
  }

  /** How many ids are filed under label=value. */
  countFor(label: string, value: string): number {
    return this.get(label, value)?.size ?? 0;
  }
}
