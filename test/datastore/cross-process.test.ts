import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SqliteDatastore } from '../../src/datastore/sqlite.js';
import { percentiles } from '../../bench/table.js';
import { killAllWorkers, runWorker } from './child-worker.js';
import { keyOfEvent, revisionOf, WatchCollector } from './watch-collector.js';

/**
 * Two processes on one SQLite file: a child process writes (creates, then deletes), and this
 * process's watch must receive every acknowledged write, in order, exactly once. Latency is
 * printed for information only (the benchmark reports it); the test asserts delivery.
 */

const dir = mkdtempSync(join(tmpdir(), 'brindle-xproc-test-'));
after(() => {
  killAllWorkers();
  rmSync(dir, { recursive: true, force: true });
});

test('SQLite: writes from another process reach this process\'s watch, in order, once each', async () => {
  const url = `sqlite:${join(dir, 'shared.db')}`;
  const ds = await SqliteDatastore.open(url);
  const prefix = '/xproc/';
  const received: number[] = [];
  const collector = new WatchCollector();
  try {
    await ds.create('/unrelated', 'x');
    const start = await ds.list(prefix);
    const watch = ds.watch(prefix, start.revision, {
      onEvents: (events) => {
        const now = performance.timeOrigin + performance.now();
        for (const e of events) if (e.type === 'put') received.push(now - (JSON.parse(e.kv.value) as { t: number }).t);
        collector.handlers.onEvents(events);
      },
      onError: collector.handlers.onError,
    });
    const res = await runWorker('write-worker.js', [url, prefix, '200', '1'], 60_000);
    assert.equal(res.code, 0, res.stderr);
    const acks = res.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; key: string; rev: number });
    assert.equal(acks.length, 220);
    await collector.waitForEvents(acks.length, 15_000);
    watch.dispose();
    assert.deepEqual(collector.errors, []);
    const seen = collector.events.map((e) => ({ type: e.type, key: keyOfEvent(e), rev: revisionOf(e) }));
    assert.deepEqual(seen, acks, 'exactly the acknowledged writes, in order');
    const lat = percentiles(received);
    process.stderr.write(`  cross-process watch latency (write start → event): median ${lat.median.toFixed(1)} ms, p99 ${lat.p99.toFixed(1)} ms\n`);
  } finally {
    await ds.close();
  }
});
