/**
 * Reads `nft -j list table inet brindle` output back into the table model. Rules are identified by
 * their comment (the id Brindle wrote); their text is not reconstructed (nft prints rules its own
 * way). Rules without a comment were not written by Brindle: they get a unique placeholder id, so
 * the chain compares as different and the reconciler rewrites it. Also returns every rule's
 * counter, for `brindle policy counters`. Pure.
 */
import { emptyTable, type NftTable } from './model.js';
import { TABLE_FAMILY, TABLE_NAME } from './names.js';

export interface KernelRuleCounter {
  chain: string;
  id: string;
  packets: number;
  bytes: number;
}

export interface KernelListing {
  table: NftTable;
  counters: KernelRuleCounter[];
}

type Json = Record<string, unknown>;

export function parseListing(json: string): KernelListing {
  const doc = JSON.parse(json) as { nftables?: Json[] };
  const table = emptyTable();
  const counters: KernelRuleCounter[] = [];
  let foreign = 0;
  const ours = (o: Json) => o['family'] === TABLE_FAMILY && o['table'] === TABLE_NAME;
  for (const item of doc.nftables ?? []) {
    const chain = item['chain'] as Json | undefined;
    if (chain && ours(chain)) {
      const name = String(chain['name']);
      table.chains.set(name, { name, rules: [], ...(chain['hook'] ? { base: { type: chain['type'] as 'filter', hook: chain['hook'] as 'input', priority: String(chain['prio']), policy: chain['policy'] as 'accept' } } : {}) });
      continue;
    }
    const set = (item['set'] ?? item['map']) as Json | undefined;
    if (set && ours(set)) {
      const isMap = item['map'] !== undefined;
      const type = Array.isArray(set['type']) ? (set['type'] as string[]).join(' . ') : String(set['type']);
      const flags = (set['flags'] as string[] | undefined) ?? [];
      const elements = new Map<string, string>();
      for (const e of (set['elem'] as unknown[] | undefined) ?? []) {
        if (isMap && Array.isArray(e)) elements.set(elementKey(e[0], type), verdictText(e[1]));
        else elements.set(elementKey(e, type), '');
      }
      table.sets.set(String(set['name']), { name: String(set['name']), type, ...(flags.includes('interval') ? { interval: true } : {}), ...(isMap ? { map: true } : {}), elements });
      continue;
    }
    const rule = item['rule'] as Json | undefined;
    if (rule && ours(rule)) {
      const chainName = String(rule['chain']);
      const c = table.chains.get(chainName);
      const id = typeof rule['comment'] === 'string' ? rule['comment'] : `(foreign rule ${++foreign})`;
      c?.rules.push({ text: '', id });
      const counter = ((rule['expr'] as Json[] | undefined) ?? []).map((x) => x['counter'] as Json | undefined).find((x) => x);
      if (counter) counters.push({ chain: chainName, id, packets: Number(counter['packets'] ?? 0), bytes: Number(counter['bytes'] ?? 0) });
    }
  }
  return { table, counters };
}

function elementKey(e: unknown, type: string): string {
  if (typeof e === 'string') return type === 'ifname' ? `"${e}"` : e;
  if (typeof e === 'number') return String(e);
  if (e && typeof e === 'object') {
    const o = e as Json;
    if (o['prefix']) {
      const p = o['prefix'] as Json;
      return `${String(p['addr'])}/${String(p['len'])}`;
    }
    if (o['range']) {
      const [a, b] = o['range'] as unknown[];
      return `${elementKey(a, '')}-${elementKey(b, '')}`;
    }
    if (o['concat']) return (o['concat'] as unknown[]).map((x) => elementKey(x, '')).join(' . ');
    if (o['elem']) return elementKey((o['elem'] as Json)['val'], type);
  }
  return JSON.stringify(e);
}

function verdictText(v: unknown): string {
  if (v && typeof v === 'object') {
    const o = v as Json;
    for (const k of ['goto', 'jump']) if (o[k]) return `${k} ${String((o[k] as Json)['target'])}`;
    const keys = Object.keys(o);
    if (keys.length === 1) return keys[0]!;
  }
  return String(v);
}
