import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Datastore, KeyValue, ListResult, Watch, WatchHandlers } from '../../src/datastore/datastore.js';
import { MemoryDatastore } from '../../src/datastore/memory.js';
import { UnavailableError } from '../../src/errors.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { addNode, addPool } from './fixtures.js';

/**
 * A Datastore that measures the longest chain of requests that had to wait for one another: each
 * request completes on a later timer turn (as a network round trip would), and its depth is one
 * more than the deepest request that had completed when it was issued. Requests issued together
 * (Promise.all) share a depth, so the maximum depth is the number of sequential round trips.
 */
class RoundTripCounter implements Datastore {
  readonly url = 'memory:';
  private completedDepth = 0;
  maxDepth = 0;
  ops: string[] = [];
  /** When set, every request fails (as with an unreachable backend). */
  failing = false;

  constructor(private readonly inner: Datastore) {}

  reset(): void {
    this.completedDepth = 0;
    this.maxDepth = 0;
    this.ops = [];
  }

  private async trip<T>(op: string, fn: () => Promise<T>): Promise<T> {
    const depth = this.completedDepth + 1;
    this.maxDepth = Math.max(this.maxDepth, depth);
    this.ops.push(`${depth} ${op}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
    try {
      if (this.failing) throw new UnavailableError(`${op}: backend unreachable`);
      return await fn();
    } finally {
      this.completedDepth = Math.max(this.completedDepth, depth);
    }
  }

  get(key: string): Promise<KeyValue | null> {
    return this.trip(`get ${key}`, () => this.inner.get(key));
  }
  list(prefix: string): Promise<ListResult> {
    return this.trip(`list ${prefix}`, () => this.inner.list(prefix));
  }
  create(key: string, value: string): Promise<KeyValue> {
    return this.trip(`create ${key}`, () => this.inner.create(key, value));
  }
  update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    return this.trip(`update ${key}`, () => this.inner.update(key, value, expectedRevision));
  }
  delete(key: string, expectedRevision?: number): Promise<void> {
    return this.trip(`delete ${key}`, () => this.inner.delete(key, expectedRevision));
  }
  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watch {
    return this.inner.watch(prefix, fromRevision, handlers);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('IPAM round trips per assignment', () => {
  it('a node allocating again from its last block waits for 3 round trips (context + affinities + block, handle, block)', async () => {
    const inner = new MemoryDatastore();
    await addPool(inner, 'p-rt', '10.90.0.0/24');
    await addNode(inner, 'rt');
    const ds = new RoundTripCounter(inner);
    const ipam = new IpamClient(ds);
    const first = await ipam.autoAssign({ node: 'rt', handleId: 'rt-0', num4: 1, attrs: { node: 'rt' } });
    ds.reset();
    const second = await ipam.autoAssign({ node: 'rt', handleId: 'rt-1', num4: 1, attrs: { node: 'rt' } });
    assert.equal(second.ipv4[0]!.block, first.ipv4[0]!.block);
    assert.notEqual(second.ipv4[0]!.ip, first.ipv4[0]!.ip);
    assert.equal(ds.maxDepth, 3, `sequential round trips:\n${ds.ops.join('\n')}`);
  });

  it('a fresh client (a CLI or CNI process) allocating from an existing block waits for 4', async () => {
    const inner = new MemoryDatastore();
    await addPool(inner, 'p-rt', '10.91.0.0/24');
    await addNode(inner, 'rt');
    await new IpamClient(inner).autoAssign({ node: 'rt', handleId: 'rt-0', num4: 1, num6: 0 });
    const ds = new RoundTripCounter(inner);
    await new IpamClient(ds).autoAssign({ node: 'rt', handleId: 'rt-1', num4: 1 });
    assert.equal(ds.maxDepth, 4, `sequential round trips:\n${ds.ops.join('\n')}`);
  });

  it('a request that fails leaves none of its early reads rejected and unhandled', async () => {
    const inner = new MemoryDatastore();
    await addPool(inner, 'p-rt', '10.92.0.0/24');
    const ds = new RoundTripCounter(inner);
    const ipam = new IpamClient(ds);
    await ipam.autoAssign({ node: 'rt', handleId: 'rt-0', num4: 1, num6: 0 }); // sets the block hint
    ds.failing = true;
    await assert.rejects(ipam.autoAssign({ node: 'rt', handleId: 'rt-1', num4: 1 }), UnavailableError);
    // the affinity and hinted-block reads fail after the context does; Node reports an unhandled
    // rejection as a failure of this test
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.ok(ds.ops.some((op) => op.includes('/host/rt/ipv4/')), 'the affinities were read alongside the context');
  });
});
