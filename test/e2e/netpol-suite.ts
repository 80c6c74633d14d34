import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Routing } from '../../src/lab/lab-state.js';
import { CASES } from '../calc/k8s-netpol-cases.js';
import { compareReachability, podIp, Reachability } from '../calc/k8s-netpol-model.js';
import { asTable, E2eLab, labUnavailable } from './lab-fixture.js';

/**
 * The Kubernetes network-policy e2e cases (the ones test/calc/k8s-netpol.test.ts checks against
 * `policy matrix`) on a real 3-node lab: after every step the truth table is PROBED on the kernel
 * (TCP and UDP; SCTP probes are left out: the prober speaks TCP and UDP only) and must match
 * upstream's, loopback ignored. The agents apply changes asynchronously, so each step probes until
 * the table matches (bounded), and between cases the lab goes back to the base model and is probed
 * until everything is reachable again, so a case never passes on its predecessor's rules.
 */
export async function netpolSuite(routing: Routing, nodes = 3): Promise<void> {
  const why = await labUnavailable({ routing: nodes > 1 });
  describe(`Kubernetes netpol e2e cases on a ${nodes}-node lab, --routing ${routing}`, { timeout: 1_500_000 }, () => {
    if (why) {
      test(`skipped: ${why}`, { skip: why }, () => undefined);
      return;
    }
    const lab = new E2eLab(nodes === 1 ? 'e1' : routing === 'bgp' ? 'eb' : 'ev', routing);
    before(async () => {
      await lab.up(nodes);
      await lab.addPods(podIp);
    }, { timeout: 180_000 });
    after(() => lab.down(), { timeout: 60_000 });

    for (const c of CASES) {
      test(`${c.name}: ${c.upstream}`, { timeout: 240_000 }, async () => {
        await lab.reset();
        const base = await lab.probeUntil({ port: 80, protocol: 'tcp' }, (m) => m.allowed.every((r) => r.every(Boolean)), 30_000);
        assert.ok(base.ok, `before ${c.name}: the base model is not all-reachable after reset\n${compareReachability(new Reachability(), asTable(base.matrix)).table}`);
        for (const [i, step] of c.steps.entries()) {
          await lab.delete(step.delete ?? []);
          await lab.apply(step.apply ?? []);
          for (const p of step.probes) {
            if (p.protocol === 'SCTP') continue;
            const flow = { port: p.port, protocol: p.protocol.toLowerCase() as 'tcp' | 'udp' };
            const r = await lab.probeUntil(flow, (m) => compareReachability(p.reach, asTable(m)).wrong === 0);
            const cmp = compareReachability(p.reach, asTable(r.matrix));
            assert.equal(cmp.wrong, 0, `${c.name} (step ${i + 1}, ${p.protocol} ${p.port}, --routing ${routing}): ${cmp.wrong} wrong cell(s) after ${r.tries} probes (${c.upstream})\n${cmp.table}`);
          }
        }
      });
    }
  });
}
