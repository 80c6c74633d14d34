/**
 * Translates calc IP sets into nft sets, one per family. Selector sets hold addresses: while every
 * member of a family is a host address they are a plain set (`s4-…`, fast incremental updates);
 * once a CIDR joins, an interval set (`n4-…`) whose elements are the members not covered by a
 * wider member (nft 1.0.6 refuses overlapping intervals). Named-port sets are `addr . proto . port`
 * concatenations (`p4-…`). When a set changes shape its name changes, and `onRenamed` tells the
 * policy manager to re-render the rules that use it. No I/O.
 */
import type { IpSetType } from '../../calc/types.js';
import { cidrCovers, tryParseCidr, type Cidr } from '../../net/cidr.js';
import { ipSetName, type Family, type SetShape } from '../nftables/names.js';
import { nftAddr, type SetNameResolver } from '../nftables/render-rule.js';
import type { TableReconciler } from '../nftables/table-reconciler.js';
import type { DataplaneManager } from './manager.js';

interface FamilySet {
  shape: SetShape;
  /** Member (calc text) → nft element key. */
  members: Map<string, string>;
  /** Members that are not host addresses (only they can cover others). */
  wide: number;
}

interface CalcSet {
  type: IpSetType;
  fam: Record<Family, FamilySet>;
}

function typeOf(shape: SetShape, family: Family): string {
  const addr = family === 4 ? 'ipv4_addr' : 'ipv6_addr';
  return shape === 'p' ? `${addr} . inet_proto . inet_service` : addr;
}

/** `10.0.0.1/32,tcp:80` → `10.0.0.1 . tcp . 80`; addresses → nft element text. */
function memberElement(member: string, type: IpSetType): { family: Family; key: string; wide: boolean } | undefined {
  if (type === 'ip-and-port') {
    const m = /^(.+),([a-z0-9]+):(\d+)$/.exec(member);
    if (!m) return undefined;
    const a = nftAddr(m[1]!);
    return a && { family: a.family, key: `${a.text} . ${m[2]} . ${m[3]}`, wide: false };
  }
  const a = nftAddr(member);
  return a && { family: a.family, key: a.text, wide: a.text.includes('/') };
}

export class IpSetManager implements DataplaneManager, SetNameResolver {
  readonly name = 'ip-sets';
  private readonly sets = new Map<string, CalcSet>();
  private readonly dirtyFamilies = new Set<string>();

  constructor(private readonly table: TableReconciler, private readonly onRenamed: (id: string) => void) {}

  setName(id: string, family: Family): string {
    const s = this.sets.get(id);
    return ipSetName(id, family, s ? s.fam[family].shape : 's');
  }

  namedPortSetName(id: string, family: Family): string {
    return ipSetName(id, family, 'p');
  }

  get count(): number {
    return this.sets.size;
  }

  onIpSetAdded(id: string, type: IpSetType): void {
    if (this.sets.has(id)) return;
    const shape: SetShape = type === 'ip-and-port' ? 'p' : 's';
    const s: CalcSet = { type, fam: { 4: { shape, members: new Map(), wide: 0 }, 6: { shape, members: new Map(), wide: 0 } } };
    this.sets.set(id, s);
    for (const f of [4, 6] as const) this.table.setSet({ name: ipSetName(id, f, shape), type: typeOf(shape, f), elements: new Map() });
  }

  onIpSetRemoved(id: string): void {
    const s = this.sets.get(id);
    if (!s) return;
    this.sets.delete(id);
    for (const f of [4, 6] as const) this.table.deleteSet(ipSetName(id, f, s.fam[f].shape));
  }

  onIpSetMemberAdded(id: string, member: string): void {
    const s = this.sets.get(id);
    const e = s && memberElement(member, s.type);
    if (!s || !e) return;
    const fs = s.fam[e.family];
    if (fs.members.has(member)) return;
    fs.members.set(member, e.key);
    if (e.wide) fs.wide++;
    if (fs.shape === 's' && fs.wide > 0) this.reshape(id, s, e.family, 'n');
    else if (fs.shape === 'n') this.dirtyFamilies.add(`${e.family}|${id}`);
    else this.table.addElement(ipSetName(id, e.family, fs.shape), e.key);
  }

  onIpSetMemberRemoved(id: string, member: string): void {
    const s = this.sets.get(id);
    const e = s && memberElement(member, s.type);
    if (!s || !e) return;
    const fs = s.fam[e.family];
    const key = fs.members.get(member);
    if (key === undefined) return;
    fs.members.delete(member);
    if (e.wide) fs.wide--;
    if (fs.shape === 'n' && fs.wide === 0) this.reshape(id, s, e.family, 's');
    else if (fs.shape === 'n') this.dirtyFamilies.add(`${e.family}|${id}`);
    else this.table.removeElement(ipSetName(id, e.family, fs.shape), key);
  }

  private reshape(id: string, s: CalcSet, family: Family, shape: SetShape): void {
    const fs = s.fam[family];
    this.table.deleteSet(ipSetName(id, family, fs.shape));
    fs.shape = shape;
    this.table.setSet({ name: ipSetName(id, family, shape), type: typeOf(shape, family), ...(shape === 'n' ? { interval: true } : {}), elements: new Map() });
    if (shape === 'n') this.dirtyFamilies.add(`${family}|${id}`);
    else for (const k of fs.members.values()) this.table.addElement(ipSetName(id, family, shape), k);
    this.onRenamed(id);
  }

  completeDeferredWork(): void {
    for (const df of this.dirtyFamilies) {
      const bar = df.indexOf('|');
      const family = Number(df.slice(0, bar)) as Family;
      const id = df.slice(bar + 1);
      const s = this.sets.get(id);
      if (!s || s.fam[family].shape !== 'n') continue;
      const name = ipSetName(id, family, 'n');
      const want = uncovered([...new Set(s.fam[family].members.values())]);
      const have = this.table.desired.sets.get(name)!.elements;
      for (const k of [...have.keys()]) if (!want.has(k)) this.table.removeElement(name, k);
      for (const k of want) if (!have.has(k)) this.table.addElement(name, k);
    }
    this.dirtyFamilies.clear();
  }
}

/** The CIDRs not covered by another one in the list (what an interval set can hold). */
export function uncovered(keys: string[]): Set<string> {
  const parsed = keys.map((k) => ({ k, c: tryParseCidr(k, { allowBareIp: true }) })).filter((x): x is { k: string; c: ReturnType<typeof tryParseCidr> & Cidr } => !!x.c);
  const wide = parsed.filter((x) => x.c.prefix < (x.c.family === 4 ? 32 : 128)).sort((a, b) => a.c.prefix - b.c.prefix);
  const out = new Set<string>();
  for (const x of parsed) {
    if (!wide.some((w) => w.k !== x.k && cidrCovers(w.c, x.c) && !(cidrCovers(x.c, w.c) && w.k > x.k))) out.add(x.k);
  }
  return out;
}
