import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openDatastore } from '../../src/datastore/open.js';
import { startEtcdCluster, type EtcdCluster } from '../helpers/etcd-cluster.js';
import { killAllWorkers, runWorker } from './child-worker.js';

/**
 * No lost updates: PROCS child processes each do INCREMENTS compare-and-swap increments of one
 * counter through a backend; the counter must end at exactly PROCS × INCREMENTS, and the key's
 * revision must have moved once per successful increment.
 */

const PROCS = 4;
const INCREMENTS = 100;

const dir = mkdtempSync(join(tmpdir(), 'brindle-cas-test-'));
let cluster: EtcdCluster | null = null;
after(async () => {
  killAllWorkers();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function casRace(url: string): Promise<void> {
  const key = `/race/counter-${Date.now()}`;
  const ds = await openDatastore(url);
  try {
    const start = await ds.create(key, '0');
    const startAt = String(Date.now() + 2000);
    const results = await Promise.all(Array.from({ length: PROCS }, () => runWorker('cas-worker.js', [url, key, String(INCREMENTS), startAt], 120_000)));
    for (const r of results) {
      assert.equal(r.code, 0, `worker failed: ${r.stderr}`);
      assert.equal(JSON.parse(r.stdout).done, INCREMENTS);
    }
    const end = await ds.get(key);
    assert.equal(end!.value, String(PROCS * INCREMENTS), 'no increment was lost');
    assert.equal(end!.modRevision, start.modRevision + PROCS * INCREMENTS, 'one revision per successful CAS');
    const conflicts = results.reduce((n, r) => n + (JSON.parse(r.stdout) as { conflicts: number }).conflicts, 0);
    process.stderr.write(`  ${url.split(':')[0]}: ${PROCS}×${INCREMENTS} increments, ${conflicts} CAS conflicts retried\n`);
    assert.ok(conflicts > 0, 'the workers really raced (some compare-and-swaps lost)');
  } finally {
    await ds.close();
  }
}

test(`SQLite file: ${PROCS} processes × ${INCREMENTS} CAS increments lose nothing`, async () => {
  await casRace(`sqlite:${join(dir, 'race.db')}`);
});

test(`etcd cluster: ${PROCS} processes × ${INCREMENTS} CAS increments lose nothing`, async () => {
  cluster = await startEtcdCluster();
  await casRace(cluster.url);
});
