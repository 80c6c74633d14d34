import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { ManualClock } from '../../src/base/clock.js';
import { FakeExec } from '../../src/base/exec.js';
import { FlowContext } from '../../src/flows/flow-context.js';
import { FlowMetrics } from '../../src/flows/flow-metrics.js';
import { FlowPipeline } from '../../src/flows/flow-pipeline.js';
import { flowToJson } from '../../src/flows/flow-record.js';
import { SqliteFlowStore } from '../../src/flows/flow-store.js';
import { UlogdCollector } from '../../src/flows/ulogd-collector.js';
import type { ConntrackEnd, UlogdEvent } from '../../src/flows/ulogd-event.js';
import { ulogdOverrun } from '../../src/flows/ulogd-log.js';
import { topologyResources } from './topology.js';

/**
 * Where connections could go missing between the kernel and the store, each counted: connections
 * that reuse a 5-tuple within one aggregation interval (source ports at thousands of connections a
 * second) are summed into one record that says how many it holds; netlink overruns that ulogd
 * reports are counted (metric, store) rather than left in its log.
 */

const dir = mkdtempSync(join(tmpdir(), 'brindle-flow-losses-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('connections reusing a 5-tuple within an interval', () => {
  test('are one record per 5-tuple with a connection count; every connection is counted, none lost', async () => {
    const ctx = FlowContext.fromResources(topologyResources());
    const ip = (name: string) => [...ctx.snapshot.endpoints.values()].find((e) => e.name === name)!.ipv4Nets[0]!.split('/')[0]!;
    const clock = new ManualClock(1_000_000);
    const store = new SqliteFlowStore(':memory:');
    const registry = new Registry();
    let pipeline: FlowPipeline | undefined;
    const metrics = new FlowMetrics(registry, () => pipeline?.sinkStats() ?? []);
    pipeline = new FlowPipeline({ node: 'node-a', context: ctx, clock, sinks: [store], store, metrics, intervalMs: 5_000 });
    const end = (srcPort: number, t: number): ConntrackEnd => ({ kind: 'conntrack-end', srcIp: ip('client'), dstIp: ip('db'), protocol: 'TCP', srcPort, dstPort: 5001, packets: 4, bytes: 240, replyPackets: 3, replyBytes: 180, start: t, end: t + 2 });
    // 1,000 connections over 500 source ports (each used twice, as the kernel hands them out again
    // once their TIME_WAIT is reused) in one interval, then 10 more in the next.
    const events: UlogdEvent[] = [];
    for (let i = 0; i < 1_000; i++) events.push(end(40_000 + (i % 500), 1_000_000 + i));
    for (const ev of events) pipeline.onEvent(ev);
    clock.advance(5_000);
    for (let i = 0; i < 10; i++) pipeline.onEvent(end(40_000 + i, 1_006_000 + i));
    clock.advance(5_000);
    await Promise.all(pipeline.buffers.map((b) => b.settled()));
    const rows = store.query({});
    assert.equal(rows.length, 510, 'one record per 5-tuple per interval');
    assert.equal(rows.reduce((s, r) => s + (r.record.connections ?? 0), 0), 1_010, 'every connection counted');
    assert.equal(rows.reduce((s, r) => s + r.record.packets, 0), 1_010 * 7);
    const first = rows.find((r) => r.record.srcPort === 40_000)!.record;
    assert.deepEqual([first.connections, first.packets, first.start, first.end], [2, 14, 1_000_000, 1_000_502]);
    assert.equal(flowToJson(first).connections, 2);
    assert.deepEqual(pipeline.stats(), { records: 1_010, merged: 500, overflowed: 0, unknownPrefixes: 0 });
    assert.match(await registry.metrics(), /brindle_flow_records_merged_total 500/);
    await pipeline.close();
  });
});

// ulogd 2.0.8's own lines, as it prints them (ulogd_inpflow_NFCT.c / ulogd_inppkt_NFLOG.c).
const LOG = {
  growing: 'Mon Dec  7 20:39:27 2026 <5> ulogd_inpflow_NFCT.c:480 We are losing events, increasing buffer size to 67108864',
  atMax: 'Mon Dec  7 20:39:28 2026 <5> ulogd_inpflow_NFCT.c:462 Maximum buffer size (67108864) in NFCT has been reached. Please, consider rising `netlink_socket_buffer_size` and `netlink_socket_buffer_maxsize` clauses.',
  noMax: "Mon Dec  7 20:39:28 2026 <5> ulogd_inppkt_NFLOG.c:430 We are losing events. Please, consider using the clauses `netlink_socket_buffer_size' and `netlink_socket_buffer_maxsize'",
  info: 'Mon Dec  7 20:39:27 2026 <5> ulogd_inpflow_NFCT.c:1318 NFCT netlink buffer size has been set to 33554432',
};

