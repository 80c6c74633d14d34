import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Datastore } from '../../src/datastore/datastore.js';
import { openDatastore } from '../../src/datastore/open.js';
import { MAX_RESOURCE_BYTES, MAX_VALUE_BYTES } from '../../src/datastore/value-size.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { ValidationError } from '../../src/errors.js';
import { startEtcdCluster, type EtcdCluster } from '../helpers/etcd-cluster.js';
import { BRINDLE_BIN } from '../helpers/paths.js';

/**
 * One size limit on every backend: a resource over MAX_RESOURCE_BYTES (1 MiB) is refused before
 * anything is written, with a message naming the resource and the limit; a raw value over
 * MAX_VALUE_BYTES never reaches a backend (no raw gRPC "message larger than max").
 */

const tmp = mkdtempSync(join(tmpdir(), 'brindle-size-'));
let cluster: EtcdCluster | null = null;
before(async () => {
  cluster = await startEtcdCluster({ size: 1 });
});
after(async () => {
  await cluster?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** A GlobalNetworkSet of `count` distinct /32s (about 17 bytes each when stored). */
function bigNetSet(name: string, count: number): Record<string, unknown> {
  const nets = Array.from({ length: count }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`);
  return { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkSet', metadata: { name, labels: { role: 'blocked' } }, spec: { nets } };
}

const BACKENDS: [string, () => string][] = [
  ['memory', () => 'memory:'],
  ['sqlite', () => `sqlite:${join(tmp, 'size.db')}`],
  ['etcd', () => cluster!.url],
];

describe('resource size limit', () => {
  test('the limit is 1 MiB per resource, under etcd\'s default 1.5 MiB request', () => {
    assert.equal(MAX_RESOURCE_BYTES, 1024 * 1024);
    assert.ok(MAX_VALUE_BYTES >= MAX_RESOURCE_BYTES && MAX_VALUE_BYTES < 1.5 * 1024 * 1024);
  });

  for (const [name, url] of BACKENDS) {
    test(`${name}: an oversized resource is refused naming it and the limit; nothing is written`, { timeout: 60_000 }, async () => {
      const ds: Datastore = await openDatastore(url());
      try {
        const client = new ResourceClient(ds);
        const before = (await ds.list('/brindle/')).revision;
        await assert.rejects(client.apply(bigNetSet(`big-${name}`, 80_000) as never), (err: Error) => {
          assert.ok(err instanceof ValidationError, `${err.name}: ${err.message}`);
          assert.match(err.message, new RegExp(`^GlobalNetworkSet big-${name}: the resource is 1\\.\\d MiB, over the 1 MiB limit per resource; split it into several resources$`));
          return true;
        });
        assert.equal(await client.get('GlobalNetworkSet', `big-${name}`), null);
        assert.equal((await ds.list('/brindle/')).revision, before, 'nothing written');
        // just under the limit is fine
        const ok = await client.apply(bigNetSet(`fits-${name}`, 40_000) as never);
        assert.equal((ok.spec as { nets: string[] }).nets.length, 40_000);
        // a raw value over the datastore limit: a typed error naming the key, never backend text
        await assert.rejects(ds.create(`/size-test/${name}`, 'x'.repeat(MAX_VALUE_BYTES + 1)), (err: Error) => {
          assert.ok(err instanceof ValidationError, `${err.name}: ${err.message}`);
          assert.equal(err.message, `/size-test/${name}: the value is ${MAX_VALUE_BYTES + 1} bytes, over the datastore limit of ${MAX_VALUE_BYTES} bytes per key`);
          return true;
        });
        assert.equal(await ds.get(`/size-test/${name}`), null);
      } finally {
        await ds.close();
      }
    });
  }

  test('brindle apply refuses an oversized resource naming it (exit 2, one line), and a 50 MB document before parsing it', { timeout: 120_000 }, () => {
    const apply = (file: string) => spawnSync(process.execPath, [BRINDLE_BIN, '--datastore', `sqlite:${join(tmp, 'cli.db')}`, 'apply', '-f', file], { encoding: 'utf8', timeout: 110_000 });
    const big = join(tmp, 'big.yaml');
    writeFileSync(big, `# a network set over the limit\n${JSON.stringify(bigNetSet('big', 80_000))}\n`);
    const r1 = apply(big);
    assert.equal(r1.status, 2, r1.stderr);
    assert.match(r1.stderr, /^Error: big\.yaml\[0\] GlobalNetworkSet big: the resource is 1\.\d MiB, over the 1 MiB limit per resource; split it into several resources\n$/);
    const huge = join(tmp, 'huge.json');
    writeFileSync(huge, JSON.stringify(bigNetSet('huge', 2_900_000)));
    const started = Date.now();
    const r2 = apply(huge);
    const ms = Date.now() - started;
    assert.equal(r2.status, 2, r2.stderr);
    assert.match(r2.stderr, /^Error: huge\.json\[0\]: the document is \d+\.\d MiB, over the 16 MiB limit of a manifest document \(a resource may be at most 1 MiB\); split it into several resources\n$/);
    assert.ok(ms < 15_000, `took ${ms} ms`);
  });
});
