import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { KeyValue } from '../../src/datastore/datastore.js';
import { EtcdDatastore } from '../../src/datastore/etcd.js';
import { isAlreadyExists, UnavailableError } from '../../src/errors.js';
import { startEtcdCluster, type EtcdCluster } from '../helpers/etcd-cluster.js';
import { sleep, WatchCollector } from './watch-collector.js';

/**
 * Fault test on a real cluster: the leader is SIGKILLed while a writer does sequential creates.
 * The writer retries UnavailableError (bounded); afterwards every acknowledged write is present,
 * and two watchers that ran through the failure (one on the whole cluster, one pinned to the
 * killed member, which resumes only after its restart) saw every revision once, in order.
 * Then quorum is lost: operations fail fast and clearly, and recover when members return.
 */

const WRITES = 120;
const KILL_AT = 30;
const PER_WRITE_DEADLINE_MS = 30_000;

let cluster: EtcdCluster | null = null;
after(async () => {
  await cluster?.stop();
});

test('etcd: leader killed mid-write — writes resume, nothing acknowledged is lost, watches have no gaps', async () => {
  cluster = await startEtcdCluster();
  const c = cluster;
  const leader = await c.leader();
  const writer = await EtcdDatastore.open(c.url);
  const watcherStore = await EtcdDatastore.open(c.url);
  const pinnedStore = await EtcdDatastore.open(`etcd://${leader.clientUrl.replace('http://', '')}`);
  const prefix = '/fault/';
  const acked = new Map<string, KeyValue>();
  let retries = 0;
  const reasons = new Set<string>();
  try {
    const start = await watcherStore.list(prefix);
    const all = new WatchCollector();
    const pinned = new WatchCollector();
    const w1 = watcherStore.watch(prefix, start.revision, all.handlers);
    const w2 = pinnedStore.watch(prefix, start.revision, pinned.handlers);
    let killing: Promise<void> | null = null;
    for (let i = 0; i < WRITES; i++) {
      if (i === KILL_AT) killing = c.kill(leader);
      const key = `${prefix}${String(i).padStart(4, '0')}`;
      const value = `value-${i}`;
      const deadline = Date.now() + PER_WRITE_DEADLINE_MS;
      for (let attempt = 0; ; attempt++) {
        try {
          acked.set(key, await writer.create(key, value));
          break;
        } catch (err) {
          // An earlier attempt whose outcome was unknown did apply: that is this write, not a new one.
          if (attempt > 0 && isAlreadyExists(err)) break;
          if (!(err instanceof UnavailableError) || Date.now() > deadline) throw err;
          retries++;
          reasons.add(err.message);
          await sleep(100);
        }
      }
    }
    await killing;
    const afterKill = [...acked.values()].filter((kv) => kv.key >= `${prefix}${String(KILL_AT + 1).padStart(4, '0')}`);
    assert.ok(afterKill.length > 0, 'writes resumed after the leader was killed');

    const check = await EtcdDatastore.open(c.url);
    try {
      const listed = await check.list(prefix);
      const byKey = new Map(listed.items.map((kv) => [kv.key, kv]));
      assert.equal(listed.items.length, WRITES, 'every write is present exactly once');
      for (const [key, kv] of acked) assert.deepEqual(byKey.get(key), kv, `acknowledged write ${key} is present as acknowledged`);
      const lastRev = Math.max(...listed.items.map((kv) => kv.modRevision));

      await c.restart(leader);
      for (const col of [all, pinned]) {
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline && (col.events.length === 0 || Math.max(...col.revisions()) < lastRev) && col.errors.length === 0) await sleep(50);
        assert.deepEqual(col.errors, []);
        const revs = col.revisions();
        assert.deepEqual(revs, listed.items.map((kv) => kv.modRevision).sort((a, b) => a - b), 'every revision once, in order');
        for (let i = 1; i < revs.length; i++) assert.equal(revs[i], revs[i - 1]! + 1, 'no gap between consecutive writes');
      }
    } finally {
      await check.close();
    }
    w1.dispose();
    w2.dispose();
    process.stderr.write(`  ${WRITES} writes, leader ${leader.name} killed at write ${KILL_AT}, ${retries} retries of UnavailableError (${[...reasons].join(' | ')})\n`);
  } finally {
    await writer.close();
    await watcherStore.close();
    await pinnedStore.close();
  }
});

test('etcd: quorum lost — operations fail fast with "no leader" (bounded), and work again once members return', async () => {
  cluster ??= await startEtcdCluster();
  const c = cluster;
  const [a, b, survivor] = c.members as [typeof c.members[0], typeof c.members[0], typeof c.members[0]];
  await c.kill(a);
  await c.kill(b);
  const ds = await EtcdDatastore.open(`etcd://${survivor.clientUrl.replace('http://', '')}`, {}, { retryWindowMs: 1500 });
  try {
    await sleep(2500); // longer than the election timeout: the survivor knows it has no leader
    for (const op of [() => ds.create('/quorum/x', 'v'), () => ds.get('/quorum/x'), () => ds.list('/quorum/')]) {
      const started = Date.now();
      await assert.rejects(op(), (err: Error) => {
        assert.ok(err instanceof UnavailableError, `${err.name}: ${err.message}`);
        assert.match(err.message, /^cannot reach etcd at 127\.0\.0\.1:\d+: the cluster has no leader$/);
        return true;
      });
      assert.ok(Date.now() - started < 5000, 'gave up within the retry window');
    }
    await c.restart(a);
    await c.restart(b);
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await ds.create('/quorum/x', 'v');
        break;
      } catch (err) {
        if (isAlreadyExists(err)) break; // an earlier attempt with an unknown outcome did apply
        if (!(err instanceof UnavailableError) || Date.now() > deadline) throw err;
        await sleep(200);
      }
    }
    assert.equal((await ds.get('/quorum/x'))!.value, 'v');
  } finally {
    await ds.close();
  }
});
