/**
 * Small pure conversions shared by the peer resolver and the config builder: a node's BGP address
 * per family, AS numbers (plain or dotted) to BIRD's plain form, Go-style durations to seconds,
 * and router IDs. Problems are pushed onto an error list with the field they came from.
 */
import { createHash } from 'node:crypto';
import { formatIp, tryParseCidr } from '../net/cidr.js';
import type { NodeRecord } from './bgp-state.js';
import type { Family } from './model.js';

/** The node's BGP address of a family (`spec.bgp.ipv4Address` / `ipv6Address`, prefix dropped). */
export function nodeAddress(n: NodeRecord, family: Family): string | undefined {
  const text = family === 4 ? n.spec.bgp?.ipv4Address : n.spec.bgp?.ipv6Address;
  const c = text ? tryParseCidr(text, { allowBareIp: true }) : undefined;
  return c && c.family === family ? formatIp({ family, value: c.address }) : undefined;
}

/** AS number as BIRD writes it (`64512`, dotted `1.10` → `65546`); 0 and AS_TRANS are refused. */
export function normaliseAs(v: number | string, what: string, errors: string[]): string {
  let n: number | undefined;
  if (typeof v === 'number') n = v;
  else if (/^\d+$/.test(v)) n = Number(v);
  else {
    const m = /^(\d+)\.(\d+)$/.exec(v);
    if (m && Number(m[1]) <= 65535 && Number(m[2]) <= 65535) n = Number(m[1]) * 65536 + Number(m[2]);
  }
  if (n === undefined || !Number.isInteger(n) || n < 1 || n > 4294967295) {
    errors.push(`${what}: AS number "${String(v)}" is not valid (1-4294967295 or dotted a.b)`);
    return String(v);
  }
  if (n === 23456) {
    errors.push(`${what}: AS number 23456 is AS_TRANS, reserved for 4-byte AS translation`);
  }
  return String(n);
}

const UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A Go duration (`90s`, `2m`, `1h30m`) in whole seconds, rounded up; undefined (and an error) if invalid. */
export function durationSeconds(text: string, what: string, errors: string[]): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    matched += m[0].length;
  }
  if (text.length === 0 || matched !== text.length) {
    errors.push(`${what}: "${text}" is not a duration (e.g. 120s, 2m)`);
    return undefined;
  }
  return Math.max(1, Math.ceil(total - 1e-9));
}

/** The node's BGP router ID: its IPv4 address, or (IPv6-only nodes) a stable hash of its name. */
export function routerIdFor(n: NodeRecord): { id: string; source: string } | undefined {
  const v4 = nodeAddress(n, 4);
  if (v4) return { id: v4, source: 'node IPv4 address' };
  if (!nodeAddress(n, 6)) return undefined;
  const b = createHash('sha256').update(n.name).digest();
  return { id: `${b[0]! | 1}.${b[1]}.${b[2]}.${b[3]}`, source: 'hash of the node name (no IPv4 address)' };
}
