/**
 * A multimap from (label name, label value) to a set of ids, with a per-label count. The label
 * index uses one for items (which items carry app=web) and one for selectors (which selectors
 * need app=web). Holds no matching logic.
 */
export class LabelValueIndex<T> {
  private readonly byLabel = new Map<string, Map<string, Set<T>>>();
  private readonly counts = new Map<string, number>();

  add(label: string, value: string, id: T): void {
    let values = this.byLabel.get(label);
    if (values === undefined) {
      values = new Map();
      this.byLabel.set(label, values);
    }
    let ids = values.get(value);
    if (ids === undefined) {
      ids = new Set();
      values.set(value, ids);
    }
    if (ids.has(id)) return;
    ids.add(id);
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }

  remove(label: string, value: string, id: T): void {
    const values = this.byLabel.get(label);
    const ids = values?.get(value);
    if (!values || !ids || !ids.delete(id)) return;
    if (ids.size === 0) values.delete(value);
    if (values.size === 0) this.byLabel.delete(label);
    const n = (this.counts.get(label) ?? 1) - 1;
    if (n === 0) this.counts.delete(label);
    else this.counts.set(label, n);
  }

  /** The ids filed under label=value (live set: do not mutate). */
  get(label: string, value: string): ReadonlySet<T> | undefined {
    return this.byLabel.get(label)?.get(value);
  }

  /** Every id set filed under the label, whatever the value. */
  *setsForLabel(label: string): Iterable<ReadonlySet<T>> {
    const values = this.byLabel.get(label);
    if (values) yield* values.values();
  }

  /** How many ids are filed under the label, over all its values. */
  countForLabel(label: string): number {
    return this.counts.get(label) ?? 0;
  }

  /** How many ids are filed under label=value. */
  countFor(label: string, value: string): number {
    return this.get(label, value)?.size ?? 0;
  }
}
