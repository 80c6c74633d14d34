import { SelectorParseError } from './parse-error.js';

/**
 * Calico's selector tokenizer (libcalico-go `selector/tokenizer`), with the position of every
 * token. Whitespace is space and tab only. Operators that are words (`contains`, `starts with`,
 * `ends with`, `in`, `not in`) are recognised only straight after a label, so a label may itself be
 * called `contains` or `in`. Strings have no escapes: a string runs to the next identical quote.
 * Does not build a tree: see parser.ts.
 */

export enum TokenKind {
  Label = 'label',
  String = 'string',
  LBrace = '{',
  RBrace = '}',
  Comma = ',',
  Eq = '==',
  Ne = '!=',
  In = 'in',
  Not = '!',
  NotIn = 'not in',
  Contains = 'contains',
  StartsWith = 'starts with',
  EndsWith = 'ends with',
  All = 'all()',
  Has = 'has()',
  LParen = '(',
  RParen = ')',
  And = '&&',
  Or = '||',
  Global = 'global()',
  EOF = 'end of selector',
}

export interface Token {
  kind: TokenKind;
  /** Label name (Label, Has) or string contents (String). */
  value?: string;
  /** Offset of the token's first character in the input. */
  pos: number;
}

export const MAX_LABEL_LENGTH = 512;

export function isIdentifierChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || // a-z
    (c >= 65 && c <= 90) || // A-Z
    (c >= 48 && c <= 57) || // 0-9
    c === 95 || c === 46 || c === 47 || c === 45 // _ . / -
  );
}

/** True if `label` is a whole, valid label name (1–512 of `[a-zA-Z0-9_./-]`). */
export function isValidLabel(label: string): boolean {
  if (label.length === 0 || label.length > MAX_LABEL_LENGTH) return false;
  for (let i = 0; i < label.length; i++) if (!isIdentifierChar(label.charCodeAt(i))) return false;
  return true;
}

/** Splits a selector into tokens ending with an EOF token; throws SelectorParseError. */
export function tokenize(input: string): Token[] {
  return new Tokenizer(input).run();
}

class Tokenizer {
  private i = 0;
  private readonly tokens: Token[] = [];

  constructor(private readonly input: string) {}

  run(): Token[] {
    const s = this.input;
    for (;;) {
      this.skipWhitespace();
      const start = this.i;
      if (start >= s.length) {
        this.tokens.push({ kind: TokenKind.EOF, pos: s.length });
        return this.tokens;
      }
      const c = s[start]!;
      switch (c) {
        case '(': this.punct(TokenKind.LParen, 1); break;
        case ')': this.punct(TokenKind.RParen, 1); break;
        case '{': this.punct(TokenKind.LBrace, 1); break;
        case '}': this.punct(TokenKind.RBrace, 1); break;
        case ',': this.punct(TokenKind.Comma, 1); break;
        case '"':
        case "'": {
          const end = s.indexOf(c, start + 1);
          if (end < 0) this.fail(`unterminated string: no closing ${c} for the string starting here`, start);
          this.tokens.push({ kind: TokenKind.String, value: s.slice(start + 1, end), pos: start });
          this.i = end + 1;
          break;
        }
        case '=':
          if (s[start + 1] !== '=') this.fail('expected == (a single = is not an operator)', start);
          this.punct(TokenKind.Eq, 2);
          break;
        case '!':
          if (s[start + 1] === '=') this.punct(TokenKind.Ne, 2);
          else this.punct(TokenKind.Not, 1);
          break;
        case '&':
          if (s[start + 1] !== '&') this.fail('expected && (a single & is not an operator)', start);
          this.punct(TokenKind.And, 2);
          break;
        case '|':
          if (s[start + 1] !== '|') this.fail('expected || (a single | is not an operator)', start);
          this.punct(TokenKind.Or, 2);
          break;
        default:
          this.word(start);
      }
    }
  }

  private word(start: number): void {
    const last = this.tokens[this.tokens.length - 1];
    if (last?.kind === TokenKind.Label) {
      const op =
        this.cutWords(['contains'], TokenKind.Contains) ??
        this.cutWords(['starts', 'with'], TokenKind.StartsWith) ??
        this.cutWords(['ends', 'with'], TokenKind.EndsWith) ??
        this.cutWords(['not', 'in'], TokenKind.NotIn) ??
        this.cutWords(['in'], TokenKind.In);
      if (op === undefined) this.fail(`expected operator after label ${JSON.stringify(last.value)}`, start);
      this.tokens.push({ kind: op, pos: start });
      return;
    }
    if (this.input.startsWith('has(', start)) {
      this.i = start + 4;
      this.skipWhitespace();
      const label = this.identifier();
      this.skipWhitespace();
      if (this.input[this.i] !== ')') this.fail("no closing ')' after has(", this.i);
      this.i++;
      this.tokens.push({ kind: TokenKind.Has, value: label, pos: start });
      return;
    }
    for (const [word, kind] of [['all(', TokenKind.All], ['global(', TokenKind.Global]] as const) {
      if (this.input.startsWith(word, start)) {
        this.i = start + word.length;
        this.skipWhitespace();
        if (this.input[this.i] !== ')') this.fail(`no closing ')' after ${word}`, this.i);
        this.i++;
        this.tokens.push({ kind, pos: start });
        return;
      }
    }
    const label = this.identifier();
    this.tokens.push({ kind: TokenKind.Label, value: label, pos: start });
  }

  /**
   * Matches `words` at the cursor, whitespace allowed (not required) between them, then requires a
   * word boundary after the last one. For a multi-word operator Calico skips the whitespace after
   * the last word before that check (so `a not in x` fails); for a one-word operator it does not.
   */
  private cutWords(words: readonly string[], kind: TokenKind): TokenKind | undefined {
    let j = this.i;
    for (const w of words) {
      if (!this.input.startsWith(w, j)) return undefined;
      j += w.length;
      if (words.length > 1) while (j < this.input.length && (this.input[j] === ' ' || this.input[j] === '\t')) j++;
    }
    if (j < this.input.length && isIdentifierChar(this.input.charCodeAt(j))) return undefined;
    this.i = j;
    return kind;
  }

  private identifier(): string {
    const start = this.i;
    const s = this.input;
    let j = start;
    while (j < s.length && isIdentifierChar(s.charCodeAt(j))) j++;
    if (j === start) {
      const what = start < s.length ? `unexpected character ${JSON.stringify(s[start])}` : 'unexpected end of selector';
      this.fail(`expected identifier (label name): ${what}`, start);
    }
    if (j - start > MAX_LABEL_LENGTH) this.fail(`label too long: ${j - start} characters, at most ${MAX_LABEL_LENGTH} allowed`, start);
    this.i = j;
    return s.slice(start, j);
  }

  private punct(kind: TokenKind, len: number): void {
    this.tokens.push({ kind, pos: this.i });
    this.i += len;
  }

  private skipWhitespace(): void {
    const s = this.input;
    while (this.i < s.length && (s[this.i] === ' ' || s[this.i] === '\t')) this.i++;
  }

  private fail(reason: string, pos: number): never {
    throw new SelectorParseError(reason, this.input, pos);
  }
}
