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

interface SelectorEntry<S, I> {
  readonly id: S;
  selector: Selector;
  placement: Placement;
  /** How many items the index held when the placement was chosen (it is reviewed as they grow). */
  filedAtItems: number;
  readonly items: Set<ItemEntry<S, I>>;
}

interface ItemEntry<S, I> {
  readonly id: I;
  own: ReadonlyMap<string, string>;
  parentIds: readonly string[];
  labels: ReadonlyMap<string, string>;
  readonly selectors: Set<SelectorEntry<S, I>>;
}

/** Items added before a selector's filing is first reviewed (avoids churn while the index is small). */
const REVIEW_SLACK = 64;

/**
 * Keeps, incrementally, which items (endpoints) match which selectors, and says so through
 * `onMatchStarted`/`onMatchStopped`, each fired only on a real transition. Items carry own labels
 * plus labels inherited from parents (profiles), see label-inheritance.ts.
 *
 * Each selector is filed under one label from its label restrictions (label=value, or label
 * presence; the choice with the fewest matching items), so an item update evaluates only the
 * selectors filed under the item's labels (which include every selector it matched before) and
 * the few selectors with no usable restriction. A selector update evaluates only the items
 * carrying its filing label. A parent update re-evaluates only that parent's items. A selector's
 * filing is reviewed each time the item count has doubled since it was chosen, so selectors added
 * before the items end up filed well. Does not parse selectors or know what an item or a selector
 * stands for. Callbacks must not call back into the index.
 */
export class LabelIndex<S extends string = string, I extends string = string> {
  private readonly selectors = new Map<S, SelectorEntry<S, I>>();
  private readonly selectorsByValue = new LabelValueIndex<SelectorEntry<S, I>>();
  private readonly selectorsByLabel = new Map<string, Set<SelectorEntry<S, I>>>();
  private readonly unoptimised = new Set<SelectorEntry<S, I>>();

  private readonly items = new Map<I, ItemEntry<S, I>>();
  private readonly itemsByValue = new LabelValueIndex<ItemEntry<S, I>>();

  private readonly parents = new Map<string, ReadonlyMap<string, string>>();
  private readonly children = new Map<string, Set<ItemEntry<S, I>>>();

  constructor(private readonly callbacks: LabelIndexCallbacks<S, I>) {}

  /** Adds or replaces a selector and reports the resulting match changes. */
  updateSelector(id: S, selector: Selector): void {
    let entry = this.selectors.get(id);
    if (entry?.selector.canonical === selector.canonical) {
      entry.selector = selector;
      return;
    }
    if (entry) {
      this.unfileSelector(entry);
      entry.selector = selector;
      entry.placement = this.choosePlacement(selector);
      entry.filedAtItems = this.items.size;
    } else {
      entry = { id, selector, placement: this.choosePlacement(selector), filedAtItems: this.items.size, items: new Set() };
      this.selectors.set(id, entry);
    }
    this.fileSelector(entry);

    const now = new Set<ItemEntry<S, I>>();
    for (const item of this.candidateItems(entry.placement)) if (selector.evaluate(item.labels)) now.add(item);
    for (const item of entry.items) if (!now.has(item)) this.unlink(entry, item);
    for (const item of now) this.link(entry, item);
  }

  deleteSelector(id: S): void {
    const entry = this.selectors.get(id);
    if (!entry) return;
    this.unfileSelector(entry);
    this.selectors.delete(id);
    for (const item of entry.items) this.unlink(entry, item);
  }

  /** Adds or replaces an item with its own labels and its parents (first listed wins). */
  updateItem(id: I, labels: LabelSource, parentIds: readonly string[] = []): void {
    let item = this.items.get(id);
    const before = item?.labels;
    if (item) {
      for (const p of item.parentIds) if (!parentIds.includes(p)) this.removeChild(p, item);
      item.own = toLabelMap(labels);
      item.parentIds = [...parentIds];
    } else {
      const own = toLabelMap(labels);
      item = { id, own, parentIds: [...parentIds], labels: own, selectors: new Set() };
      this.items.set(id, item);
    }
    for (const p of parentIds) {
      let set = this.children.get(p);
      if (!set) this.children.set(p, (set = new Set()));
      set.add(item);
    }
    item.labels = this.effective(item);
    this.relabel(item, before);
  }

