import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { EtcdDatastore } from '../../src/datastore/etcd.js';
import { decodeValue, Syncer } from '../../src/datastore/syncer.js';
import { CompactedError, isAlreadyExists, UnavailableError } from '../../src/errors.js';
import { startEtcdCluster, type EtcdCluster } from '../helpers/etcd-cluster.js';
import { FaultyDatastore, SyncRecorder } from './sync-recorder.js';
import { sleep } from './watch-collector.js';

// The syncer on a real 3-member etcd cluster: in-sync after the list, updates flow, the leader
// killed mid-writes loses and repeats nothing, every member killed is reported as
// wait-for-datastore and recovers to in-sync, and a watch that starts after compaction re-lists
// to the same state.

const PREFIX = '/sync/';
const decode = decodeValue;

let cluster: EtcdCluster | null = null;
after(async () => {
  await cluster?.stop();
});

/** A create retried through UnavailableError (bounded), as a writer riding out a failure does. */
async function put(ds: EtcdDatastore, key: string, value: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (let attempt = 0; ; attempt++) {
    try {
      await ds.create(key, value);
      return;
    } catch (err) {
      if (attempt > 0 && isAlreadyExists(err)) return; // an earlier attempt with an unknown outcome applied
      if (!(err instanceof UnavailableError) || Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

const key = (i: number) => `${PREFIX}${String(i).padStart(4, '0')}`;
const json = (i: number) => JSON.stringify({ i });

test('etcd: in-sync after the list; updates flow; the leader killed mid-writes loses and repeats nothing', { timeout: 120_000 }, async () => {
  cluster = await startEtcdCluster();
  const c = cluster;
  const writer = await EtcdDatastore.open(c.url);
  const ds = await EtcdDatastore.open(c.url);
  const rec = new SyncRecorder();
  const syncer = new Syncer(ds, rec, { prefixes: [PREFIX], minBackoffMs: 50, maxBackoffMs: 500 });
  try {
    for (let i = 0; i < 20; i++) await put(writer, key(i), json(i));
    syncer.start();
    await rec.waitForStatus('in-sync');
    assert.deepEqual(rec.names(), ['wait-for-datastore', 'in-sync']);
    await rec.assertMatches(writer, [PREFIX], decode);
    const leader = await c.leader();
    let killing: Promise<void> | undefined;
    for (let i = 20; i < 80; i++) {
      if (i === 40) killing = c.kill(leader);
      await put(writer, key(i), json(i));
      if (i % 10 === 0) await writer.delete(key(i - 15)).catch(() => undefined);
    }
    await killing;
    await rec.converge(writer, [PREFIX], decode, 30_000);
    await c.restart(leader);
    await put(writer, key(999), json(999));
    await rec.converge(writer, [PREFIX], decode, 30_000);
    process.stderr.write(`  leader ${leader.name} killed; statuses ${JSON.stringify(rec.names())}, ${rec.batches.length} batches\n`);
  } finally {
    syncer.dispose();
    await ds.close();
    await writer.close();
  }
});

test('etcd: every member killed is reported as wait-for-datastore; restarted, it is in-sync again with nothing lost', { timeout: 120_000 }, async () => {
  cluster ??= await startEtcdCluster();
  const c = cluster;
  const writer = await EtcdDatastore.open(c.url);
  const ds = await EtcdDatastore.open(c.url, {}, { retryWindowMs: 1000 });
  const rec = new SyncRecorder();
  const syncer = new Syncer(ds, rec, { prefixes: [PREFIX], minBackoffMs: 50, maxBackoffMs: 500 });
  try {
    syncer.start();
    await rec.waitForStatus('in-sync');
    for (const m of c.members) await c.kill(m);
    await rec.waitForStatus('wait-for-datastore', 20_000);
    const down = rec.statuses.at(-1)!;
    assert.ok(down.cause instanceof Error, 'the outage has a cause');
    process.stderr.write(`  all members down: ${down.cause!.message}\n`);
    await Promise.all(c.members.map((m) => c.restart(m)));
    await rec.waitForStatus('in-sync', 30_000);
    await put(writer, key(2000), json(2000));
    await writer.delete(key(0));
    await rec.converge(writer, [PREFIX], decode, 30_000);
  } finally {
    syncer.dispose();
    await ds.close();
    await writer.close();
  }
});

test('etcd: a watch that starts after compaction gets CompactedError; the syncer re-lists to the same state', { timeout: 120_000 }, async () => {
  cluster ??= await startEtcdCluster();
  const c = cluster;
  const writer = await EtcdDatastore.open(c.url);
  const inner = await EtcdDatastore.open(c.url);
  const ds = new FaultyDatastore(inner);
  const rec = new SyncRecorder();
  const syncer = new Syncer(ds, rec, { prefixes: [PREFIX] });
  try {
    for (let i = 3000; i < 3010; i++) await put(writer, key(i), json(i));
    // List now, open the watch only after changes and a compaction past the list's revision.
    ds.holdWatches = true;
    syncer.start();
    await rec.waitForStatus('in-sync');
    const lists = ds.listCalls;
    for (let i = 3010; i < 3020; i++) await put(writer, key(i), json(i));
    await writer.delete(key(3001));
    const head = (await writer.list(PREFIX)).revision;
    await writer.compact(head);
    ds.releaseWatches();
    await rec.waitFor('a re-list', () => ds.listCalls > lists, 20_000);
    await rec.waitForStatus('in-sync', 20_000);
    await rec.converge(writer, [PREFIX], decode);
    assert.ok(rec.statuses.some((s) => s.status === 'resync' && s.cause instanceof CompactedError), JSON.stringify(rec.names()));
    await put(writer, key(3999), json(3999));
    await rec.converge(writer, [PREFIX], decode);
  } finally {
    syncer.dispose();
    await inner.close();
    await writer.close();
  }
});
