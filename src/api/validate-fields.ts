import type { ValidationIssue } from '../errors.js';
import { formatCidr, isMasked, tryParseCidr, tryParseIp, type IpFamily, type ParsedCidr } from '../net/cidr.js';
import { PORT_PROTOCOLS, PROTOCOLS, protocolByName, protocolHasPorts, protocolList, protocolNumberOf } from '../net/protocols.js';
import { parseSelector, SelectorParseError, type Selector } from '../selector/index.js';
import { joinPath } from './shape-check.js';

/**
 * Checks of single field values shared by every kind's validator: names, labels, selectors,
 * CIDRs, ports, protocols, AS numbers. Each pushes `{path, message}` issues and returns what it
 * parsed (or undefined) so callers can run cross-field rules. Pure.
 */

export type Issues = ValidationIssue[];

const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS_LABEL_RE = new RegExp(`^${DNS_LABEL}$`);
const DNS_SUBDOMAIN_RE = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);
const QUALIFIED_NAME_PART_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const INTERFACE_RE = /^[a-zA-Z0-9_.-]{1,15}$/;
const MAC_RE = /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/;
const DURATION_RE = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

export function checkSubdomainName(v: string, path: string, issues: Issues, what = 'name'): boolean {
  if (v.length === 0) return push(issues, path, `${what} is required`);
  if (v.length > 253) return push(issues, path, `${what} "${v.slice(0, 20)}…" is longer than 253 characters`);
  if (!DNS_SUBDOMAIN_RE.test(v)) {
    return push(issues, path, `${what} "${v}" must consist of lower case alphanumeric characters, '-' or '.', and start and end with an alphanumeric character`);
  }
  return true;
}

export function checkLabelName(v: string, path: string, issues: Issues, what = 'name'): boolean {
  if (v.length === 0) return push(issues, path, `${what} is required`);
  if (v.length > 63) return push(issues, path, `${what} "${v.slice(0, 20)}…" is longer than 63 characters`);
  if (!DNS_LABEL_RE.test(v)) {
    return push(issues, path, `${what} "${v}" must consist of lower case alphanumeric characters or '-', and start and end with an alphanumeric character`);
  }
  return true;
}

/** A Kubernetes qualified name (`prefix.example.com/name` or `name`), used for label and annotation keys. */
export function checkQualifiedName(key: string, path: string, issues: Issues): boolean {
  const parts = key.split('/');
  let name = key;
  if (parts.length === 2) {
    const [prefix, n] = parts as [string, string];
    if (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN_RE.test(prefix)) {
      return push(issues, path, `key "${key}" has an invalid prefix: it must be a DNS subdomain`);
    }
    name = n;
  } else if (parts.length > 2) {
    return push(issues, path, `key "${key}" may contain at most one '/'`);
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME_PART_RE.test(name)) {
    return push(issues, path, `key "${key}" is invalid: the name part must be 1-63 characters of [A-Za-z0-9_.-], starting and ending with an alphanumeric character`);
  }
  return true;
}

export function checkLabels(labels: Record<string, string> | undefined, path: string, issues: Issues): void {
  for (const [k, v] of Object.entries(labels ?? {})) {
    const p = joinPath(path, k);
    checkQualifiedName(k, p, issues);
    if (typeof v === 'string' && v !== '' && (v.length > 63 || !QUALIFIED_NAME_PART_RE.test(v))) {
      push(issues, p, `label value "${v}" is invalid: it must be empty or 1-63 characters of [A-Za-z0-9_.-], starting and ending with an alphanumeric character`);
    }
  }
}

export function checkAnnotations(annotations: Record<string, string> | undefined, path: string, issues: Issues): void {
  let total = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    checkQualifiedName(k, joinPath(path, k), issues);
    total += k.length + (typeof v === 'string' ? v.length : 0);
  }
  if (total > 256 * 1024) push(issues, path, `annotations are ${total} bytes in total; the limit is 262144`);
}

export interface SelectorCheckOptions {
  /** `global()` may appear (only as the whole selector). */
  allowGlobal?: boolean;
  maxLength?: number;
}

