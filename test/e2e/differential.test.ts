import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compareMatrices, renderMismatches } from '../../src/lab/conncheck.js';
import { renderMatrix } from '../../src/calc/matrix.js';
import { podIp } from '../calc/k8s-netpol-model.js';
import { agentRoutes, E2eLab, labUnavailable } from './lab-fixture.js';
import { randomPolicySet } from './random-policies.js';

/**
 * Differential test of the two implementations of rule semantics: random policy sets (seeded;
 * the seed is printed on failure) are applied to a 3-node lab, and every probed cell (TCP 80,
 * UDP 81) must equal `brindle policy matrix`. The agents apply changes asynchronously, so each
 * round probes until the two agree (bounded); a disagreement that persists is a bug in one of
 * them. Found seeds are kept in REGRESSION_SEEDS and always run first. Bounded: ROUNDS rounds
 * (env BRINDLE_DIFF_ROUNDS), at most BUDGET_MS in total. BRINDLE_DIFF_SEED fixes the first seed.
 */

const REGRESSION_SEEDS: number[] = [];
const ROUNDS = Number(process.env['BRINDLE_DIFF_ROUNDS'] ?? 8);
const BUDGET_MS = 300_000;
const FLOWS = [{ port: 80, protocol: 'tcp' as const }, { port: 81, protocol: 'udp' as const }];

// Three nodes when the agent routes between them; until then one node (every flow still crosses
// the node's nftables), and the test name says so.
const NODES = agentRoutes() ? 3 : 1;
const why = await labUnavailable({ routing: NODES > 1 });

describe(`differential on a ${NODES}-node lab: probed matrix == policy matrix for random policy sets`, { timeout: BUDGET_MS + 240_000 }, () => {
  if (why) {
    test(`skipped: ${why}`, { skip: why }, () => undefined);
    return;
  }
  const lab = new E2eLab('ed', 'bgp');
  before(async () => {
    await lab.up(3);
    await lab.addPods(podIp);
  }, { timeout: 180_000 });
  after(() => lab.down(), { timeout: 60_000 });

  test('random policy sets', { timeout: BUDGET_MS + 60_000 }, async () => {
    const first = Number(process.env['BRINDLE_DIFF_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
    const seeds = [...REGRESSION_SEEDS, ...Array.from({ length: ROUNDS }, (_, i) => first + i)];
    const podIps = new Map(lab.state.workloads.map((w) => [`${w.namespace}/${w.name}`, w.ip!]));
    const t0 = Date.now();
    let rounds = 0;
    for (const seed of seeds) {
      if (Date.now() - t0 > BUDGET_MS) break;
      await lab.reset();
      const docs = randomPolicySet(seed, { podIps });
      try {
        await lab.apply(docs);
      } catch (err) {
        assert.fail(`seed ${seed}: brindle apply refused a generated policy set (generator bug): ${(err as Error).message}\n${JSON.stringify(docs, null, 1)}`);
      }
      for (const flow of FLOWS) {
        const computed = await lab.computed(flow);
        const r = await lab.probeUntil(flow, (m) => compareMatrices(m, computed).mismatches.length === 0);
        const { mismatches, missing } = compareMatrices(r.matrix, computed);
        assert.equal(mismatches.length, 0, `seed ${seed} (first seed ${first}; rerun with BRINDLE_DIFF_SEED=${seed} BRINDLE_DIFF_ROUNDS=1), ${flow.protocol} ${flow.port}:\n` +
          `probed:\n${renderMatrix(r.matrix)}computed:\n${renderMatrix(computed)}${renderMismatches(mismatches, missing)}policies:\n${JSON.stringify(docs, null, 1)}`);
      }
      rounds++;
    }
    assert.ok(rounds >= Math.min(seeds.length, 2), `only ${rounds} round(s) fit in the time budget`);
  });
});
