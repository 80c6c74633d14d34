import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, copyFileSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { WorkloadEndpoint } from '../../src/api/types.js';
import type { Datastore } from '../../src/datastore/datastore.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { SqliteDatastore } from '../../src/datastore/sqlite.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { CniRig, createPools, isRoot } from './cni-harness.js';

/**
 * A real container runtime drives the plugin: containerd's `ctr run --rm --cni` with a
 * busybox-static rootfs, run inside the node netns with the CNI dirs bind-mounted in a private
 * mount namespace (test/netns/runtimes/ctr-run.sh). The container gets its address (seen from
 * inside), its WorkloadEndpoint exists while it runs, and removal sends DEL, which releases both.
 */

const tools = ['/usr/bin/containerd', '/usr/bin/ctr', '/usr/sbin/runc', '/bin/busybox'];
const missing = tools.find((t) => !existsSync(t));
const skip = !isRoot ? 'needs root (network namespaces)' : missing ? `needs ${missing} (containerd, runc, busybox-static)` : false;
let rig: CniRig;
let ds: Datastore;
let url: string;

function busyboxRootfs(dir: string): void {
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'));
  for (const a of ['sh', 'ip', 'sleep', 'cat', 'echo', 'ls']) symlinkSync('busybox', join(dir, 'bin', a));
}

describe('containerd ctr run --cni', { skip, timeout: 180_000 }, () => {
  before(async () => {
    rig = new CniRig();
    url = `sqlite:${join(rig.dir, 'brindle.db')}`;
    ds = await SqliteDatastore.open(url);
    await createPools(ds, [{ name: 'pool4', cidr: '10.75.0.0/16' }]);
    await rig.install(url);
  });
  after(async () => {
    await ds?.close();
    rig?.dispose();
  });

  test('the container gets its address and endpoint; ctr run --rm ends with DEL releasing them', async () => {
    const rootfs = join(rig.dir, 'rootfs');
    busyboxRootfs(rootfs);
    const work = join(rig.dir, 'ctr');
    mkdirSync(work, { recursive: true });
    const child = spawn('ip', ['netns', 'exec', rig.node, join(REPO_ROOT, 'test', 'netns', 'runtimes', 'ctr-run.sh'), work, rig.confDir, rig.binDir, rootfs, 'c1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      for (let i = 0; i < 300 && !existsSync(join(rootfs, 'tmp', 'up')); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(existsSync(join(rootfs, 'tmp', 'up')), `the container did not start:\n${out}\n${safeRead(join(work, 'containerd.log'))}`);
      const addr = /inet (10\.75\.\d+\.\d+)\/32/.exec(out);
      assert.ok(addr, `no Brindle address inside the container:\n${out}`);
      assert.match(out, /default via 169\.254\.1\.1 dev eth0/);
      const weps = (await new ResourceClient(ds).list('WorkloadEndpoint', 'default')).items as WorkloadEndpoint[];
      assert.equal(weps.length, 1);
      assert.deepEqual([weps[0]!.metadata.name, weps[0]!.spec.orchestrator, weps[0]!.spec.containerID, weps[0]!.spec.ipNetworks], ['node--1-cni-brl--c1-eth0', 'cni', 'brl-c1', [`${addr[1]}/32`]]);
      assert.equal(rig.links(rig.node).filter((l) => l.startsWith('cali')).length, 1, 'the host veth is in the node netns');
      writeFileSync(join(rootfs, 'tmp', 'stop'), '');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 60_000))]);

      assert.equal(code, 0, `ctr-run.sh: ${out}`);
      assert.deepEqual((await new ResourceClient(ds).list('WorkloadEndpoint', 'default')).items, [], 'DEL removed the endpoint');
      assert.equal((await new IpamClient(ds).check()).summary.allocatedIps, 0, 'DEL released the address');
      assert.equal(rig.links(rig.node).filter((l) => l.startsWith('cali')).length, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

function safeRead(p: string): string {
  try {
    return readFileSync(p, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}
