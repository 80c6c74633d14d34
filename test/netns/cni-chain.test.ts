import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Datastore } from '../../src/datastore/datastore.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { SqliteDatastore } from '../../src/datastore/sqlite.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { CniRig, createPools, isRoot } from './cni-harness.js';

/**
 * brindle chained with Debian's reference `tuning` and `portmap` plugins, driven through Debian's
 * libcni (test/netns/cnirun, built here) exactly as a runtime drives a conflist: ADD passes each
 * plugin the previous result, CHECK replays the cached result, DEL runs the chain in reverse.
 */

const tools = ['/usr/bin/go', '/usr/lib/cni/portmap', '/usr/lib/cni/tuning', '/usr/share/gocode/src/github.com/containernetworking/cni/libcni/api.go'];
const skip = !isRoot ? 'needs root (network namespaces)' : tools.find((t) => !existsSync(t)) ? `needs ${tools.find((t) => !existsSync(t))} (golang-go, golang-github-appc-cni-dev, containernetworking-plugins)` : false;
let rig: CniRig;
let ds: Datastore;
let url: string;
let cnirun: string;

describe('chained with portmap and tuning through libcni', { skip, timeout: 180_000 }, () => {
  before(async () => {
    rig = new CniRig();
    url = `sqlite:${join(rig.dir, 'brindle.db')}`;
    ds = await SqliteDatastore.open(url);
    await createPools(ds, [{ name: 'pool4', cidr: '10.74.0.0/16' }]);
    await rig.install(url);
    cnirun = join(rig.dir, 'cnirun');
    const build = spawnSync('go', ['build', '-o', cnirun, join(REPO_ROOT, 'test', 'netns', 'cnirun', 'main.go')], {
      encoding: 'utf8',
      env: { ...process.env, GO111MODULE: 'off', GOPATH: `${join(rig.dir, 'gopath')}:/usr/share/gocode`, GOCACHE: join(rig.dir, 'gocache'), GOFLAGS: '-mod=mod' },
    });
    assert.equal(build.status, 0, `building cnirun: ${build.stderr}`);
  });
  after(async () => {
    await ds?.close();
    rig?.dispose();
  });

  test('ADD → tuning sets the sysctl, portmap forwards a host port to the workload; CHECK passes; DEL undoes all three', async () => {
    const conflist = JSON.parse(readFileSync(join(rig.confDir, '10-brindle.conflist'), 'utf8')) as { plugins: Record<string, unknown>[] };
    conflist.plugins.push(
      { type: 'tuning', sysctl: { 'net.ipv4.conf.eth0.accept_redirects': '0' } },
      { type: 'portmap', snat: true, capabilities: { portMappings: true } },
    );
    const file = join(rig.dir, 'chain.conflist');
    writeFileSync(file, JSON.stringify(conflist));
    const netns = rig.pod();
    const cache = join(rig.dir, 'cache');
    mkdirSync(cache, { recursive: true });
    const env = {
      ...process.env, CNI_PATH: `${rig.binDir}:/usr/lib/cni`, CNIRUN_CACHE_DIR: cache,
      CNIRUN_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=chain;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=chain1',
      CNIRUN_PORTS: JSON.stringify([{ hostPort: 18080, containerPort: 8080, protocol: 'tcp' }]),
    };
    // portmap 1.1.1's CHECK always looks for an ip6tables chain (fixed upstream later), so CHECK runs the chain without it.
    const checkFile = join(rig.dir, 'chain-check.conflist');
    writeFileSync(checkFile, JSON.stringify({ ...conflist, plugins: conflist.plugins.filter((p) => p['type'] !== 'portmap') }));
    const run = (verb: string, f = file) => spawnSync('ip', ['netns', 'exec', rig.node, cnirun, verb, f, netns, 'chain1', 'eth0'], { encoding: 'utf8', env, timeout: 60_000 });
    const add = run('add');
    assert.equal(add.status, 0, `cnirun add: ${add.stderr}${add.stdout}`);
    const result = JSON.parse(add.stdout) as { ips: { address: string }[]; interfaces: { name: string }[] };
    const ip = result.ips[0]!.address.split('/')[0]!;
    assert.match(ip, /^10\.74\./);
    // tuning ran inside the workload's netns, after brindle.
    const sysctl = spawnSync('ip', ['netns', 'exec', netns.replace('/run/netns/', ''), 'cat', '/proc/sys/net/ipv4/conf/eth0/accept_redirects'], { encoding: 'utf8' });
    assert.equal(sysctl.stdout.trim(), '0');
    // portmap DNATs node:18080 to the workload's 8080 (it read the address from brindle's result).
    const nat = spawnSync('ip', ['netns', 'exec', rig.node, 'iptables-save', '-t', 'nat'], { encoding: 'utf8' }).stdout;
    assert.match(nat, new RegExp(`--to-destination ${ip.replace(/\./g, '\\.')}:8080`));
    const server = spawn('ip', ['netns', 'exec', netns.replace('/run/netns/', ''), 'socat', 'TCP-LISTEN:8080,reuseaddr', 'SYSTEM:echo hello-from-pod'], { stdio: 'ignore' });
    try {
      let got = '';
      for (let i = 0; i < 40 && !got.includes('hello-from-pod'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        got = spawnSync('ip', ['netns', 'exec', rig.node, 'socat', '-T', '2', '-', 'TCP:192.168.250.1:18080'], { encoding: 'utf8', input: '', timeout: 5000 }).stdout ?? '';
      }
      assert.match(got, /hello-from-pod/, 'the host port reaches the workload');
    } finally {
      server.kill('SIGKILL');
    }
    const check = run('check', checkFile);
    assert.equal(check.status, 0, `CHECK through libcni (cached prevResult): ${check.stderr}`);
    const wep = await new ResourceClient(ds).get('WorkloadEndpoint', 'node--1-k8s-web-eth0', 'chain');
    assert.ok(wep);
    const del = run('del');
    assert.equal(del.status, 0, `cnirun del: ${del.stderr}`);
    assert.doesNotMatch(spawnSync('ip', ['netns', 'exec', rig.node, 'iptables-save', '-t', 'nat'], { encoding: 'utf8' }).stdout, new RegExp(`${ip.replace(/\./g, '\\.')}:8080`));
    assert.deepEqual(rig.links(netns), ['lo']);
    assert.equal(await new ResourceClient(ds).get('WorkloadEndpoint', 'node--1-k8s-web-eth0', 'chain'), null);
    assert.equal((await new IpamClient(ds).check()).summary.allocatedIps, 0);
  });
});
