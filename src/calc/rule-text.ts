/**
 * One-line rendering of an original v3 rule in YAML flow style, for explanations:
 * `{action: Allow, protocol: TCP, source: {selector: "app == 'web'"}, destination: {ports: [80]}}`.
 * Keys follow the v3 field order; empty fields are left out. Rendering only: no semantics here.
 */
import type { Rule } from '../api/types.js';

const RULE_KEYS = ['action', 'ipVersion', 'protocol', 'notProtocol', 'icmp', 'notICMP', 'source', 'destination', 'http', 'metadata'];
const ENTITY_KEYS = ['nets', 'notNets', 'selector', 'notSelector', 'namespaceSelector', 'serviceAccounts', 'services', 'ports', 'notPorts'];
const ORDERS: Record<string, string[]> = { source: ENTITY_KEYS, destination: ENTITY_KEYS, icmp: ['type', 'code'], notICMP: ['type', 'code'] };

function scalar(v: string | number | boolean): string {
  if (typeof v !== 'string') return String(v);
  // Plain when unambiguous in YAML flow context, else double-quoted (JSON escaping is valid YAML).
  const plain = /^[A-Za-z0-9_/][A-Za-z0-9_./-]*$/.test(v);
  const looksTyped = /^(true|false|null|yes|no|on|off|~)$/i.test(v) || /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(v) || /^0[xo]/.test(v);
  if (plain && !looksTyped) return v;
  return JSON.stringify(v);
}

function render(v: unknown, order?: string[]): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) {
    if (v.length === 0) return undefined;
    return `[${v.map((x) => render(x) ?? 'null').join(', ')}]`;
  }
  if (typeof v === 'object') {
    const obj = v as Record<string, unknown>;
    const keys = order ? [...order.filter((k) => k in obj), ...Object.keys(obj).filter((k) => !order.includes(k)).sort()] : Object.keys(obj);
    const parts: string[] = [];
    for (const k of keys) {
      const r = render(obj[k], ORDERS[k]);
      if (r !== undefined && r !== '{}') parts.push(`${k}: ${r}`);
    }
    return `{${parts.join(', ')}}`;
  }
  if (typeof v === 'string' && v === '') return undefined;
  return scalar(v as string | number | boolean);
}

export function ruleText(rule: Rule): string {
  return render(rule, RULE_KEYS) ?? '{}';
}
