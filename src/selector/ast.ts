/**
 * The selector syntax tree (Calico's `parser/ast.go` node kinds) and its canonical string
 * (`Selector.String()`): And/Or always parenthesised, `!` written straight before its operand,
 * values double-quoted unless they contain `"`, sets sorted by byte order and de-duplicated.
 * Evaluation lives in compile.ts, label restrictions in label-restrictions.ts.
 */

export type ValueOp = 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith';

export type SelectorNode =
  | { readonly kind: ValueOp; readonly label: string; readonly value: string }
  | { readonly kind: 'in' | 'notIn'; readonly label: string; readonly values: readonly string[] }
  | { readonly kind: 'has'; readonly label: string }
  | { readonly kind: 'not'; readonly operand: SelectorNode }
  | { readonly kind: 'and' | 'or'; readonly operands: readonly SelectorNode[] }
  | { readonly kind: 'all' }
  | { readonly kind: 'global' };

const VALUE_OP_TEXT: Record<ValueOp, string> = {
  eq: ' == ',
  ne: ' != ',
  contains: ' contains ',
  startsWith: ' starts with ',
  endsWith: ' ends with ',
};

/** Calico's canonical text of a tree. */
export function renderCanonical(node: SelectorNode): string {
  const out: string[] = [];
  collect(node, out);
  return out.join('');
}

function collect(node: SelectorNode, out: string[]): void {
  switch (node.kind) {
    case 'eq':
    case 'ne':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      out.push(node.label, VALUE_OP_TEXT[node.kind], quote(node.value));
      return;
    case 'in':
    case 'notIn':
      out.push(node.label, node.kind === 'in' ? ' in {' : ' not in {', node.values.map(quote).join(', '), '}');
      return;
    case 'has':
      out.push('has(', node.label, ')');
      return;
    case 'not':
      out.push('!');
      collect(node.operand, out);
      return;
    case 'and':
    case 'or': {
      const sep = node.kind === 'and' ? ' && ' : ' || ';
      out.push('(');
      node.operands.forEach((op, i) => {
        if (i > 0) out.push(sep);
        collect(op, out);
      });
      out.push(')');
      return;
    }
    case 'all':
      out.push('all()');
      return;
    case 'global':
      out.push('global()');
      return;
  }
}

function quote(s: string): string {
  return s.includes('"') ? `'${s}'` : `"${s}"`;
}

/** Compares strings by Unicode code point, which is the UTF-8 byte order Go's sort uses. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    // A surrogate starts a code point above U+FFFF, so it sorts after any BMP character.
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Sorted (byte order), de-duplicated copy of a value list: Calico's StringSet. */
export function toSortedSet(values: readonly string[]): string[] {
  const sorted = [...values].sort(compareCodePoints);
  return sorted.filter((v, i) => i === 0 || v !== sorted[i - 1]);
}

/** A copy of the tree with every label name prefixed (Calico's PrefixVisitor). */
export function prefixLabels(node: SelectorNode, prefix: string): SelectorNode {
  switch (node.kind) {
    case 'eq':
    case 'ne':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return { kind: node.kind, label: prefix + node.label, value: node.value };
    case 'in':
    case 'notIn':
      return { kind: node.kind, label: prefix + node.label, values: node.values };
    case 'has':
      return { kind: 'has', label: prefix + node.label };
    case 'not':
      return { kind: 'not', operand: prefixLabels(node.operand, prefix) };
    case 'and':
    case 'or':
      return { kind: node.kind, operands: node.operands.map((op) => prefixLabels(op, prefix)) };
    case 'all':
    case 'global':
      return node;
  }
}