describe('netlink overruns reported by ulogd', () => {
  test('each report is classified by the subscription that overran; other lines are not', () => {
    assert.equal(ulogdOverrun(LOG.growing), 'conntrack');
    assert.equal(ulogdOverrun(LOG.atMax), 'conntrack', 'at the maximum ulogd says "Maximum buffer size", not "losing"');
    assert.equal(ulogdOverrun(LOG.noMax), 'nflog');
    assert.equal(ulogdOverrun(LOG.info), undefined);
    assert.equal(ulogdOverrun('Mon Dec  7 20:39:27 2026 <5> ulogd.c:978 building new pluginstance stack'), undefined);
  });

  test('the collector reads ulogd\'s log from its stdout: overruns counted and reported, the log kept in ulogd.log', { timeout: 20_000 }, async () => {
    // A stand-in for ulogd: connects the JSON outputs named in the config it is given, reports two
    // overruns on stdout (where the config tells ulogd to log) and sends one event.
    const fake = join(dir, 'fake-ulogd');
    writeFileSync(fake, `#!${process.execPath}
const net = require('node:net');
const conf = require('node:fs').readFileSync(process.argv[3], 'utf8');
if (!/logfile="stdout"/.test(conf)) { console.error('ulogd must log to stdout'); process.exit(3); }
const socks = [...conf.matchAll(/^file="([^"]+)"/gm)].map((m) => net.connect(m[1]));
console.log(${JSON.stringify(LOG.info)});
setTimeout(() => {
  console.log(${JSON.stringify(LOG.growing)});
  console.log(${JSON.stringify(LOG.atMax)});
  socks[socks.length - 1].write(JSON.stringify({ 'ct.event': 4, 'orig.ip.saddr.str': '10.99.0.1', 'orig.ip.daddr.str': '10.99.0.2', 'orig.ip.protocol': 6, 'orig.l4.sport': 40001, 'orig.l4.dport': 5001, 'orig.raw.pktcount': 3 }) + '\\nnot json\\n');
}, 300);
setInterval(() => {}, 1000);
`);
    chmodSync(fake, 0o755);
    const got: string[] = [];
    const events: UlogdEvent[] = [];
    const runDir = join(dir, 'run');
    const c = new UlogdCollector({ runDir, ulogdPath: fake, exec: new FakeExec(), onEvent: (ev) => events.push(ev), onOverrun: (source) => got.push(source) });
    try {
      await c.start();
      const deadline = Date.now() + 10_000;
      while ((got.length < 2 || c.badLines < 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(got, ['conntrack', 'conntrack']);
      assert.deepEqual(c.overruns, { conntrack: 2, nflog: 0 });
      assert.deepEqual([events.length, c.lines, c.badLines], [1, 2, 1]);
    } finally {
      c.dispose();
    }
    await new Promise((r) => setTimeout(r, 100));
    const log = readFileSync(join(runDir, 'ulogd.log'), 'utf8');
    assert.ok(log.includes(LOG.info) && log.includes(LOG.atMax), log);
  });

  test('the store keeps overruns per node and minute, for the period a query asks about', async () => {
    const store = new SqliteFlowStore(join(dir, 'o.db'));
    store.recordOverrun('node-a', 'conntrack', 120_500);
    store.recordOverrun('node-a', 'conntrack', 179_000);
    store.recordOverrun('node-b', 'nflog', 185_000);
    assert.deepEqual(store.overruns(), [{ node: 'node-a', minute: 120_000, source: 'conntrack', count: 2 }, { node: 'node-b', minute: 180_000, source: 'nflog', count: 1 }]);
    assert.deepEqual(store.overruns({ since: 181_000 }).map((o) => o.node), ['node-b']);
    assert.deepEqual(store.overruns({ node: 'node-a' }).map((o) => o.count), [2]);
    await store.close();
  });
});
