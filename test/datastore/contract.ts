import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Datastore, WatchEvent } from '../../src/datastore/datastore.js';
import { AlreadyExistsError, CompactedError, ConflictError, NotFoundError } from '../../src/errors.js';
import { keyOfEvent, sleep, WatchCollector } from './watch-collector.js';

/** A backend under test. `open` may be called many times; every call must see the same data when `shared`. */
export interface ContractSubject {
  open(): Promise<Datastore & { compact?(revision: number): unknown }>;
  /** True when two opened stores share one key space (sqlite file, etcd cluster); false for memory. */
  shared: boolean;
  /** False for a backend without watches (the etcd HTTP gateway client): the watch tests are skipped. */
  watches?: boolean;
}

let prefixCounter = 0;
/** A key prefix no other test in this process uses, so backends need not be emptied between tests. */
function freshPrefix(): string {
  return `/contract/${process.pid}-${Date.now().toString(36)}-${prefixCounter++}/`;
}

/**
 * The one contract every Datastore backend honours, with MemoryDatastore as the reference. Tests
 * use their own key prefix and reason about revisions relative to a write they made, so they also
 * run against a shared etcd cluster.
 */
export function datastoreContract(name: string, subject: ContractSubject): void {
  describe(`Datastore contract: ${name}`, () => {
    const watchSkip = subject.watches === false ? 'this backend does not watch' : false;
    const withStore = async (fn: (ds: Datastore & { compact?(revision: number): unknown }, p: string) => Promise<void>) => {
      const ds = await subject.open();
      try {
        await fn(ds, freshPrefix());
      } finally {
        await ds.close();
      }
    };

    test('create, get and the revision rules', () => withStore(async (ds, p) => {
      const a = await ds.create(`${p}a`, 'one');
      assert.equal(a.key, `${p}a`);
      assert.equal(a.value, 'one');
      assert.equal(a.createRevision, a.modRevision);
      assert.deepEqual(await ds.get(`${p}a`), a);
      assert.equal(await ds.get(`${p}missing`), null);
      const b = await ds.create(`${p}b`, 'two');
      assert.equal(b.modRevision, a.modRevision + 1, 'each write bumps the revision by one');
      await assert.rejects(ds.create(`${p}a`, 'again'), AlreadyExistsError);
      const c = await ds.create(`${p}c`, 'three');
      assert.equal(c.modRevision, b.modRevision + 1, 'a refused create does not bump the revision');
      assert.equal((await ds.get(`${p}a`))!.value, 'one');
    }));

    test('update is compare-and-swap on modRevision', () => withStore(async (ds, p) => {
      const a = await ds.create(`${p}k`, 'v1');
      const u1 = await ds.update(`${p}k`, 'v2', a.modRevision);
      assert.deepEqual(u1, { key: `${p}k`, value: 'v2', createRevision: a.createRevision, modRevision: a.modRevision + 1 });
      await assert.rejects(ds.update(`${p}k`, 'stale', a.modRevision), ConflictError);
      await assert.rejects(ds.update(`${p}nope`, 'x', 1), NotFoundError);
      const u2 = await ds.update(`${p}k`, 'v3', u1.modRevision);
      assert.equal(u2.modRevision, u1.modRevision + 1, 'refused updates do not bump the revision');
      assert.deepEqual(await ds.get(`${p}k`), u2);
    }));

    test('delete, with and without an expected revision', () => withStore(async (ds, p) => {
      const a = await ds.create(`${p}a`, '1');
      const b = await ds.create(`${p}b`, '2');
      await assert.rejects(ds.delete(`${p}missing`), NotFoundError);
      await assert.rejects(ds.delete(`${p}a`, a.modRevision + 100), ConflictError);
      assert.notEqual(await ds.get(`${p}a`), null, 'a refused delete keeps the key');
      await ds.delete(`${p}a`, a.modRevision);
      await ds.delete(`${p}b`);
      assert.equal(await ds.get(`${p}a`), null);
      assert.equal(await ds.get(`${p}b`), null);
      await assert.rejects(ds.delete(`${p}a`), NotFoundError);
      const again = await ds.create(`${p}a`, 'reborn');
      assert.equal(again.modRevision, b.modRevision + 3, 'two deletes were two revisions');
      assert.equal(again.createRevision, again.modRevision, 'a re-created key has a new create revision');
    }));

    test('list is sorted, filtered by prefix, and carries the store revision', () => withStore(async (ds, p) => {
      for (const k of ['b', 'a/2', 'c', 'a/1', 'a']) await ds.create(`${p}${k}`, k);
      await ds.create(`${p.slice(0, -1)}x`, 'outside');
      const last = await ds.create(`${p}d`, 'd');
      const all = await ds.list(p);
      assert.deepEqual(all.items.map((kv) => kv.key.slice(p.length)), ['a', 'a/1', 'a/2', 'b', 'c', 'd']);
      assert.equal(all.revision, last.modRevision);
      const sub = await ds.list(`${p}a/`);
      assert.deepEqual(sub.items.map((kv) => kv.value), ['a/1', 'a/2']);
      assert.deepEqual(sub.items[0], await ds.get(`${p}a/1`));
      assert.deepEqual((await ds.list(`${p}zzz`)).items, []);
    }));

    test('values round-trip exactly (unicode, large)', () => withStore(async (ds, p) => {
      const big = 'x'.repeat(200_000);
      const odd = 'héllo ✓ 😀 "quoted" \\ \n\t\u0000end';
      await ds.create(`${p}big`, big);
      await ds.create(`${p}odd`, odd);
      assert.equal((await ds.get(`${p}big`))!.value, big);
      assert.equal((await ds.get(`${p}odd`))!.value, odd);
    }));

    test('list at a revision, then watch from it: exactly the later changes, in order', { skip: watchSkip }, () => withStore(async (ds, p) => {
      const a = await ds.create(`${p}a`, '1');
      await ds.create(`${p}b`, '2');
      const listed = await ds.list(p);
      const u = await ds.update(`${p}a`, '1b', a.modRevision);
      await ds.create(`/elsewhere${p}z`, 'not watched');
      await ds.delete(`${p}b`);
      const c = await ds.create(`${p}c`, '3');
      const w = new WatchCollector();
      const watch = ds.watch(p, listed.revision, w.handlers);
      try {
        await w.waitForEvents(3);
        await ds.delete(`${p}c`, c.modRevision);
        await w.waitForEvents(4);
        await sleep(50);
        assert.deepEqual(w.errors, []);
        const expected: WatchEvent[] = [
          { type: 'put', kv: u },
          { type: 'delete', key: `${p}b`, modRevision: u.modRevision + 2 },
          { type: 'put', kv: c },
          { type: 'delete', key: `${p}c`, modRevision: c.modRevision + 1 },
        ];
        assert.deepEqual(w.events, expected);
      } finally {
        watch.dispose();
      }
    }));

    test('a live watch sees writes in order; prefixes filter exactly; dispose stops delivery', { skip: watchSkip }, () => withStore(async (ds, p) => {
      const start = await ds.list(p);
      const inA = new WatchCollector();
      const all = new WatchCollector();
      const wa = ds.watch(`${p}a/`, start.revision, inA.handlers);
      const wall = ds.watch(p, start.revision, all.handlers);
      try {
        await sleep(20);
        for (let i = 0; i < 20; i++) await ds.create(`${p}${i % 2 === 0 ? 'a/' : 'ab'}${String(i).padStart(2, '0')}`, `v${i}`);
        await all.waitForEvents(20);
        await inA.waitForEvents(10);
        const revs = all.revisions();
        for (let i = 1; i < revs.length; i++) assert.equal(revs[i], revs[0]! + i, 'consecutive revisions, no gaps or repeats');
        assert.ok(inA.events.every((e) => keyOfEvent(e).startsWith(`${p}a/`)));
        assert.equal(inA.events.length, 10);
        wa.dispose();
        await ds.create(`${p}a/after`, 'late');
        await all.waitForEvents(21);
        await sleep(50);
        assert.equal(inA.events.length, 10, 'no event after dispose');
      } finally {
        wa.dispose();
        wall.dispose();
      }
    }));

    test('many watchers on one store all see the same events', { skip: watchSkip }, () => withStore(async (ds, p) => {
      const start = await ds.list(p);
      const collectors = Array.from({ length: 40 }, () => new WatchCollector());
      const watches = collectors.map((c, i) => ds.watch(i % 2 === 0 ? p : `${p}k`, start.revision, c.handlers));
      try {
        for (let i = 0; i < 10; i++) await ds.create(`${p}k${i}`, String(i));
        await Promise.all(collectors.map((c) => c.waitForEvents(10)));
        const reference = collectors[0]!.events;
        for (const c of collectors) assert.deepEqual(c.events, reference);
        assert.equal(reference.length, 10);
      } finally {
        for (const w of watches) w.dispose();
      }
    }));

    test('compaction: a watch from before it gets CompactedError; after it works', { skip: watchSkip }, async (t) => {
      const ds = await subject.open();
      try {
        if (!ds.compact) return t.skip('backend has no compact()');
        const p = freshPrefix();
        const revs: number[] = [];
        for (let i = 0; i < 5; i++) revs.push((await ds.create(`${p}${i}`, String(i))).modRevision);
        await ds.compact(revs[2]!);
        const old = new WatchCollector();
        const wOld = ds.watch(p, revs[0]!, old.handlers);
        const err = await old.waitForError();
        wOld.dispose();
        assert.ok(err instanceof CompactedError, `expected CompactedError, got ${err}`);
        assert.ok(err.compactRevision >= revs[2]!, 'carries the compaction point');
        assert.deepEqual(old.events, []);
        const fresh = new WatchCollector();
        const wNew = ds.watch(p, revs[2]!, fresh.handlers);
        try {
          await fresh.waitForEvents(2);
          assert.deepEqual(fresh.revisions(), [revs[3], revs[4]]);
          assert.deepEqual(fresh.errors, []);
        } finally {
          wNew.dispose();
        }
      } finally {
        await ds.close();
      }
    });

    test('close releases the store; its watchers get nothing afterwards', { skip: watchSkip }, async (t) => {
      if (!subject.shared) {
        const ds = await subject.open();
        await ds.close();
        return t.skip('needs two stores sharing data');
      }
      const p = freshPrefix();
      const watcherStore = await subject.open();
      const writer = await subject.open();
      try {
        const start = await watcherStore.list(p);
        const c = new WatchCollector();
        watcherStore.watch(p, start.revision, c.handlers);
        await writer.create(`${p}before`, '1');
        await c.waitForEvents(1);
        await watcherStore.close();
        await writer.create(`${p}after`, '2');
        await sleep(150);
        assert.equal(c.events.length, 1);
        assert.deepEqual(c.errors, []);
      } finally {
        await watcherStore.close();
        await writer.close();
      }
    });
  });
}
