import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BRINDLE_BIN } from '../helpers/paths.js';

/**
 * Endpoints named as Calico names them (`node--1-k8s-web--5d8f9c-eth0`): `policy explain` accepts
 * what `get wep` shows (namespace/workload) as well as endpoint names and IPs, lists candidates for
 * an unknown or ambiguous name, and `policy matrix` stays readable at 30 endpoints.
 */

const N = 30;
let dir = '';
let url = '';

function brindle(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BRINDLE_BIN, '--datastore', url, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function wep(ns: string, pod: string, iface: string, ip: string): string {
  const name = `worker--node--${iface === 'eth0' ? 1 : 1}-k8s-${pod.replace(/-/g, '--')}-${iface}`;
  return JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name, namespace: ns, labels: { app: pod.split('-')[0]! } }, spec: { orchestrator: 'k8s', node: 'worker-node-1', pod, endpoint: iface, interfaceName: `cali${ip.replace(/\./g, '')}`.slice(0, 15), ipNetworks: [`${ip}/32`], profiles: [`kns.${ns}`] } });
}

describe('policy explain and matrix with Calico-style endpoint names', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'brindle-peers-'));
    url = `sqlite:${join(dir, 'b.db')}`;
    const docs: string[] = ['shop', 'data'].map((ns) => JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }));
    for (let i = 0; i < N - 2; i++) docs.push(wep(i % 2 ? 'shop' : 'data', `svc${i}-7d4b9c${i}f-x${i}`, 'eth0', `10.66.0.${i + 10}`));
    // one pod with two interfaces: its workload name is ambiguous
    docs.push(wep('shop', 'multi-5f6d7-abc', 'eth0', '10.66.1.1'), wep('shop', 'multi-5f6d7-abc', 'eth1', '10.66.1.2'));
    const file = join(dir, 'weps.yaml');
    writeFileSync(file, docs.join('\n---\n') + '\n');
    const r = brindle('apply', '-f', file);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('explain accepts namespace/workload, the endpoint name, a bare pod name and an IP', { timeout: 60_000 }, () => {
    const expect = { from: 'shop/worker--node--1-k8s-svc1--7d4b9c1f--x1-eth0', to: 'data/worker--node--1-k8s-svc0--7d4b9c0f--x0-eth0' };
    for (const [from, to] of [
      ['shop/svc1-7d4b9c1f-x1', 'data/svc0-7d4b9c0f-x0'],
      [expect.from, expect.to],
      ['svc1-7d4b9c1f-x1', '10.66.0.10'],
    ] as const) {
      const r = brindle('policy', 'explain', '--from', from, '--to', to, '--port', '80', '-o', 'json');
      assert.equal(r.code, 0, `${from} → ${to}: ${r.stderr}`);
      const x = JSON.parse(r.stdout) as { flow: { from: string; to: string } };
      assert.deepEqual({ from: x.flow.from, to: x.flow.to }, expect);
    }
  });

  test('an unknown name lists candidates of its namespace; an ambiguous one lists its endpoints', { timeout: 60_000 }, () => {
    const unknown = brindle('policy', 'explain', '--from', 'shop/svc1', '--to', '10.66.0.10', '--port', '80');
    assert.equal(unknown.code, 1);
    assert.doesNotMatch(unknown.stderr, /namespace\/name/);
    assert.match(unknown.stderr, /^Error: --from shop\/svc1: no workload endpoint, workload, host endpoint or IP address by that name; endpoints: shop\/svc1-7d4b9c1f-x1, shop\/svc11-7d4b9c11f-x11, /);
    assert.match(unknown.stderr, / and \d+ more \(brindle get wep -A\)\n$/);
    const ambiguous = brindle('policy', 'explain', '--from', 'shop/multi-5f6d7-abc', '--to', '10.66.0.10', '--port', '80');
    assert.equal(ambiguous.code, 2);
    assert.equal(ambiguous.stderr, 'Error: --from shop/multi-5f6d7-abc names several endpoints: shop/worker--node--1-k8s-multi--5f6d7--abc-eth0, shop/worker--node--1-k8s-multi--5f6d7--abc-eth1; give one of these\n');
  });

  test(`matrix is readable at ${N} endpoints: workload labels, numbered columns; --wide for full names`, { timeout: 60_000 }, () => {
    const r = brindle('policy', 'matrix', '--port', '80');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2 + N);
    for (const l of lines.slice(1)) assert.ok(l.length <= 150, `${l.length} characters: ${l}`);
    assert.match(lines[0]!, /columns = destination by row number/);
    assert.match(r.stdout, /^ 1 data\/svc0-7d4b9c0f-x0 +\.  \./m);
    assert.match(r.stdout, /^\d+ shop\/worker--node--1-k8s-multi--5f6d7--abc-eth0 /m, 'an ambiguous workload keeps its endpoint name');
    const wide = brindle('policy', 'matrix', '--port', '80', '--wide');
    assert.equal(wide.code, 0, wide.stderr);
    assert.match(wide.stdout.split('\n')[1]!, /data\/worker--node--1-k8s-svc0--7d4b9c0f--x0-eth0 +data\/worker--node--1-k8s-svc10/);
    assert.ok(wide.stdout.split('\n')[1]!.length > 1000);
  });
});
