/**
 * Child process for the cross-process watch tests and the benchmark:
 * `node write-worker.js URL PREFIX COUNT [PAUSE_MS]` creates PREFIX0000… one after another (each
 * value is `{"i":n,"t":<epoch ms, sub-ms, taken just before the write>}`), then deletes the first
 * tenth of them, pausing PAUSE_MS between writes. It prints one JSON line per acknowledged write:
 * `{"type":"put"|"delete","key":…,"rev":…}`.
 */
import { openDatastore } from '../../src/datastore/open.js';

async function main(argv: string[]): Promise<void> {
  const [url, prefix, countText, pauseText] = argv;
  const count = Number(countText);
  const pauseMs = Number(pauseText ?? '0');
  if (!url || prefix === undefined || !Number.isInteger(count)) throw new Error('usage: write-worker URL PREFIX COUNT [PAUSE_MS]');
  const ds = await openDatastore(url);
  const now = () => performance.timeOrigin + performance.now();
  const ack = (type: string, key: string, rev: number) => process.stdout.write(JSON.stringify({ type, key, rev }) + '\n');
  try {
    for (let i = 0; i < count; i++) {
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      const key = `${prefix}${String(i).padStart(4, '0')}`;
      const kv = await ds.create(key, JSON.stringify({ i, t: now() }));
      ack('put', key, kv.modRevision);
    }
    for (let i = 0; i < Math.floor(count / 10); i++) {
      const key = `${prefix}${String(i).padStart(4, '0')}`;
      const cur = await ds.get(key);
      await ds.delete(key, cur!.modRevision);
      // delete() returns nothing: the store revision right after it is the delete's (this worker is the only writer).
      ack('delete', key, (await ds.list(key)).revision);
    }
  } finally {
    await ds.close();
  }
}

main(process.argv.slice(2)).catch((err: Error) => {
  process.stderr.write(`write-worker: ${err.name}: ${err.message}\n`);
  process.exit(1);
});
