import type { Selector } from './index.js';
import { possibleToSatisfy } from './label-restrictions.js';
import { inheritLabels, sameLabels, toLabelMap, type LabelSource } from './label-inheritance.js';
import { LabelValueIndex } from './label-value-index.js';

export interface LabelIndexCallbacks<S extends string = string, I extends string = string> {
  onMatchStarted(selectorId: S, itemId: I): void;
  onMatchStopped(selectorId: S, itemId: I): void;
}

/** Where a selector is filed so that an item update finds it only if it could care. */
type Placement =
  | { kind: 'values'; label: string; values: readonly string[] } // needs label=one of values
  | { kind: 'present'; label: string } // needs the label, any value
  | { kind: 'unoptimised' } // nothing known: evaluated against every item update
  | { kind: 'impossible' }; // can match nothing (e.g. a == "x" && a == "y")

interface SelectorEntry<S> {
  readonly id: S;
  selector: Selector;
  placement: Placement;
  /** How many items the index held when the placement was chosen (it is reviewed as they grow). */
  filedAtItems: number;
}

interface ItemEntry {
  own: ReadonlyMap<string, string>;
  parentIds: readonly string[];
  labels: ReadonlyMap<string, string>;
}

/**
 * Keeps, incrementally, which items (endpoints) match which selectors, and says so through
 * `onMatchStarted`/`onMatchStopped`, each fired only on a real transition. Items carry own labels
 * plus labels inherited from parents (profiles), see label-inheritance.ts.
 *
 * Each selector is filed under one label from its label restrictions (label=value, or label
 * presence; the choice with the fewest matching items), so an item update evaluates only the
 * selectors filed under the item's labels, the ones it matched before, and the few selectors with
 * no usable restriction. A selector update evaluates only the items carrying its filing label.
 * A parent update re-evaluates only that parent's items. A selector's filing is reviewed each time
 * the item count has doubled since it was chosen, so selectors added before the items end up filed
 * well. Does not parse selectors or know what an item or a selector stands for. Callbacks must not
 * call back into the index.
 */
export class LabelIndex<S extends string = string, I extends string = string> {
  private readonly selectors = new Map<S, SelectorEntry<S>>();
  private readonly selectorsByValue = new LabelValueIndex<SelectorEntry<S>>();
  private readonly selectorsByLabel = new Map<string, Set<SelectorEntry<S>>>();
  private readonly unoptimised = new Set<SelectorEntry<S>>();

  private readonly items = new Map<I, ItemEntry>();
  private readonly itemsByValue = new LabelValueIndex<I>();

  private readonly parents = new Map<string, ReadonlyMap<string, string>>();
  private readonly children = new Map<string, Set<I>>();

  private readonly itemsOfSelector = new Map<S, Set<I>>();
  private readonly selectorsOfItem = new Map<I, Set<S>>();

  constructor(private readonly callbacks: LabelIndexCallbacks<S, I>) {}

  /** Adds or replaces a selector and reports the resulting match changes. */
  updateSelector(id: S, selector: Selector): void {
    const old = this.selectors.get(id);
    if (old?.selector.canonical === selector.canonical) {
      old.selector = selector;
      return;
    }
    if (old) this.unfileSelector(old);
    const placement = this.choosePlacement(selector);
    const entry: SelectorEntry<S> = { id, selector, placement, filedAtItems: this.items.size };
    this.selectors.set(id, entry);
    this.fileSelector(entry);

    const before = this.itemsOfSelector.get(id);
    const after = new Set<I>();
    for (const itemId of this.candidateItems(placement)) {
      if (selector.evaluate(this.items.get(itemId)!.labels)) after.add(itemId);
    }
    if (after.size > 0) this.itemsOfSelector.set(id, after);
    else this.itemsOfSelector.delete(id);
    if (before) for (const itemId of before) if (!after.has(itemId)) this.unlink(id, itemId);
    for (const itemId of after) if (!before?.has(itemId)) this.link(id, itemId);
  }

  deleteSelector(id: S): void {
    const entry = this.selectors.get(id);
    if (!entry) return;
    this.unfileSelector(entry);
    this.selectors.delete(id);
    const before = this.itemsOfSelector.get(id);
    this.itemsOfSelector.delete(id);
    if (before) for (const itemId of before) this.unlink(id, itemId);
  }

