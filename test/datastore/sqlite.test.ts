import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openDatastore } from '../../src/datastore/open.js';
import { SqliteDatastore } from '../../src/datastore/sqlite.js';
import { CompactedError, UnavailableError } from '../../src/errors.js';
import { datastoreContract } from './contract.js';
import { WatchCollector } from './watch-collector.js';

/** The SQLite backend on a real file: the shared contract plus what is specific to it. */

const dir = mkdtempSync(join(tmpdir(), 'brindle-sqlite-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const sharedUrl = `sqlite:${join(dir, 'contract', 'brindle.db')}`;
datastoreContract('sqlite', { open: () => SqliteDatastore.open(sharedUrl), shared: true });

describe('SQLite specifics', () => {
  test('openDatastore creates the parent directory and the schema', async () => {
    const file = join(dir, 'deep', 'er', 'x.db');
    const ds = await openDatastore(`sqlite:${file}`);
    try {
      assert.ok(existsSync(file));
      const kv = await ds.create('/k', 'v');
      assert.equal(kv.modRevision, 1, 'a new file starts at revision 0');
    } finally {
      await ds.close();
    }
    const again = await openDatastore(`sqlite://${file}`);
    try {
      assert.equal((await again.get('/k'))!.value, 'v', 'data persists across opens');
    } finally {
      await again.close();
    }
  });

  test('an unusable path is UnavailableError naming the file', { timeout: 15_000 }, async () => {
    const blocker = join(dir, 'not-a-dir');
    await (await openDatastore(`sqlite:${blocker}`)).close();
    await assert.rejects(SqliteDatastore.open(`sqlite:${blocker}/sub/x.db`), (err: Error) => {
      assert.ok(err instanceof UnavailableError);
      assert.match(err.message, /not-a-dir\/sub\/x\.db/);
      return true;
    });
    await assert.rejects(SqliteDatastore.open('sqlite:/proc/brindle-nope/x.db'), UnavailableError);
    const text = join(dir, 'plain.txt');
    writeFileSync(text, 'not a database, just some text that is long enough to have a header '.repeat(20));
    await assert.rejects(SqliteDatastore.open(`sqlite:${text}`), /cannot open SQLite datastore .*plain\.txt: file is not a database/);
  });

  test('a failed open closes the file it opened (no handle leak when an agent retries)', async () => {
    const text = join(dir, 'not-a-db.txt');
    writeFileSync(text, 'not a database, just some text that is long enough to have a header '.repeat(20));
    const openFds = () => readdirSync('/proc/self/fd').length;
    const before = openFds();
    for (let i = 0; i < 20; i++) await assert.rejects(SqliteDatastore.open(`sqlite:${text}`), UnavailableError);
    assert.ok(openFds() - before < 5, `${openFds() - before} file descriptors were left open by 20 failed opens`);
  });

  test('an idle watch does not keep the process alive (the poller timer is unref\'d)', () => {
    const code = `
      const { SqliteDatastore } = await import(${JSON.stringify(new URL('../../src/datastore/sqlite.js', import.meta.url).href)});
      const ds = await SqliteDatastore.open(${JSON.stringify(`sqlite:${join(dir, 'unref.db')}`)});
      ds.watch('/', 0, { onEvents() {}, onError(e) { throw e; } });
      await ds.create('/k', 'v');`;
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', code], { timeout: 15_000, encoding: 'utf8' });
    assert.equal(res.signal, null, 'the child had to be killed: something kept it alive');
    assert.equal(res.status, 0, res.stderr);
  });

  test('the write path compacts history beyond the retention; late watchers are told', async () => {
    const url = `sqlite:${join(dir, 'retain.db')}`;
    const ds = await SqliteDatastore.open(url, {}, { retainRevisions: 500 });
    try {
      let last = 0;
      for (let i = 0; i < 2100; i++) last = (await ds.create(`/r/${i}`, 'x')).modRevision;
      assert.equal(last, 2100);
      const old = new WatchCollector();
      const w = ds.watch('/r/', 10, old.handlers);
      const err = await old.waitForError();
      w.dispose();
      assert.ok(err instanceof CompactedError);
      assert.equal(err.compactRevision, 1500, 'compacted at revision 2000 down to 2000 - 500');
      const recent = new WatchCollector();
      const w2 = ds.watch('/r/', 1600, recent.handlers);
      await recent.waitForEvents(500);
      w2.dispose();
      assert.equal(recent.events.length, 500);
      assert.deepEqual(recent.errors, []);
    } finally {
      await ds.close();
    }
  });
});
