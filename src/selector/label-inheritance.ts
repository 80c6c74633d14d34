/**
 * Label inheritance (Felix's `label_inheritance_index.go`): an endpoint's effective labels are its
 * own labels plus those of its parents (profiles' `labelsToApply`). The endpoint's own labels win;
 * among parents, the one listed first wins.
 */

export type LabelSource = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

/** A fresh Map of a label map or plain object. */
export function toLabelMap(labels: LabelSource | undefined): Map<string, string> {
  if (labels === undefined) return new Map();
  if (labels instanceof Map) return new Map(labels);
  const out = new Map<string, string>();
  const record = labels as Readonly<Record<string, string>>;
  for (const k in record) if (Object.hasOwn(record, k)) out.set(k, record[k]!);
  return out;
}

/**
 * Effective labels of an item with `own` labels and the given parents' labels, in the item's
 * parent order (undefined for a parent that does not exist yet). Returns `own` itself when no
 * parent adds anything, so callers must not mutate the result.
 */
export function inheritLabels(
  own: ReadonlyMap<string, string>,
  parents: readonly (ReadonlyMap<string, string> | undefined)[],
): ReadonlyMap<string, string> {
  let out: Map<string, string> | undefined;
  for (const p of parents) {
    if (p === undefined) continue;
    for (const [k, v] of p) {
      if (own.has(k) || out?.has(k)) continue;
      out ??= new Map(own);
      out.set(k, v);
    }
  }
  return out ?? own;
}

/** True if both maps hold exactly the same labels. */
export function sameLabels(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
