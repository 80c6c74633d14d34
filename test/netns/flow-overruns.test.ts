import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { systemClock } from '../../src/base/clock.js';
import { ProcessExec } from '../../src/base/exec.js';
import type { Datastore } from '../../src/datastore/datastore.js';
import { openDatastore } from '../../src/datastore/open.js';
import { FlowService } from '../../src/flows/flow-service.js';
import { SqliteFlowStore } from '../../src/flows/flow-store.js';
import type { NetlinkBuffer } from '../../src/flows/ulogd-config.js';
import { flowTestSkipReason, sh } from './flows-helpers.js';

/**
 * Conntrack ends the kernel could not queue for ulogd (netlink receive buffer overrun) on the real
 * kernel: a namespace with a few thousand conntrack entries, flushed at once (a burst of DESTROY
 * events). With a tiny buffer the kernel drops events, and flow logging counts it (metric, store,
 * one report); with the product's buffer every end arrives.
 */

const skip = flowTestSkipReason(['nft', 'ip', 'ulogd', 'conntrack']);
const ns = `brl-fo${process.pid % 100000}`;
const ENTRIES = 3_000;
let dir = '';
let ds: Datastore | undefined;

/** ENTRIES UDP conntrack entries (one per source port, to the discard port on loopback); how many the table holds. */
function fillConntrack(): number {
  sh('ip', ['netns', 'exec', ns, process.execPath, '-e', `
    const d = require('node:dgram'); let left = ${ENTRIES}; const buf = Buffer.alloc(8);
    for (let i = 0; i < ${ENTRIES}; i++) { const s = d.createSocket('udp4'); s.send(buf, 9, '127.0.0.1', () => { s.close(); if (--left === 0) process.exit(0); }); }
    setTimeout(() => process.exit(1), 15000);`]);
  return Number(sh('ip', ['netns', 'exec', ns, 'conntrack', '-C']).trim());
}

async function burst(netlinkBuffer: NetlinkBuffer | undefined, tag: string) {
  const registry = new Registry();
  const store = new SqliteFlowStore(join(dir, `${tag}.db`));
  const reports: { source: string; overruns: number }[] = [];
  const service = new FlowService({
    node: 'node-a', datastore: ds!, exec: new ProcessExec(), clock: systemClock, runDir: join(dir, tag), netns: ns, sinks: [store], store, registry, intervalMs: 200,
    ...(netlinkBuffer ? { netlinkBuffer } : {}), onOverrun: (r) => reports.push(r),
  });
  try {
    await service.start();
    const entries = fillConntrack();
    assert.ok(entries >= ENTRIES * 0.95, `conntrack holds ${entries} entries`);
    const before = service.stats()!.records;
    sh('ip', ['netns', 'exec', ns, 'conntrack', '-F']);
    // Until the records stop coming (bounded).
    let [last, since] = [-1, Date.now()];
    const deadline = Date.now() + 15_000;
    while (Date.now() - since < 1_500 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      const n = service.stats()!.records;
      if (n !== last) [last, since] = [n, Date.now()];
    }
    const stats = service.stats()!;
    return { entries, ended: stats.records - before, stats, reports, metrics: await registry.metrics(), stored: store.overruns() };
  } finally {
    await service.close();
    await store.close();
  }
}

describe('conntrack events the kernel drops are counted (netns, ulogd2, conntrack)', { skip, timeout: 90_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'brl-flow-overrun-'));
    ds = await openDatastore(`sqlite:${join(dir, 'brindle.db')}`);
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // A ct expression makes conntrack track this namespace's traffic.
    sh('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], 'table inet brl {\n  chain out {\n    type filter hook output priority 0; policy accept;\n    ct state new counter\n  }\n}\n');
  });
  after(async () => {
    spawnSync('ip', ['netns', 'del', ns]);
    await ds?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a burst into a tiny netlink buffer: ends are lost, and the overrun is counted, stored and reported once', async () => {
    const r = await burst({ bytes: 4096, maxBytes: 8192 }, 'tiny');
    console.log(`# tiny buffer: ${r.ended} of ${r.entries} conntrack ends arrived; ${r.stats.overruns.conntrack} overrun(s) counted`);
    assert.ok(r.ended < r.entries, `the kernel dropped ends: ${r.ended} of ${r.entries} arrived`);
    assert.ok(r.stats.overruns.conntrack >= 1, JSON.stringify(r.stats));
    const metric = Number(/brindle_flow_kernel_overruns_total\{source="conntrack"\} (\d+)/.exec(r.metrics)?.[1] ?? 0);
    assert.equal(metric, r.stats.overruns.conntrack);
    assert.equal(r.stored.reduce((n, o) => n + o.count, 0), r.stats.overruns.conntrack);
    assert.deepEqual(r.stored.map((o) => [o.node, o.source])[0], ['node-a', 'conntrack']);
    assert.equal(r.reports.length, 1, 'reported once per interval, not once per overrun');
  });

  test('the same burst with the product\'s buffer: every end arrives, no overrun', async () => {
    const r = await burst(undefined, 'default');
    assert.deepEqual([r.ended, r.stats.overruns.conntrack, r.reports.length], [r.entries, 0, 0]);
    assert.match(r.metrics, /brindle_flow_kernel_overruns_total\{source="conntrack"\} 0/);
  });
});
