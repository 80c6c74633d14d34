import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { allocationAt, assignFromBlock, collectCooldown, freeCount, handleCounts, newBlock, releaseOrdinals, structuralProblems } from '../../src/ipam/block.js';
import { formatIp, parseCidr } from '../../src/net/cidr.js';
import { REPO_ROOT } from '../helpers/paths.js';

type Op = { kind: 'assign'; n: number; handle: number } | { kind: 'release'; pick: number } | { kind: 'tick'; seconds: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('assign' as const), n: fc.integer({ min: 1, max: 5 }), handle: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('tick' as const), seconds: fc.integer({ min: 0, max: 40 }) }),
);

describe('ipam block model (random operation sequences)', () => {
  it('never allocates an address twice, keeps the block consistent and reuses in FIFO order after cooldown', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), fc.constantFrom(0, 30), (ops, cooldown) => {
        let now = Date.parse('2026-01-01T00:00:00Z');
        const b = newBlock(parseCidr('10.9.0.0/28'), 'host:n', new Date(now));
        const model = new Map<number, string>(); // ordinal → handle
        const freeOrder: number[] = Array.from({ length: 16 }, (_, i) => i); // expected FIFO of free ordinals
        const cooling: { o: number; at: number }[] = [];
        for (const op of ops) {
          if (op.kind === 'tick') now += op.seconds * 1000;
          collectCooldown(b, new Date(now), cooldown);
          for (const c of cooling.filter((c) => now - c.at >= cooldown * 1000).sort((x, y) => x.at - y.at || x.o - y.o)) {
            freeOrder.push(c.o);
            cooling.splice(cooling.indexOf(c), 1);
          }
          if (op.kind === 'assign') {
            const got = assignFromBlock(b, op.n, `h${op.handle}`, {}, () => false);
            const expected = freeOrder.splice(0, op.n);
            assert.deepEqual(got.map((g) => g.ordinal), expected, 'allocation takes the head of the FIFO');
            for (const g of got) {
              assert.ok(!model.has(g.ordinal), `${formatIp(g.ip)} handed out twice`);
              model.set(g.ordinal, `h${op.handle}`);
            }
            b.sequenceNumber++;
          } else if (op.kind === 'release' && model.size > 0) {
            const o = [...model.keys()][op.pick % model.size]!;
            releaseOrdinals(b, [o], new Date(now), cooldown);
            model.delete(o);
            if (cooldown === 0) freeOrder.push(o);
            else cooling.push({ o, at: now });
            assert.equal(allocationAt(b, o), undefined);
            b.sequenceNumber++;
          }
          assert.deepEqual(structuralProblems(b), []);
          assert.equal(freeCount(b, () => false), freeOrder.length);
          const counts = new Map<string, number>();
          for (const h of model.values()) counts.set(h, (counts.get(h) ?? 0) + 1);
          assert.deepEqual(new Map([...handleCounts(b)].sort()), new Map([...counts].sort()));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the pure IPAM files free of I/O imports', () => {
    for (const f of ['block', 'random-block', 'pool-selection', 'keys', 'ipam-report', 'utilization', 'ipam-format']) {
      const text = readFileSync(join(REPO_ROOT, 'src', 'ipam', `${f}.ts`), 'utf8');
      // type-only imports carry no code; value imports must stay pure
      const imports = [...text.matchAll(/^import (?!type )[^;]*?from '([^']+)'/gms)].map((m) => m[1]!);
      for (const i of imports) assert.ok(!/datastore|node:|\/cli\/|ipam-store|resource-reader|ipam-client/.test(i), `src/ipam/${f}.ts imports ${i}`);
    }
  });
});
