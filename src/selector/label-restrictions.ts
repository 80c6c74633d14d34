import { compareCodePoints, type SelectorNode } from './ast.js';

/** Lower bound on the labels an item must carry to possibly match (used by the label index). */
export interface LabelRestriction {
  /** The label must be present for the selector to match. */
  mustBePresent: boolean;
  /** The label must be absent for the selector to match. */
  mustBeAbsent: boolean;
  /** If set, the label's value must be one of these (an empty array means unsatisfiable). */
  mustHaveOneOfValues?: readonly string[];
}

/** False when no label set can satisfy the restriction (present and absent, or no allowed value). */
export function possibleToSatisfy(r: LabelRestriction): boolean {
  if (r.mustBePresent && r.mustBeAbsent) return false;
  return !(r.mustHaveOneOfValues !== undefined && r.mustHaveOneOfValues.length === 0);
}

type Restrictions = Map<string, LabelRestriction>;

/**
 * Calico's `LabelRestrictions()` (parser/ast.go): `==` and `in` require presence and one of their
 * values; `has`, `contains`, `starts with`, `ends with` require presence; `!has` requires absence;
 * `!=`, `not in`, any other negation, `all()` and `global()` restrict nothing. `&&` merges (value
 * lists intersect); `||` keeps only what every branch restricts on the labels of its first branch
 * (value lists unite, and are dropped if any branch needs only presence). Values come out sorted.
 */
export function computeLabelRestrictions(node: SelectorNode): Restrictions {
  const out = restrictionsOf(node);
  for (const r of out.values()) {
    if (r.mustHaveOneOfValues) r.mustHaveOneOfValues = [...r.mustHaveOneOfValues].sort(compareCodePoints);
  }
  return out;
}

function restrictionsOf(node: SelectorNode): Restrictions {
  switch (node.kind) {
    case 'eq':
      return new Map([[node.label, { mustBePresent: true, mustBeAbsent: false, mustHaveOneOfValues: [node.value] }]]);
    case 'in':
      return new Map([[node.label, { mustBePresent: true, mustBeAbsent: false, mustHaveOneOfValues: [...node.values] }]]);
    case 'has':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return new Map([[node.label, { mustBePresent: true, mustBeAbsent: false }]]);
    case 'not':
      // Only !has(x) can be inverted: !(a == "b") does not require "a" to be absent.
      if (node.operand.kind === 'has') return new Map([[node.operand.label, { mustBePresent: false, mustBeAbsent: true }]]);
      return new Map();
    case 'and':
      return andRestrictions(node.operands);
    case 'or':
      return orRestrictions(node.operands);
    case 'ne':
    case 'notIn':
    case 'all':
    case 'global':
      return new Map();
  }
}

function andRestrictions(operands: readonly SelectorNode[]): Restrictions {
  const lr: Restrictions = new Map();
  for (const op of operands) {
    for (const [label, r] of restrictionsOf(op)) {
      const base = lr.get(label) ?? { mustBePresent: false, mustBeAbsent: false };
      const merged: LabelRestriction = {
        mustBePresent: base.mustBePresent || r.mustBePresent,
        mustBeAbsent: base.mustBeAbsent || r.mustBeAbsent,
      };
      if (base.mustHaveOneOfValues === undefined) {
        if (r.mustHaveOneOfValues !== undefined) merged.mustHaveOneOfValues = r.mustHaveOneOfValues;
      } else if (r.mustHaveOneOfValues !== undefined) {
        const allowed = new Set(r.mustHaveOneOfValues);
        merged.mustHaveOneOfValues = base.mustHaveOneOfValues.filter((v) => allowed.has(v));
      } else {
        merged.mustHaveOneOfValues = base.mustHaveOneOfValues;
      }
      lr.set(label, merged);
    }
  }
  return lr;
}

function orRestrictions(operands: readonly SelectorNode[]): Restrictions {
  const lr = restrictionsOf(operands[0]!);
  for (const op of operands.slice(1)) {
    const opLR = restrictionsOf(op);
    for (const [label, r] of [...lr]) {
      const opr = opLR.get(label) ?? { mustBePresent: false, mustBeAbsent: false };
      const merged: LabelRestriction = {
        mustBePresent: r.mustBePresent && opr.mustBePresent,
        mustBeAbsent: r.mustBeAbsent && opr.mustBeAbsent,
      };
      // Both sides limit the value: either list is good enough. One side only needs presence: no limit.
      if (merged.mustBePresent && r.mustHaveOneOfValues !== undefined && opr.mustHaveOneOfValues !== undefined) {
        const union = [...r.mustHaveOneOfValues];
        for (const v of opr.mustHaveOneOfValues) if (!union.includes(v)) union.push(v);
        merged.mustHaveOneOfValues = union;
      }
      if (merged.mustBePresent || merged.mustBeAbsent) lr.set(label, merged);
      else lr.delete(label);
    }
  }
  return lr;
}
