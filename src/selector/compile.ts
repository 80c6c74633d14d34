import type { SelectorNode } from './ast.js';

/** Anything labels can be read from: a Map, or a merged view of own + inherited labels. */
export interface LabelGetter {
  get(key: string): string | undefined;
}

export type Evaluator = (labels: LabelGetter) => boolean;

const TRUE: Evaluator = () => true;

/**
 * Turns a tree into a closure that evaluates it with Calico's semantics (`ast.go` Evaluate):
 * `==`, `in`, `contains`, `starts with`, `ends with` need the label present; `!=` and `not in` are
 * true when it is absent; `has` is true for any value, including "". Compiled once per selector so
 * evaluation does no tree walking or allocation.
 */
export function compile(node: SelectorNode): Evaluator {
  switch (node.kind) {
    case 'eq': {
      const { label, value } = node;
      return (l) => l.get(label) === value;
    }
    case 'ne': {
      const { label, value } = node;
      return (l) => l.get(label) !== value;
    }
    case 'contains': {
      const { label, value } = node;
      return (l) => {
        const v = l.get(label);
        return v !== undefined && v.includes(value);
      };
    }
    case 'startsWith': {
      const { label, value } = node;
      return (l) => {
        const v = l.get(label);
        return v !== undefined && v.startsWith(value);
      };
    }
    case 'endsWith': {
      const { label, value } = node;
      return (l) => {
        const v = l.get(label);
        return v !== undefined && v.endsWith(value);
      };
    }
    case 'in': {
      const { label } = node;
      if (node.values.length === 1) {
        const only = node.values[0];
        return (l) => l.get(label) === only;
      }
      const set = new Set(node.values);
      return (l) => {
        const v = l.get(label);
        return v !== undefined && set.has(v);
      };
    }
    case 'notIn': {
      const { label } = node;
      const set = new Set(node.values);
      return (l) => {
        const v = l.get(label);
        return v === undefined || !set.has(v);
      };
    }
    case 'has': {
      const { label } = node;
      return (l) => l.get(label) !== undefined;
    }
    case 'not': {
      const inner = compile(node.operand);
      return (l) => !inner(l);
    }
    case 'and': {
      const ops = node.operands.map(compile);
      if (ops.length === 2) {
        const [a, b] = ops as [Evaluator, Evaluator];
        return (l) => a(l) && b(l);
      }
      return (l) => {
        for (const op of ops) if (!op(l)) return false;
        return true;
      };
    }
    case 'or': {
      const ops = node.operands.map(compile);
      if (ops.length === 2) {
        const [a, b] = ops as [Evaluator, Evaluator];
        return (l) => a(l) || b(l);
      }
      return (l) => {
        for (const op of ops) if (op(l)) return true;
        return false;
      };
    }
    case 'all':
    case 'global':
      return TRUE;
  }
}
