/**
 * A worker process for the IPAM concurrency and fault tests and the benchmark:
 *   node dist/test/ipam/assign-worker.js URL NODE COUNT PREFIX [START_AT]
 * Assigns COUNT IPv4 addresses for NODE, one per handle `PREFIX-<i>`. A failed attempt (datastore
 * unavailable, lost races) is retried with a fresh handle `PREFIX-<i>.r<k>`, at most 40 times and
 * 90 s per address; failed attempts are recorded because their writes may or may not have landed.
 * With START_AT (epoch ms) it opens the datastore, then waits until then, so that several workers
 * start assigning together once all have booted (the benchmark uses this).
 * Prints `progress <n>` lines, then one `result <json>` line.
 */
import { openDatastore } from '../../src/datastore/open.js';
import { BrindleError } from '../../src/errors.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';

interface WorkerResult {
  node: string;
  acknowledged: { handle: string; ip: string }[];
  failedAttempts: string[];
  errors: string[];
  elapsedMs: number;
}

const MAX_ATTEMPTS = 40;
const MAX_MS_PER_ADDRESS = 90_000;

async function main(argv: string[]): Promise<number> {
  const [url, node, countText, prefix, startAt] = argv;
  if (!url || !node || !countText || !prefix) {
    process.stderr.write('usage: assign-worker URL NODE COUNT PREFIX\n');
    return 2;
  }
  const ds = await openDatastore(url);
  const ipam = new IpamClient(ds);
  const result: WorkerResult = { node, acknowledged: [], failedAttempts: [], errors: [], elapsedMs: 0 };
  await ds.get('/brindle/warm-up'); // connect before the clock starts
  if (startAt) await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
  const started = Date.now();
  try {
    for (let i = 0; i < Number(countText); i++) {
      const base = `${prefix}-${i}`;
      const deadline = Date.now() + MAX_MS_PER_ADDRESS;
      for (let attempt = 0; ; attempt++) {
        const handleId = attempt === 0 ? base : `${base}.r${attempt}`;
        try {
          const r = await ipam.autoAssign({ node, handleId, num4: 1, attrs: { node } });
          result.acknowledged.push({ handle: handleId, ip: r.ipv4[0]!.ip });
          break;
        } catch (err) {
          result.failedAttempts.push(handleId);
          if (result.errors.length < 20) result.errors.push(`${handleId}: ${(err as Error).message}`);
          const fatal = err instanceof BrindleError && (err.code === 'Exhausted' || err.code === 'Usage');
          if (fatal || attempt + 1 >= MAX_ATTEMPTS || Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, Math.min(1000, 50 * (attempt + 1))));
        }
      }
      if ((i + 1) % 50 === 0) process.stdout.write(`progress ${i + 1}\n`);
    }
    return 0;
  } catch (err) {
    result.errors.push(`giving up: ${(err as Error).message}`);
    return 1;
  } finally {
    result.elapsedMs = Date.now() - started;
    process.stdout.write(`result ${JSON.stringify(result)}\n`);
    await ds.close().catch(() => undefined);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`assign-worker: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
