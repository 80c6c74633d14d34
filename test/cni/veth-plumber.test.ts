import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FakeExec } from '../../src/base/exec.js';
import type { SyncRunResult } from '../../src/base/run-sync.js';
import { CniCode, CniError } from '../../src/cni/cni-spec.js';
import { VethPlumber } from '../../src/cni/veth-plumber.js';
import { setupShellScript, shellQuote } from '../../src/cni/veth-scripts.js';

const plan = { hostVeth: 'caliabc', ifname: 'eth0', netns: '/proc/1/ns/net', mtu: 1450, containerMac: '02:00:00:00:00:01', addresses: ['10.65.0.5'], replaceHostVeth: false };

/**
 * The ADD wiring script is run by a real sh here, with `ip` and `nsenter` replaced by recording
 * stand-ins on PATH and /proc/sys by a directory, so the order of steps, what each step is fed
 * and how each failure is reported are checked without root or a kernel.
 */
function shellRig(failing?: 'ip-host' | 'ip-ctr') {
  const dir = mkdtempSync(join(tmpdir(), 'brindle-veth-'));
  const bin = join(dir, 'bin');
  const sys = join(dir, 'sys');
  mkdirSync(bin);
  for (const p of ['net/ipv4/conf/caliabc', 'net/ipv4/neigh/caliabc']) mkdirSync(join(sys, p), { recursive: true });
  const log = join(dir, 'log');
  const stub = (name: string, fail: boolean) => writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> ${log}\ncat >> ${log}\n${fail ? 'echo "RTNETLINK answers: File exists" >&2; exit 2\n' : ''}`, { mode: 0o755 });
  stub('ip', false);
  stub('nsenter', false);
  if (failing === 'ip-host') stub('ip', true);
  if (failing === 'ip-ctr') writeFileSync(join(bin, 'nsenter'), `#!/bin/sh\necho "nsenter $*" >> ${log}\ncat >> ${log}\necho "Error: ipv4: Address already assigned." >&2; exit 2\n`, { mode: 0o755 });
  const runner = (file: string, args: readonly string[]): SyncRunResult => {
    const r = spawnSync(file, [...args], { env: { PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8' });
    return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, timedOut: false };
  };
  return { dir, sys, log, plumber: new VethPlumber(new FakeExec(), sys, runner), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('VethPlumber.setUp: one shell script for the kernel side of an ADD', () => {
  test('host ip batch, then the sysctls, then the container side through nsenter (a netns that is not a named one)', () => {
    const rig = shellRig();
    try {
      rig.plumber.setUp(plan);
      assert.equal(readFileSync(rig.log, 'utf8'), [
        'ip -batch -',
        'link add caliabc mtu 1450 address ee:ee:ee:ee:ee:ee type veth peer name eth0 mtu 1450 address 02:00:00:00:00:01 netns /proc/1/ns/net',
        'link set caliabc up',
        'route add 10.65.0.5/32 dev caliabc scope link',
        'nsenter --net=/proc/1/ns/net ip -batch -',
        'link set eth0 up',
        'addr add 10.65.0.5/32 dev eth0',
        'route add 169.254.1.1/32 dev eth0 scope link',
        'route add 0.0.0.0/0 via 169.254.1.1 dev eth0',
        '',
      ].join('\n'));
      assert.equal(readFileSync(join(rig.sys, 'net/ipv4/conf/caliabc/proxy_arp'), 'utf8'), '1');
      assert.equal(readFileSync(join(rig.sys, 'net/ipv4/neigh/caliabc/proxy_delay'), 'utf8'), '0');
      assert.equal(readFileSync(join(rig.sys, 'net/ipv4/conf/caliabc/route_localnet'), 'utf8'), '1');
    } finally {
      rig.cleanup();
    }
  });

  test('a named netns is configured with ip -n', () => {
    const s = setupShellScript({ ...plan, netns: '/run/netns/pod1' }, '/proc/sys', 'pod1');
    assert.match(s, /^ip -n 'pod1' -batch - <<'BRINDLE_CTR_END'/m);
    assert.doesNotMatch(s, /nsenter/);
  });

  test('the host step fails: its ip message, and the container step never runs', () => {
    const rig = shellRig('ip-host');
    try {
      assert.throws(() => rig.plumber.setUp(plan), (e: CniError) => e.code === CniCode.Internal && e.message === 'creating the veth: RTNETLINK answers: File exists');
      assert.doesNotMatch(readFileSync(rig.log, 'utf8'), /nsenter/);
    } finally {
      rig.cleanup();
    }
  });

  test('a sysctl cannot be written: CNI 5 (I/O) naming it', () => {
    const rig = shellRig();
    try {
      rmSync(join(rig.sys, 'net/ipv4/neigh'), { recursive: true });
      assert.throws(() => rig.plumber.setUp(plan), (e: CniError) => e.code === CniCode.IoFailure && /^cannot set net\.ipv4\.neigh\.caliabc\.proxy_delay=0: /.test(e.message));
      assert.doesNotMatch(readFileSync(rig.log, 'utf8'), /nsenter/);
    } finally {
      rig.cleanup();
    }
  });

  test('the container step fails: its message, naming the netns', () => {
    const rig = shellRig('ip-ctr');
    try {
      assert.throws(() => rig.plumber.setUp(plan), (e: CniError) => e.message === 'configuring the interface in /proc/1/ns/net: Error: ipv4: Address already assigned.');
    } finally {
      rig.cleanup();
    }
  });

  test('a timeout is reported as one', () => {
    const p = new VethPlumber(new FakeExec(), '/proc/sys', () => ({ status: null, signal: 'SIGKILL', stdout: '', stderr: '', timedOut: true }));
    assert.throws(() => p.setUp(plan), /wiring caliabc: timed out after 90000 ms/);
  });

  test('shell quoting survives quotes and spaces', () => {
    const r = spawnSync('sh', ['-c', `printf %s ${shellQuote(`it's a "test" $HOME`)}`], { encoding: 'utf8' });
    assert.equal(r.stdout, `it's a "test" $HOME`);
  });
});
