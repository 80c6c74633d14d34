import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Datastore, KeyValue } from '../../src/datastore/datastore.js';
import { MemoryDatastore } from '../../src/datastore/memory.js';
import { UnavailableError } from '../../src/errors.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { formatCheck } from '../../src/ipam/ipam-format.js';
import { addNode, addPool } from './fixtures.js';
import { allocationsByIp } from './verify.js';

/**
 * A process that dies after its N-th write: every later write fails (nothing more reaches the
 * store). Reads keep working, as they would for the next process.
 */
class DyingDatastore implements Datastore {
  writes = 0;
  constructor(
    private readonly inner: Datastore,
    private readonly allowedWrites: number,
  ) {}
  get url(): string {
    return this.inner.url;
  }
  private gate(): void {
    if (this.writes >= this.allowedWrites) throw new UnavailableError('process died');
    this.writes++;
  }
  get(key: string) {
    return this.inner.get(key);
  }
  list(prefix: string) {
    return this.inner.list(prefix);
  }
  async create(key: string, value: string): Promise<KeyValue> {
    this.gate();
    return this.inner.create(key, value);
  }
  async update(key: string, value: string, rev: number): Promise<KeyValue> {
    this.gate();
    return this.inner.update(key, value, rev);
  }
  async delete(key: string, rev?: number): Promise<void> {
    this.gate();
    return this.inner.delete(key, rev);
  }
  watch(...args: Parameters<Datastore['watch']>) {
    return this.inner.watch(...args);
  }
  close() {
    return this.inner.close();
  }
}

/** A sequence of IPAM operations touching every kind of two-write step. */
async function workload(ipam: IpamClient): Promise<void> {
  await ipam.assignIp({ ip: '10.130.0.14', node: 'cr-b', handleId: 'c3', attrs: { node: 'cr-b' } });
  const a = await ipam.autoAssign({ node: 'cr-a', handleId: 'c1', num4: 6, attrs: { node: 'cr-a' } });
  await ipam.releaseIps([{ ip: a.ipv4[0]!.ip, handleId: 'c1', sequenceNumber: a.ipv4[0]!.sequenceNumber }]);
  await ipam.autoAssign({ node: 'cr-b', handleId: 'c2', num4: 5, attrs: { node: 'cr-b' } });
  await ipam.releaseByHandle('c1');
  await ipam.releaseHostAffinities('cr-a');
}

async function seeded(): Promise<MemoryDatastore> {
  const ds = new MemoryDatastore();
  await addPool(ds, 'p-crash', '10.130.0.0/28', { blockSize: 30 });
  await addNode(ds, 'cr-a');
  await addNode(ds, 'cr-b');
  return ds;
}

describe('IPAM after a crash between any two writes', () => {
  it('repairs to a clean state and allocates correctly afterwards, whichever write was the last', async () => {
    // How many writes the whole workload makes when nothing fails.
    const probe = new DyingDatastore(await seeded(), Number.MAX_SAFE_INTEGER);
    await workload(new IpamClient(probe));
    assert.ok(probe.writes > 20, `the workload should make many writes, made ${probe.writes}`);

    for (let n = 0; n < probe.writes; n++) {
      const ds = await seeded();
      await assert.rejects(workload(new IpamClient(new DyingDatastore(ds, n))), UnavailableError, `crash after write ${n}`);
      // The next process: audit and repair, then collect the handles of the dead process.
      const ipam = new IpamClient(ds);
      await ipam.releaseFromReport(await ipam.check());
      for (const h of ['c1', 'c2', 'c3']) await ipam.releaseByHandle(h);
      const report = await ipam.check();
      assert.equal(report.summary.problems, 0, `after a crash at write ${n}:\n${formatCheck(report)}`);
      assert.equal((await allocationsByIp(ds)).size, 0, `after a crash at write ${n}: addresses still allocated`);
      // And it works again: the whole pool can be handed out, each address once.
      const all = await ipam.autoAssign({ node: 'cr-a', handleId: 'after', num4: 16, attrs: { node: 'cr-a' } });
      assert.equal(new Set(all.ipv4.map((x) => x.ip)).size, 16, `after a crash at write ${n}`);
      const final = await ipam.check();
      assert.equal(final.summary.problems, 0, `after a crash at write ${n}, then a full allocation:\n${formatCheck(final)}`);
    }
  });
});