/** Parses a selector; reports parse errors and misplaced `global()`. */
export function checkSelector(v: string, path: string, issues: Issues, opts: SelectorCheckOptions = {}): Selector | undefined {
  if (opts.maxLength !== undefined && v.length > opts.maxLength) {
    push(issues, path, `selector is ${v.length} characters long; the limit is ${opts.maxLength}`);
    return undefined;
  }
  let sel: Selector;
  try {
    sel = parseSelector(v);
  } catch (err) {
    if (err instanceof SelectorParseError) push(issues, path, `invalid selector ${JSON.stringify(v)}: ${err.message} (at character ${err.position})`);
    else push(issues, path, `invalid selector ${JSON.stringify(v)}: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
  if (usesGlobal(v)) {
    if (!opts.allowGlobal) push(issues, path, 'global() may only be used in a rule\'s namespaceSelector');
    else if (sel.canonical !== 'global()') push(issues, path, 'global() must be the entire namespaceSelector, not part of an expression');
  }
  return sel;
}

/** True if `global(` appears outside string literals. */
export function usesGlobal(selector: string): boolean {
  return /(^|[^a-zA-Z0-9_./-])global\(/.test(selector.replace(/"[^"]*"|'[^']*'/g, '""'));
}

/** A CIDR (or, with allowBareIP, a plain address). */
export function checkCIDR(v: string, path: string, issues: Issues, opts: { allowBareIP?: boolean; strict?: boolean; family?: IpFamily } = {}): ParsedCidr | undefined {
  const c = tryParseCidr(v, { allowBareIp: opts.allowBareIP ?? false });
  if (!c) {
    push(issues, path, `"${v}" is not a valid ${opts.allowBareIP ? 'IP address or CIDR' : 'CIDR'}`);
    return undefined;
  }
  if (opts.strict && !isMasked(c)) {
    push(issues, path, `CIDR "${v}" has host bits set; the network is ${formatCidr(c)}`);
  }
  if (opts.family && c.family !== opts.family) {
    push(issues, path, `"${v}" is not an IPv${opts.family} ${opts.allowBareIP ? 'address' : 'CIDR'}`);
    return undefined;
  }
  return c;
}


export function checkIP(v: string, path: string, issues: Issues, family?: IpFamily): boolean {
  const ip = tryParseIp(v);
  if (!ip) return push(issues, path, `"${v}" is not a valid IP address`);
  if (family && ip.family !== family) return push(issues, path, `"${v}" is not an IPv${family} address`);
  return true;
}

export function checkInterfaceName(v: string, path: string, issues: Issues): boolean {
  if (!INTERFACE_RE.test(v)) return push(issues, path, `interface name "${v}" must be 1-15 characters of [a-zA-Z0-9_.-]`);
  return true;
}

export function checkMAC(v: string, path: string, issues: Issues): boolean {
  if (!MAC_RE.test(v)) return push(issues, path, `"${v}" is not a valid MAC address`);
  return true;
}

export function checkDuration(v: string, path: string, issues: Issues): boolean {
  if (!DURATION_RE.test(v)) return push(issues, path, `"${v}" is not a valid duration (e.g. 120s, 1m30s)`);
  return true;
}

// ---------------------------------------------------------------- protocols and ports

/** A protocol's number, or undefined if it is not valid (names are case-sensitive, as Calico's validator has them: `tcp` is rejected). */
export function protocolNumber(p: string | number): number | undefined {
  return protocolNumberOf(p);
}

export function checkProtocol(v: string | number, path: string, issues: Issues): number | undefined {
  const n = protocolNumber(v);
  if (n === undefined) {
    const known = typeof v === 'string' ? protocolByName(v, { anyCase: true })?.name : undefined;
    const hint = known ? ` (did you mean "${known}"?)` : '';
    push(issues, path, typeof v === 'number' ? `protocol ${v} is out of range 1-255` : `protocol "${v}" is not one of ${PROTOCOLS.map((x) => x.name).join(', ')} or a number 1-255${hint}`);
  }
  return n;
}

/** Whether a rule may give ports with this protocol (the protocol table's `hasPorts`). */
export function protocolSupportsPorts(n: number | undefined): boolean {
  return protocolHasPorts(n);
}

/** `TCP, UDP or SCTP`: the protocols that have ports, for messages. */
export const PORT_PROTOCOL_LIST = protocolList(PORT_PROTOCOLS);

/** Whether `p` is exactly the Calico name of a protocol with ports (what Kubernetes ports and failsafe ports accept). */
export function isPortProtocolName(p: string): boolean {
  return PORT_PROTOCOLS.some((x) => x.name === p);
}

/** Kubernetes IsValidPortName (IANA service name): ≤15 chars, [a-z0-9-], a letter, no `--`, no edge `-`. */
export function isValidPortName(v: string): boolean {
  return v.length >= 1 && v.length <= 15 && /^[a-z0-9-]+$/.test(v) && /[a-z]/.test(v) && !v.includes('--') && !v.startsWith('-') && !v.endsWith('-');
}

export type PortKind = 'numeric' | 'named' | 'invalid';

/** A rule port: number, `"80"`, `"100:200"` (min ≤ max) or a named port. */
export function checkPort(v: string | number, path: string, issues: Issues): PortKind {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 1 || v > 65535) return (push(issues, path, `port ${v} is out of range 1-65535`), 'invalid');
    return 'numeric';
  }
  const m = /^(\d+)(?::(\d+))?$/.exec(v);
  if (m) {
    const lo = Number(m[1]);
    const hi = Number(m[2] ?? m[1]);
    for (const n of m[2] === undefined ? [lo] : [lo, hi]) {
      if (n < 1 || n > 65535) return (push(issues, path, `port ${n} is out of range 1-65535`), 'invalid');
    }
    if (lo > hi) return (push(issues, path, `port range "${v}" has its minimum above its maximum`), 'invalid');
    return 'numeric';
  }
  if (/^\d*:\d*$/.test(v) || /^\d+:/.test(v)) return (push(issues, path, `port range "${v}" must be "min:max"`), 'invalid');
  if (!isValidPortName(v)) {
    return (push(issues, path, `named port "${v}" is invalid: it must be 1-15 characters of [a-z0-9-], contain a letter and not start, end or repeat '-'`), 'invalid');
  }
  return 'named';
}

/** An AS number: 0-4294967295, as a number, a decimal string or dotted `a.b`. */
export function checkASNumber(v: string | number, path: string, issues: Issues): boolean {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 4294967295) return push(issues, path, `AS number ${v} is out of range 0-4294967295`);
    return true;
  }
  const dotted = /^(\d+)\.(\d+)$/.exec(v);
  if (dotted) {
    if (Number(dotted[1]) > 65535 || Number(dotted[2]) > 65535) return push(issues, path, `AS number "${v}": each dotted part must be 0-65535`);
    return true;
  }
  if (/^\d+$/.test(v) && Number(v) <= 4294967295) return true;
  return push(issues, path, `"${v}" is not a valid AS number`);
}

export function push(issues: Issues, path: string, message: string): false {
  issues.push({ path, message });
  return false;
}

export function sub(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : joinPath(path, key);
}