  /** Adds or replaces an item with its own labels and its parents (first listed wins). */
  updateItem(id: I, labels: LabelSource, parentIds: readonly string[] = []): void {
    const own = toLabelMap(labels);
    const old = this.items.get(id);
    if (old) for (const p of old.parentIds) if (!parentIds.includes(p)) this.removeChild(p, id);
    for (const p of parentIds) {
      let set = this.children.get(p);
      if (!set) this.children.set(p, (set = new Set()));
      set.add(id);
    }
    const entry: ItemEntry = { own, parentIds: [...parentIds], labels: own };
    entry.labels = this.effective(entry);
    this.items.set(id, entry);
    this.relabel(id, old?.labels, entry.labels);
  }

  deleteItem(id: I): void {
    const old = this.items.get(id);
    if (!old) return;
    for (const p of old.parentIds) this.removeChild(p, id);
    this.items.delete(id);
    for (const [k, v] of old.labels) this.itemsByValue.remove(k, v, id);
    const before = this.selectorsOfItem.get(id);
    if (before) for (const selId of [...before]) this.unlink(selId, id);
  }

  /** Sets a parent's labels (e.g. a profile's labelsToApply); re-evaluates only its items. */
  updateParent(id: string, labels: LabelSource): void {
    const map = toLabelMap(labels);
    const old = this.parents.get(id);
    if (old && sameLabels(old, map)) return;
    this.parents.set(id, map);
    this.refreshChildren(id);
  }

  deleteParent(id: string): void {
    if (!this.parents.delete(id)) return;
    this.refreshChildren(id);
  }

  matchingItems(selectorId: S): Iterable<I> {
    return [...(this.itemsOfSelector.get(selectorId) ?? [])];
  }

  matchingSelectors(itemId: I): Iterable<S> {
    return [...(this.selectorsOfItem.get(itemId) ?? [])];
  }

  effectiveLabels(itemId: I): ReadonlyMap<string, string> | undefined {
    return this.items.get(itemId)?.labels;
  }

  private refreshChildren(parentId: string): void {
    const kids = this.children.get(parentId);
    if (!kids) return;
    for (const itemId of [...kids]) {
      const entry = this.items.get(itemId)!;
      const before = entry.labels;
      entry.labels = this.effective(entry);
      this.relabel(itemId, before, entry.labels);
    }
  }

  private effective(entry: ItemEntry): ReadonlyMap<string, string> {
    if (entry.parentIds.length === 0) return entry.own;
    return inheritLabels(entry.own, entry.parentIds.map((p) => this.parents.get(p)));
  }

  /** Moves an item from its old to its new effective labels and reports match changes. */
  private relabel(id: I, before: ReadonlyMap<string, string> | undefined, after: ReadonlyMap<string, string>): void {
    if (before && sameLabels(before, after)) return;
    if (before) for (const [k, v] of before) if (after.get(k) !== v) this.itemsByValue.remove(k, v, id);
    for (const [k, v] of after) if (before?.get(k) !== v) this.itemsByValue.add(k, v, id);

    // Each selector is filed once, and an item has one value per label: no candidate repeats.
    const now = new Set<S>();
    const stale: SelectorEntry<S>[] = [];
    const reviewBelow = (this.items.size - REVIEW_SLACK) / 2;
    this.evaluateAll(this.unoptimised, after, now, stale, reviewBelow);
    for (const [k, v] of after) {
      const byValue = this.selectorsByValue.get(k, v);
      if (byValue) this.evaluateAll(byValue, after, now, stale, reviewBelow);
      const byLabel = this.selectorsByLabel.get(k);
      if (byLabel) this.evaluateAll(byLabel, after, now, stale, reviewBelow);
    }
    const was = this.selectorsOfItem.get(id);
    if (was) for (const selId of [...was]) if (!now.has(selId)) this.unlink(selId, id);
    for (const selId of now) if (!was?.has(selId)) this.link(selId, id);
    for (const entry of stale) this.reviewPlacement(entry);
  }

  private evaluateAll(
    entries: ReadonlySet<SelectorEntry<S>>,
    labels: ReadonlyMap<string, string>,
    matched: Set<S>,
    stale: SelectorEntry<S>[],
    reviewBelow: number,
  ): void {
    for (const entry of entries) {
      if (entry.selector.evaluate(labels)) matched.add(entry.id);
      if (entry.filedAtItems < reviewBelow) stale.push(entry);
    }
  }

