/**
 * Calico's selector language (public surface). PLACEHOLDER: the selector issue replaces the bodies;
 * the signatures are the contract other modules code against.
 */

/** Anything labels can be read from: a Map, or a merged view of own + inherited labels. */
export interface LabelGetter {
  get(key: string): string | undefined;
}

/** Lower bound on the labels an item must carry to possibly match (used by the label index). */
export interface LabelRestriction {
  /** The label must be present for the selector to match. */
  mustBePresent: boolean;
  /** The label must be absent for the selector to match. */
  mustBeAbsent: boolean;
  /** If set, the label's value must be one of these (an empty array means unsatisfiable). */
  mustHaveOneOfValues?: readonly string[];
}

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

export class SelectorParseError extends Error {
  /** 0-based character offset of the problem in the input. */
  readonly position: number;
  readonly input: string;
  constructor(message: string, input: string, position: number) {
    super(message);
    this.name = 'SelectorParseError';
    this.input = input;
    this.position = position;
  }
}

/** Parses a selector; throws SelectorParseError. The empty (or blank) selector is `all()`. */
export function parseSelector(_input: string): Selector {
  throw new Error('selector parser not implemented yet');
}
