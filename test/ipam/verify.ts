import assert from 'node:assert/strict';
import type { Datastore } from '../../src/datastore/datastore.js';
import { allocationAt, blockCidr, inUseOrdinals } from '../../src/ipam/block.js';
import { formatIp, ipAt } from '../../src/net/cidr.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { formatCheck } from '../../src/ipam/ipam-format.js';
import type { WorkerResult } from './worker-pool.js';

/** Every live allocation in the datastore, address → handle; fails if an address is held twice. */
export async function allocationsByIp(ds: Datastore): Promise<Map<string, string | null>> {
  const ipam = new IpamClient(ds);
  const out = new Map<string, string | null>();
  for (const b of await ipam.store.listBlocks()) {
    for (const o of inUseOrdinals(b.value)) {
      const ip = formatIp(ipAt(blockCidr(b.value), o));
      assert.ok(!out.has(ip), `${ip} is allocated twice`);
      out.set(ip, allocationAt(b.value, o)!.handleId);
    }
  }
  return out;
}

/**
 * The invariants after a run: no address acknowledged to two handles, every acknowledged address
 * held by exactly the handle it was acknowledged to, nothing else allocated, `check` clean.
 */
export async function verifyRun(ds: Datastore, results: WorkerResult[], expected: number): Promise<void> {
  const acked = results.flatMap((r) => r.acknowledged);
  assert.equal(acked.length, expected, `workers acknowledged ${acked.length} of ${expected}; errors: ${results.flatMap((r) => r.errors).slice(0, 5).join(' | ')}`);
  const ips = acked.map((a) => a.ip);
  assert.equal(new Set(ips).size, ips.length, 'an address was acknowledged to two handles');
  const held = await allocationsByIp(ds);
  for (const a of acked) assert.equal(held.get(a.ip), a.handle, `${a.ip} should be held by ${a.handle}`);
  assert.equal(held.size, acked.length, 'addresses are allocated that no worker acknowledged');
  const report = await new IpamClient(ds).check();
  assert.equal(report.summary.problems, 0, formatCheck(report));
  assert.equal(report.summary.allocatedIps, expected);
}
