/**
 * Child process for the concurrency tests: `node cas-worker.js URL KEY COUNT [START_AT]` increments
 * the integer stored at KEY COUNT times with get + compare-and-swap update, retrying on conflict.
 * It pauses 1 ms between read and write (real callers do work there), which widens the race.
 * Prints one JSON line `{"done":COUNT,"conflicts":N}`. START_AT (epoch ms) lines several workers
 * up to race from the same instant. Exit 1 with the error on anything else.
 */
import { openDatastore } from '../../src/datastore/open.js';
import { isConflict } from '../../src/errors.js';

const MAX_ATTEMPTS_PER_INCREMENT = 100_000;

async function main(argv: string[]): Promise<void> {
  const [url, key, countText, startAtText] = argv;
  const count = Number(countText);
  if (!url || !key || !Number.isInteger(count)) throw new Error('usage: cas-worker URL KEY COUNT');
  const ds = await openDatastore(url);
  let conflicts = 0;
  const wait = Number(startAtText ?? 0) - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 10_000)));
  try {
    for (let i = 0; i < count; i++) {
      for (let attempt = 0; ; attempt++) {
        if (attempt >= MAX_ATTEMPTS_PER_INCREMENT) throw new Error(`increment ${i} lost ${attempt} races in a row`);
        const cur = await ds.get(key);
        if (!cur) throw new Error(`counter ${key} does not exist`);
        await new Promise((resolve) => setTimeout(resolve, 1));
        try {
          await ds.update(key, String(Number(cur.value) + 1), cur.modRevision);
          break;
        } catch (err) {
          if (!isConflict(err)) throw err;
          conflicts++;
        }
      }
    }
  } finally {
    await ds.close();
  }
  process.stdout.write(JSON.stringify({ done: count, conflicts }) + '\n');
}

main(process.argv.slice(2)).catch((err: Error) => {
  process.stderr.write(`cas-worker: ${err.name}: ${err.message}\n`);
  process.exit(1);
});