  deleteItem(id: I): void {
    const item = this.items.get(id);
    if (!item) return;
    for (const p of item.parentIds) this.removeChild(p, item);
    this.items.delete(id);
    for (const [k, v] of item.labels) this.itemsByValue.remove(k, v, item);
    for (const sel of item.selectors) this.unlink(sel, item);
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

  /** The items a selector matches now (a copy: safe to hold while the index changes). */
  matchingItems(selectorId: S): Iterable<I> {
    return [...(this.selectors.get(selectorId)?.items ?? [])].map((item) => item.id);
  }

  /** The selectors an item matches now (a copy). */
  matchingSelectors(itemId: I): Iterable<S> {
    return [...(this.items.get(itemId)?.selectors ?? [])].map((sel) => sel.id);
  }

  /** Own labels merged with inherited ones, as matched; undefined for an unknown item. */
  effectiveLabels(itemId: I): ReadonlyMap<string, string> | undefined {
    return this.items.get(itemId)?.labels;
  }

  private refreshChildren(parentId: string): void {
    const kids = this.children.get(parentId);
    if (!kids) return;
    for (const item of [...kids]) {
      const before = item.labels;
      item.labels = this.effective(item);
      this.relabel(item, before);
    }
  }

  private effective(item: ItemEntry<S, I>): ReadonlyMap<string, string> {
    if (item.parentIds.length === 0) return item.own;
    return inheritLabels(item.own, item.parentIds.map((p) => this.parents.get(p)));
  }

  /** Moves an item from its old to its new effective labels and reports match changes. */
  private relabel(item: ItemEntry<S, I>, before: ReadonlyMap<string, string> | undefined): void {
    const after = item.labels;
    if (before && sameLabels(before, after)) return;
    if (before) for (const [k, v] of before) if (after.get(k) !== v) this.itemsByValue.remove(k, v, item);
    for (const [k, v] of after) if (before?.get(k) !== v) this.itemsByValue.add(k, v, item);

    // Each selector is filed once and an item has one value per label, so no candidate repeats.
    // A selector matched before that is no candidate now cannot match: it lacks its filing label.
    const now = new Set<SelectorEntry<S, I>>();
    const stale: SelectorEntry<S, I>[] = [];
    const reviewBelow = (this.items.size - REVIEW_SLACK) / 2;
    this.evaluateAll(this.unoptimised, after, now, stale, reviewBelow);
    for (const [k, v] of after) {
      const byValue = this.selectorsByValue.get(k, v);
      if (byValue) this.evaluateAll(byValue, after, now, stale, reviewBelow);
      const byLabel = this.selectorsByLabel.get(k);
      if (byLabel) this.evaluateAll(byLabel, after, now, stale, reviewBelow);
    }
    for (const sel of item.selectors) if (!now.has(sel)) this.unlink(sel, item);
    for (const sel of now) this.link(sel, item);
    for (const sel of stale) this.reviewPlacement(sel);
  }

  private evaluateAll(
    entries: ReadonlySet<SelectorEntry<S, I>>,
    labels: ReadonlyMap<string, string>,
    matched: Set<SelectorEntry<S, I>>,
    stale: SelectorEntry<S, I>[],
    reviewBelow: number,
  ): void {
    for (const entry of entries) {
      if (entry.selector.evaluate(labels)) matched.add(entry);
      if (entry.filedAtItems < reviewBelow) stale.push(entry);
    }
  }

  /**
   * Re-chooses a selector's filing once the item population has at least doubled since it was
   * filed (a selector added before any item is filed on a guess). Matches do not change.
   */
  private reviewPlacement(entry: SelectorEntry<S, I>): void {
    entry.filedAtItems = this.items.size;
    const next = this.choosePlacement(entry.selector);
    if (samePlacement(next, entry.placement)) return;
    this.unfileSelector(entry);
    entry.placement = next;
    this.fileSelector(entry);
  }

  private link(sel: SelectorEntry<S, I>, item: ItemEntry<S, I>): void {
    if (item.selectors.has(sel)) return;
    item.selectors.add(sel);
    sel.items.add(item);
    this.callbacks.onMatchStarted(sel.id, item.id);
  }

  /** Safe while iterating either side's set: deleting the current element of a Set is allowed. */
  private unlink(sel: SelectorEntry<S, I>, item: ItemEntry<S, I>): void {
    if (!item.selectors.delete(sel)) return;
    sel.items.delete(item);
    this.callbacks.onMatchStopped(sel.id, item.id);
  }

  private removeChild(parentId: string, item: ItemEntry<S, I>): void {
    const set = this.children.get(parentId);
    if (!set) return;
    set.delete(item);
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

  private *candidateItems(p: Placement): Iterable<ItemEntry<S, I>> {
    switch (p.kind) {
      case 'values':
        for (const v of p.values) yield* this.itemsByValue.get(p.label, v) ?? [];
        return;
      case 'present':
        for (const set of this.itemsByValue.setsForLabel(p.label)) yield* set;
        return;
      case 'unoptimised':
        yield* this.items.values();
        return;
      case 'impossible':
        return;
    }
  }

  private fileSelector(entry: SelectorEntry<S, I>): void {
    const p = entry.placement;
    if (p.kind === 'values') for (const v of p.values) this.selectorsByValue.add(p.label, v, entry);
    else if (p.kind === 'present') {
      let set = this.selectorsByLabel.get(p.label);
      if (!set) this.selectorsByLabel.set(p.label, (set = new Set()));
      set.add(entry);
    } else if (p.kind === 'unoptimised') this.unoptimised.add(entry);
  }

  private unfileSelector(entry: SelectorEntry<S, I>): void {
    const p = entry.placement;
    if (p.kind === 'values') for (const v of p.values) this.selectorsByValue.remove(p.label, v, entry);
    else if (p.kind === 'present') {
      const set = this.selectorsByLabel.get(p.label);
      set?.delete(entry);
      if (set?.size === 0) this.selectorsByLabel.delete(p.label);
    } else if (p.kind === 'unoptimised') this.unoptimised.delete(entry);
  }
}

function samePlacement(a: Placement, b: Placement): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'values' && b.kind === 'values') return a.label === b.label && a.values === b.values;
  if (a.kind === 'present' && b.kind === 'present') return a.label === b.label;
  return true;
}
