import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertGolden } from '../helpers/golden.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { Harness, readResources } from './harness.js';

/**
 * Golden rulesets: each testdata/nftables/<case>/input.yaml is run through the calculation for
 * node1 and the dataplane driver into the fake nft (which checks every reference); the table it
 * ends with must equal expected.nft exactly.
 */
const cases = readdirSync(join(REPO_ROOT, 'testdata', 'nftables')).filter((d) => !d.startsWith('.')).sort();

for (const name of cases) {
  test(`golden ruleset: ${name}`, async () => {
    const h = new Harness();
    h.put(...readResources(`nftables/${name}/input.yaml`));
    await h.start();
    assert.equal(h.nft.transactions.length, 1, 'one transaction for the initial sync');
    assertGolden(`nftables/${name}/expected.nft`, h.nft.dump());
  });
}