  /**
   * Re-chooses a selector's filing once the item population has at least doubled since it was
   * filed (a selector added before any item is filed on a guess). Matches do not change.
   */
  private reviewPlacement(entry: SelectorEntry<S>): void {
    entry.filedAtItems = this.items.size;
    const next = this.choosePlacement(entry.selector);
    if (samePlacement(next, entry.placement)) return;
    this.unfileSelector(entry);
    entry.placement = next;
    this.fileSelector(entry);
  }

  private link(selId: S, itemId: I): void {
    let items = this.itemsOfSelector.get(selId);
    if (!items) this.itemsOfSelector.set(selId, (items = new Set()));
    items.add(itemId);
    let sels = this.selectorsOfItem.get(itemId);
    if (!sels) this.selectorsOfItem.set(itemId, (sels = new Set()));
    if (sels.has(selId)) return;
    sels.add(selId);
    this.callbacks.onMatchStarted(selId, itemId);
  }

  private unlink(selId: S, itemId: I): void {
    const items = this.itemsOfSelector.get(selId);
    if (items) {
      items.delete(itemId);
      if (items.size === 0) this.itemsOfSelector.delete(selId);
    }
    const sels = this.selectorsOfItem.get(itemId);
    if (!sels || !sels.delete(selId)) return;
    if (sels.size === 0) this.selectorsOfItem.delete(itemId);
    this.callbacks.onMatchStopped(selId, itemId);
  }

  private removeChild(parentId: string, itemId: I): void {
    const set = this.children.get(parentId);
    if (!set) return;
    set.delete(itemId);
    if (set.size === 0) this.children.delete(parentId);
  }

  /** Picks the restriction that narrows the items most (ties: value lists before presence). */
  private choosePlacement(selector: Selector): Placement {
    let best: Placement = { kind: 'unoptimised' };
    let bestCost = Infinity;
    for (const [label, r] of selector.labelRestrictions()) {
      if (!possibleToSatisfy(r)) return { kind: 'impossible' };
      if (!r.mustBePresent) continue;
      if (r.mustHaveOneOfValues) {
        let cost = 0;
        for (const v of r.mustHaveOneOfValues) cost += this.itemsByValue.countFor(label, v);
        if (cost < bestCost || (cost === bestCost && best.kind !== 'values')) {
          best = { kind: 'values', label, values: r.mustHaveOneOfValues };
          bestCost = cost;
        }
      } else {
        const cost = this.itemsByValue.countForLabel(label);
        if (cost < bestCost) {
          best = { kind: 'present', label };
          bestCost = cost;
        }
      }
    }
    return best;
  }

  private *candidateItems(p: Placement): Iterable<I> {
    switch (p.kind) {
      case 'values':
        for (const v of p.values) yield* this.itemsByValue.get(p.label, v) ?? [];
        return;
      case 'present':
        for (const set of this.itemsByValue.setsForLabel(p.label)) yield* set;
        return;
      case 'unoptimised':
        yield* this.items.keys();
        return;
      case 'impossible':
        return;
    }
  }

  private fileSelector(entry: SelectorEntry<S>): void {
    const p = entry.placement;
    if (p.kind === 'values') for (const v of p.values) this.selectorsByValue.add(p.label, v, entry);
    else if (p.kind === 'present') {
      let set = this.selectorsByLabel.get(p.label);
      if (!set) this.selectorsByLabel.set(p.label, (set = new Set()));
      set.add(entry);
    } else if (p.kind === 'unoptimised') this.unoptimised.add(entry);
  }

  private unfileSelector(entry: SelectorEntry<S>): void {
    const p = entry.placement;
    if (p.kind === 'values') for (const v of p.values) this.selectorsByValue.remove(p.label, v, entry);
    else if (p.kind === 'present') {
      const set = this.selectorsByLabel.get(p.label);
      set?.delete(entry);
      if (set?.size === 0) this.selectorsByLabel.delete(p.label);
    } else if (p.kind === 'unoptimised') this.unoptimised.delete(entry);
  }
}

/** Items added before a selector's filing is first reviewed (avoids churn while the index is small). */
const REVIEW_SLACK = 64;

function samePlacement(a: Placement, b: Placement): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'values' && b.kind === 'values') return a.label === b.label && a.values === b.values;
  if (a.kind === 'present' && b.kind === 'present') return a.label === b.label;
  return true;
}
