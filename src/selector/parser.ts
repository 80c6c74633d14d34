import { toSortedSet, type SelectorNode, type ValueOp } from './ast.js';
import { SelectorParseError } from './parse-error.js';
import { tokenize, TokenKind, type Token } from './tokenizer.js';

/**
 * Calico's selector grammar (libcalico-go `selector/parser/parser.go`):
 *
 *   selector  := ε | or EOF                   (ε is all())
 *   or        := and ( "||" and )*
 *   and       := operation ( "&&" operation )*
 *   operation := "!"* ( has(l) | all() | global() | "(" or ")"
 *                     | l (== | != | contains | starts with | ends with) "str"
 *                     | l (in | not in) "{" [ "str" ("," "str")* [","] ] "}" )
 *
 * Leading `!`s collapse (an even number cancels); a single operand of && or || is not wrapped.
 * Errors carry the offset of the offending token.
 */
export function parseTree(input: string): SelectorNode {
  const tokens = tokenize(input);
  if (tokens[0]!.kind === TokenKind.EOF) return { kind: 'all' };
  const p = new Parser(input, tokens);
  const node = p.or();
  const rest = p.peek();
  if (rest.kind !== TokenKind.EOF) p.fail(`unexpected ${describe(rest)} after a complete expression`, rest);
  return node;
}

const VALUE_OPS: Partial<Record<TokenKind, ValueOp>> = {
  [TokenKind.Eq]: 'eq',
  [TokenKind.Ne]: 'ne',
  [TokenKind.Contains]: 'contains',
  [TokenKind.StartsWith]: 'startsWith',
  [TokenKind.EndsWith]: 'endsWith',
};

class Parser {
  private i = 0;
  constructor(
    private readonly input: string,
    private readonly tokens: readonly Token[],
  ) {}

  peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    const t = this.tokens[this.i]!;
    if (t.kind !== TokenKind.EOF) this.i++;
    return t;
  }

  or(): SelectorNode {
    const operands = [this.and()];
    while (this.peek().kind === TokenKind.Or) {
      this.i++;
      operands.push(this.and());
    }
    return operands.length === 1 ? operands[0]! : { kind: 'or', operands };
  }

  private and(): SelectorNode {
    const operands = [this.operation()];
    while (this.peek().kind === TokenKind.And) {
      this.i++;
      operands.push(this.operation());
    }
    return operands.length === 1 ? operands[0]! : { kind: 'and', operands };
  }

  private operation(): SelectorNode {
    let negated = false;
    while (this.peek().kind === TokenKind.Not) {
      negated = !negated;
      this.i++;
    }
    const node = this.operand();
    return negated ? { kind: 'not', operand: node } : node;
  }

  private operand(): SelectorNode {
    const t = this.next();
    switch (t.kind) {
      case TokenKind.Has:
        return { kind: 'has', label: t.value! };
      case TokenKind.All:
        return { kind: 'all' };
      case TokenKind.Global:
        return { kind: 'global' };
      case TokenKind.LParen: {
        const inner = this.or();
        const close = this.next();
        if (close.kind !== TokenKind.RParen) this.fail(`expected ) to close the ( at position ${t.pos}, found ${describe(close)}`, close);
        return inner;
      }
      case TokenKind.Label:
        return this.comparison(t.value!);
      default:
        return this.fail(`expected a label, has(), all(), global(), ! or (, found ${describe(t)}`, t);
    }
  }

  private comparison(label: string): SelectorNode {
    const op = this.next();
    const valueOp = VALUE_OPS[op.kind];
    if (valueOp) {
      const lit = this.next();
      if (lit.kind !== TokenKind.String) this.fail(`expected a quoted string after ${op.kind}, found ${describe(lit)}`, lit);
      return { kind: valueOp, label, value: lit.value! };
    }
    if (op.kind === TokenKind.In || op.kind === TokenKind.NotIn) {
      const open = this.next();
      if (open.kind !== TokenKind.LBrace) this.fail(`expected set literal { after ${op.kind}, found ${describe(open)}`, open);
      const values: string[] = [];
      while (this.peek().kind === TokenKind.String) {
        values.push(this.next().value!);
        if (this.peek().kind !== TokenKind.Comma) break;
        this.i++;
      }
      const close = this.next();
      if (close.kind !== TokenKind.RBrace) this.fail(`expected a quoted string or } in set literal, found ${describe(close)}`, close);
      return { kind: op.kind === TokenKind.In ? 'in' : 'notIn', label, values: toSortedSet(values) };
    }
    return this.fail(`expected an operator (==, !=, in, not in, contains, starts with, ends with) after label ${JSON.stringify(label)}, found ${describe(op)}`, op);
  }

  fail(reason: string, at: Token): never {
    throw new SelectorParseError(reason, this.input, at.pos);
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case TokenKind.Label:
      return `label ${JSON.stringify(t.value)}`;
    case TokenKind.String:
      return `string ${JSON.stringify(t.value)}`;
    case TokenKind.Has:
      return `has(${t.value})`;
    case TokenKind.EOF:
      return 'end of selector';
    default:
      return `'${t.kind}'`;
  }
}
