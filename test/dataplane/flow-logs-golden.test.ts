import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertGolden } from '../helpers/golden.js';
import { Harness, readResources } from './harness.js';

/**
 * The ruleset with flow logging on (testdata/flows/nftables/expected.nft, from the
 * workloads-and-policies case): before every allow and deny rule, end-of-tier drop and final drop,
 * a rate-limited NFLOG rule with the same matches and the rule ID as prefix; with it off the
 * ruleset is the plain golden (test/dataplane/golden.test.ts), byte for byte.
 */
test('golden ruleset with flow logging', async () => {
  const h = new Harness({ flowLogs: { ratePerSecond: 100, burst: 20 } });
  h.put(...readResources('nftables/workloads-and-policies/input.yaml'));
  await h.start();
  const dump = h.nft.dump();
  assertGolden('flows/nftables/expected.nft', dump);
  assert.match(dump, /log group 20 prefix "DIT\|default"/);
  const plain = new Harness();
  plain.put(...readResources('nftables/workloads-and-policies/input.yaml'));
  await plain.start();
  assert.doesNotMatch(plain.nft.dump(), /log group/);
});
