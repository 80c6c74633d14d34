import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseListing } from '../../src/dataplane/nftables/listing.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { Harness, readResources } from './harness.js';

/**
 * Kernel read-back: testdata/nftables-listing/<case>.json is `nft -j list table inet brindle`
 * after loading testdata/nftables/<case>/expected.nft into a real kernel (nft 1.0.6). Parsed, it
 * must compare equal to what the driver programmed (no drift): rule ids, set types, every element
 * (plain, prefix, concatenation, verdict-map) read back as written.
 */
const CASES = ['workloads-and-policies', 'tiers-pass-named-ports', 'host-endpoint', 'host-endpoint-all-interfaces', 'netset-cidrs', 'settings-pools-staged'];

for (const c of CASES) {
  test(`kernel listing reads back without drift: ${c}`, async () => {
    const h = new Harness();
    h.put(...readResources(`nftables/${c}/input.yaml`));
    await h.start();
    const listing = parseListing(readFileSync(join(REPO_ROOT, 'testdata', 'nftables-listing', `${c}.json`), 'utf8'));
    assert.deepEqual(h.driver.table.drift(listing.table), []);
    assert.ok(listing.counters.length > 0, 'counters are read');
  });
}

test('a rule without a Brindle comment is drift', async () => {
  const h = new Harness();
  h.put(...readResources('nftables/netset-cidrs/input.yaml'));
  await h.start();
  const json = JSON.parse(readFileSync(join(REPO_ROOT, 'testdata', 'nftables-listing', 'netset-cidrs.json'), 'utf8')) as { nftables: Record<string, Record<string, unknown>>[] };
  const rule = json.nftables.find((o) => o['rule']?.['chain'] === 'filter-FORWARD')!;
  delete rule['rule']!['comment'];
  assert.deepEqual(h.driver.table.drift(parseListing(JSON.stringify(json)).table), ['chain filter-FORWARD rules differ']);
});
