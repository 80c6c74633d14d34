/**
 * Calico's selector language (public surface): parse a selector once, then evaluate it against
 * label sets, print its canonical form and unique ID, and read its label restrictions.
 * Pure: no I/O. The tokenizer, parser, tree, compiler and restrictions live beside this file;
 * the incremental selector-to-item matcher is label-index.ts.
 */
import { createHash } from 'node:crypto';
import { prefixLabels, renderCanonical, type SelectorNode } from './ast.js';
import { compile, type Evaluator, type LabelGetter } from './compile.js';
import { computeLabelRestrictions, type LabelRestriction } from './label-restrictions.js';
import { parseTree } from './parser.js';

export type { LabelGetter } from './compile.js';
export type { LabelRestriction } from './label-restrictions.js';
export { possibleToSatisfy } from './label-restrictions.js';
export { SelectorParseError } from './parse-error.js';
export type { SelectorNode } from './ast.js';
export { isValidLabel } from './tokenizer.js';

export interface Selector {
  /** Calico's canonical string (`Selector.String()`), e.g. `(a == "b" && has(c))`. */
  readonly canonical: string;
  /** `s:` + base64url-without-padding of SHA-224 of `s:` + canonical. */
  readonly uniqueId: string;
  evaluate(labels: LabelGetter): boolean;
  labelRestrictions(): ReadonlyMap<string, LabelRestriction>;
  /** A copy with every label name prefixed (used to build `pcns.`/`pcsa.` selectors). */
  withPrefix(prefix: string): Selector;
}

/** Calico's `hash.MakeUniqueID(prefix, content)`: `prefix:` + base64url(SHA-224(`prefix:` + content)), no padding. */
export function makeUniqueId(prefix: string, content: string): string {
  return `${prefix}:${createHash('sha224').update(`${prefix}:${content}`, 'utf8').digest('base64url')}`;
}

class ParsedSelector implements Selector {
  readonly canonical: string;
  private readonly evaluator: Evaluator;
  private id: string | undefined;
  private restrictions: ReadonlyMap<string, LabelRestriction> | undefined;

  constructor(readonly root: SelectorNode) {
    this.canonical = renderCanonical(root);
    this.evaluator = compile(root);
  }

  get uniqueId(): string {
    this.id ??= makeUniqueId('s', this.canonical);
    return this.id;
  }

  evaluate(labels: LabelGetter): boolean {
    return this.evaluator(labels);
  }

  labelRestrictions(): ReadonlyMap<string, LabelRestriction> {
    this.restrictions ??= computeLabelRestrictions(this.root);
    return this.restrictions;
  }

  withPrefix(prefix: string): Selector {
    return new ParsedSelector(prefixLabels(this.root, prefix));
  }

  toString(): string {
    return this.canonical;
  }
}

const CACHE_LIMIT = 10_000;
const cache = new Map<string, ParsedSelector>();

/** Parses a selector; throws SelectorParseError. The empty (or blank) selector is `all()`. */
export function parseSelector(input: string): Selector {
  let sel = cache.get(input);
  if (sel === undefined) {
    sel = new ParsedSelector(parseTree(input));
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(input, sel);
  }
  return sel;
}

/** The syntax tree of a parsed selector (for tools that walk it, e.g. to list the labels it uses). */
export function selectorTree(sel: Selector): SelectorNode {
  if (sel instanceof ParsedSelector) return sel.root;
  return parseTree(sel.canonical);
}

/** Calico's `selector.Normalise`: the canonical form, or the input unchanged if it does not parse. */
export function normaliseSelector(input: string): string {
  try {
    return parseSelector(input.trim()).canonical;
  } catch {
    return input;
  }
}

/** `all()`: matches everything. */
export const ALL_SELECTOR: Selector = new ParsedSelector({ kind: 'all' });
/** `!all()`: matches nothing. */
export const NO_MATCH_SELECTOR: Selector = new ParsedSelector({ kind: 'not', operand: { kind: 'all' } });
