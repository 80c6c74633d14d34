import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SqliteDatastore } from '../../src/datastore/sqlite.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { BRINDLE_BIN } from '../helpers/paths.js';
import { createPools } from '../netns/cni-harness.js';

/**
 * `brindle cni install` into temp dirs (never /opt/cni/bin), then the installed executables run as
 * a runtime runs them: VERSION, error JSON, and brindle-ipam's whole IPAM protocol (it needs no
 * network namespace, so this runs without root).
 */

let dir: string;
let url: string;
const bin = () => join(dir, 'bin');
const run = (exe: string, env: Record<string, string>, stdin: unknown) => {
  const r = spawnSync(join(bin(), exe), [], { input: typeof stdin === 'string' ? stdin : JSON.stringify(stdin), encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 60_000 });
  return { code: r.status, json: r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined, stdout: r.stdout, stderr: r.stderr };
};

describe('brindle cni install', { timeout: 120_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'brindle-cni-install-'));
    url = `sqlite:${join(dir, 'brindle.db')}`;
    const ds = await SqliteDatastore.open(url);
    await createPools(ds, [{ name: 'pool4', cidr: '10.78.0.0/24' }, { name: 'pool6', cidr: 'fd00:78::/120', blockSize: 122 }]);
    await ds.close();
    const r = spawnSync(process.execPath, [BRINDLE_BIN, 'cni', 'install', '--bin-dir', bin(), '--conf-dir', join(dir, 'net.d'), '--datastore', url, '--node', 'node-7', '--mtu', '1440'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [`wrote ${join(bin(), 'brindle')}`, `wrote ${join(bin(), 'brindle-ipam')}`, `wrote ${join(dir, 'net.d', '10-brindle.conflist')}`]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('two executables and a Calico-shaped conflist', () => {
    for (const exe of ['brindle', 'brindle-ipam']) assert.equal(statSync(join(bin(), exe)).mode & 0o777, 0o755);
    const exe = readFileSync(join(bin(), 'brindle'), 'utf8');
    assert.match(exe, new RegExp(`^#!${process.execPath.replace(/\//g, '\\/')}\n`));
    assert.doesNotMatch(exe, /@grpc|etcd3\/lib/, 'the gRPC stack is not in the bundle');
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'net.d', '10-brindle.conflist'), 'utf8')), {
      name: 'k8s-pod-network', cniVersion: '1.0.0', cniVersions: ['1.0.0', '1.1.0'],
      plugins: [{ type: 'brindle', datastore: url, nodename: 'node-7', mtu: 1440, ipam: { type: 'brindle-ipam', assign_ipv4: 'true', assign_ipv6: 'false' }, policy: { type: 'k8s' } }],
    });
  });

  test('refuses a datastore the plugin cannot use', () => {
    const r = spawnSync(process.execPath, [BRINDLE_BIN, 'cni', 'install', '--bin-dir', join(dir, 'x'), '--conf-dir', join(dir, 'y'), '--datastore', 'memory:'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--datastore "memory:" cannot be used by the CNI plugin/);
  });

  test('VERSION, and error JSON for a bad invocation', () => {
    for (const exe of ['brindle', 'brindle-ipam']) {
      assert.deepEqual(run(exe, { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.3.1"}').json, { cniVersion: '0.3.1', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
    }
    const r = run('brindle', {}, '{}');
    assert.equal(r.code, 1);
    assert.equal(r.json!['code'], 4);
    assert.match(r.stderr, /CNI_COMMAND is not set/);
  });

  test('brindle-ipam as the IPAM of another plugin: ADD (dual stack), retried ADD, CHECK, GC, DEL', async () => {
    const conf = { cniVersion: '0.4.0', name: 'other-net', type: 'ptp', ipam: { type: 'brindle-ipam', datastore: undefined, assign_ipv6: 'true', routes: [{ dst: '0.0.0.0/0' }] }, datastore: url, nodename: 'node-7' };
    const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'ipam1', CNI_NETNS: '/proc/self/ns/net', CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p' };
    const add = run('brindle-ipam', env, conf);
    assert.equal(add.code, 0, add.stdout);
    const ips = add.json!['ips'] as { version: string; address: string }[];
    assert.deepEqual(ips.map((i) => i.version), ['4', '6']);
    assert.match(ips[0]!.address, /^10\.78\.0\.\d+\/32$/);
    assert.match(ips[1]!.address, /^fd00:78::[0-9a-f]+\/128$/);
    assert.deepEqual(add.json!['routes'], [{ dst: '0.0.0.0/0' }]);
    assert.equal('interfaces' in add.json!, false);
    assert.deepEqual(run('brindle-ipam', env, conf).json!['ips'], ips, 'a retried ADD gets the same addresses');
    assert.equal(run('brindle-ipam', { ...env, CNI_COMMAND: 'CHECK' }, { ...conf, prevResult: add.json }).code, 0);
    const gcConf = { ...conf, cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'ipam1', ifname: 'eth0' }] };
    assert.equal(run('brindle-ipam', { CNI_COMMAND: 'GC' }, gcConf).code, 0);
    const ds = await SqliteDatastore.open(url);
    try {
      assert.equal((await new IpamClient(ds).ipsByHandle('other-net.ipam1')).length, 2, 'GC keeps a listed attachment');
      assert.equal(run('brindle-ipam', { ...env, CNI_COMMAND: 'DEL' }, conf).code, 0);
      assert.equal(run('brindle-ipam', { ...env, CNI_COMMAND: 'DEL' }, conf).code, 0, 'DEL twice');
      assert.equal((await new IpamClient(ds).check()).summary.allocatedIps, 0);
      const gone = run('brindle-ipam', { ...env, CNI_COMMAND: 'CHECK' }, { ...conf, prevResult: add.json });
      assert.equal(gone.json!['code'], 100);
      assert.match(String(gone.json!['msg']), /IPAM handle other-net\.ipam1 does not hold 10\.78\./);
    } finally {
      await ds.close();
    }
  });
});
