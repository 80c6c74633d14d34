import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ManualClock } from '../../src/base/clock.js';
import type { Datastore } from '../../src/datastore/datastore.js';
import { MemoryDatastore } from '../../src/datastore/memory.js';
import { SqliteDatastore } from '../../src/datastore/sqlite.js';
import { decodeValue, Syncer } from '../../src/datastore/syncer.js';
import { CompactedError, UnavailableError } from '../../src/errors.js';
import { FaultyDatastore, SyncRecorder } from './sync-recorder.js';

// The syncer against the in-memory and SQLite backends: in-sync after the list, updates in
// batches, compaction re-lists to the same state, failures are reported and retried with back-off
// on the Clock, and no update is ever lost or delivered twice.

const dir = mkdtempSync(join(tmpdir(), 'brindle-syncer-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const RES = '/brindle/v3/globalnetworksets/_cluster/';
const IPAM = '/brindle/ipam/v2/assignment/';
const PREFIXES = [RES, IPAM];

function netset(name: string, nets: string[]): string {
  return JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkSet', metadata: { name }, spec: { nets } });
}

async function seed(ds: Datastore): Promise<void> {
  await ds.create(`${RES}a`, netset('a', ['10.0.0.0/24']));
  await ds.create(`${RES}b`, netset('b', ['10.0.1.0/24']));
  await ds.create(`${IPAM}ipv4/block/10-1-0-0-26`, JSON.stringify({ cidr: '10.1.0.0/26', affinity: 'host:n1' }));
  await ds.create('/brindle/v3/tiers/_cluster/outside', '{"not":"watched"}');
}

async function churn(ds: Datastore, tag: string): Promise<void> {
  const b = (await ds.get(`${RES}b`))!;
  await ds.update(`${RES}b`, netset('b', [`10.9.${tag.length}.0/24`]), b.modRevision);
  await ds.create(`${RES}${tag}`, netset(tag, ['10.2.0.0/24']));
  await ds.delete(`${RES}a`).catch(() => undefined);
  await ds.create(`${IPAM}ipv4/block/${tag}`, JSON.stringify({ cidr: '10.1.0.64/26', affinity: null }));
}

const backends: { name: string; open: (n: string) => Promise<Datastore> }[] = [
  { name: 'memory', open: async () => new MemoryDatastore() },
  { name: 'sqlite', open: (n) => SqliteDatastore.open(`sqlite:${join(dir, `${n}.db`)}`) },
];

for (const b of backends) {
  describe(`syncer on ${b.name}`, () => {
    test('in-sync after the list, then updates flow in batches, decoded', { timeout: 20_000 }, async () => {
      const ds = await b.open('flow');
      const rec = new SyncRecorder();
      const syncer = new Syncer(ds, rec, { prefixes: PREFIXES });
      try {
        await seed(ds);
        syncer.start();
        await rec.waitForStatus('in-sync');
        assert.deepEqual(rec.names(), ['wait-for-datastore', 'resync', 'in-sync']);
        await rec.assertMatches(ds, PREFIXES, decodeValue);
        assert.equal(rec.state.size, 3, 'keys outside the prefixes are not delivered');
        const a = rec.state.get(`${RES}a`)!.value as { metadata: { resourceVersion: string } };
        assert.equal(a.metadata.resourceVersion, String(rec.state.get(`${RES}a`)!.revision), 'resources come through the resource codec');
        const batchesBefore = rec.batches.length;
        await churn(ds, 'c');
        await rec.converge(ds, PREFIXES, decodeValue);
        assert.ok(rec.batches.length > batchesBefore);
        assert.equal(rec.state.has(`${RES}a`), false, 'deletes are delivered');
        assert.equal(syncer.status, 'in-sync');
      } finally {
        syncer.dispose();
        await ds.close();
      }
    });

    test('a value that cannot be decoded is delivered as absent', { timeout: 20_000 }, async () => {
      const ds = await b.open('bad');
      const rec = new SyncRecorder();
      const syncer = new Syncer(ds, rec, { prefixes: [IPAM] });
      try {
        await ds.create(`${IPAM}x`, 'not json');
        syncer.start();
        await rec.waitForStatus('in-sync');
        assert.deepEqual(rec.batches.flat().map((u) => [u.key, u.value]), [[`${IPAM}x`, null]]);
      } finally {
        syncer.dispose();
        await ds.close();
      }
    });

    test('a failed watch is reported, retried with back-off, and re-listed without repeats', { timeout: 20_000 }, async () => {
      const inner = await b.open('faulty');
      const ds = new FaultyDatastore(inner, () => new UnavailableError('the test took the datastore away'));
      const clock = new ManualClock();
      const rec = new SyncRecorder();
      const syncer = new Syncer(ds, rec, { prefixes: PREFIXES, clock, minBackoffMs: 100, maxBackoffMs: 400 });
      try {
        await seed(inner);
        syncer.start();
        await rec.waitForStatus('in-sync');
        // A disconnect the backend retries by itself: reported, then in-sync again, nothing re-listed.
        const lists = ds.listCalls;
        ds.disconnect(new UnavailableError('member gone'));
        assert.equal(rec.status, 'wait-for-datastore');
        assert.match(rec.statuses.at(-1)!.cause!.message, /member gone/);
        ds.reconnect();
        assert.equal(rec.status, 'in-sync');
        assert.equal(ds.listCalls, lists);
        // A terminal watch failure: each prefix re-lists after 100 ms (the lists fail), then after 200 ms more.
        ds.failLists = 2;
        ds.failWatches(new UnavailableError('watch broke'));
        await churn(inner, 'dd');
        const settle = () => new Promise((r) => setTimeout(r, 20));
        assert.equal(rec.status, 'wait-for-datastore');
        clock.advance(99);
        await settle();
        assert.equal(ds.listCalls, lists, 'no re-list before the back-off');
        clock.advance(1);
        await rec.waitFor('the first re-lists', () => ds.listCalls === lists + 2);
        clock.advance(199);
        await settle();
        assert.equal(ds.listCalls, lists + 2, 'the back-off doubled');
        assert.equal(rec.status, 'wait-for-datastore');
        clock.advance(1);
        await rec.waitForStatus('in-sync');
        await rec.converge(ds, PREFIXES, decodeValue);
        assert.ok(rec.statuses.some((s) => s.status === 'wait-for-datastore' && /took the datastore away|watch broke/.test(s.cause?.message ?? '')));
      } finally {
        syncer.dispose();
        await inner.close();
      }
    });
  });
}

test('memory: compaction under a watch re-lists and converges to the same state, without repeats', { timeout: 20_000 }, async () => {
  const inner = new MemoryDatastore();
  const ds = new FaultyDatastore(inner);
  const rec = new SyncRecorder();
  const syncer = new Syncer(ds, rec, { prefixes: PREFIXES });
  try {
    await seed(inner);
    syncer.start();
    await rec.waitForStatus('in-sync');
    await churn(inner, 'e');
    await rec.converge(ds, PREFIXES, decodeValue);
    // The watch loses its history: changes it never saw, then compaction.
    const lists = ds.listCalls;
    ds.failWatches(new CompactedError('history compacted by the test', 0));
    await churn(inner, 'ff');
    inner.compact(Number.MAX_SAFE_INTEGER);
    await rec.waitFor('a re-list', () => ds.listCalls > lists);
    await rec.waitForStatus('in-sync');
    await rec.converge(ds, PREFIXES, decodeValue);
    const tail = rec.names().slice(-2);
    assert.deepEqual(tail, ['resync', 'in-sync']);
    assert.ok(rec.statuses.at(-2)!.cause instanceof CompactedError);
  } finally {
    syncer.dispose();
  }
});

test('sqlite: a watcher that falls behind compaction (another process wrote and compacted) re-lists and converges', { timeout: 20_000 }, async () => {
  const url = `sqlite:${join(dir, 'behind.db')}`;
  // This process's store polls only when it writes itself; the other one writes and compacts meanwhile.
  const mine = await SqliteDatastore.open(url, {}, { pollIntervalMs: 3_600_000 });
  const other = await SqliteDatastore.open(url);
  const rec = new SyncRecorder();
  const syncer = new Syncer(mine, rec, { prefixes: PREFIXES });
  try {
    await seed(other);
    syncer.start();
    await rec.waitForStatus('in-sync');
    await churn(other, 'g');
    await other.compact(Number.MAX_SAFE_INTEGER);
    await mine.create('/brindle/v3/tiers/_cluster/wake', '{}'); // wakes this store's poller
    await rec.converge(mine, PREFIXES, decodeValue);
    assert.ok(rec.statuses.some((s) => s.status === 'resync' && s.cause instanceof CompactedError), JSON.stringify(rec.names()));
    assert.equal(rec.status, 'in-sync');
  } finally {
    syncer.dispose();
    await mine.close();
    await other.close();
  }
});

test('a syncer reports wait-for-datastore until its first list succeeds', { timeout: 10_000 }, async () => {
  const ds = new FaultyDatastore(new MemoryDatastore(), () => new UnavailableError('cannot reach the datastore'));
  ds.failLists = 1;
  const clock = new ManualClock();
  const rec = new SyncRecorder();
  const syncer = new Syncer(ds, rec, { prefixes: [RES], clock, minBackoffMs: 50 });
  try {
    syncer.start();
    await rec.waitFor('the failed list', () => ds.listCalls === 1 && rec.statuses.some((s) => s.cause));
    assert.deepEqual(rec.statuses.map((s) => [s.status, s.cause?.message]), [['wait-for-datastore', undefined], ['wait-for-datastore', 'cannot reach the datastore']]);
    clock.advance(50);
    await rec.waitForStatus('in-sync');
    assert.deepEqual(rec.names(), ['wait-for-datastore', 'wait-for-datastore', 'in-sync']);
    assert.deepEqual(rec.batches, [], 'an empty datastore delivers no batch');
  } finally {
    syncer.dispose();
  }
});
