import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FlowRecord } from '../../src/flows/flow-record.js';
import { SqliteFlowStore } from '../../src/flows/flow-store.js';
import { BRINDLE_BIN, REPO_ROOT } from '../helpers/paths.js';
import { TOPOLOGY } from './topology.js';

/**
 * `brindle flows`, `report compliance` and `policy suggest` as a user runs them: the real binary,
 * a SQLite datastore seeded with the flow topology, records written to its flow table.
 */

let dir = '';
let env: NodeJS.ProcessEnv = {};
const now = Date.now();

function brindle(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BRINDLE_BIN, ...args], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
function ok(...args: string[]): string {
  const r = brindle(...args);
  assert.equal(r.code, 0, `brindle ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const client = { ip: '10.99.0.1', kind: 'workload', namespace: 'prod', name: 'client', labels: { app: 'client', 'projectcalico.org/namespace': 'prod' } } as const;
const db = { ip: '10.99.0.2', kind: 'workload', namespace: 'prod', name: 'db', labels: { app: 'db', pci: 'true', 'projectcalico.org/namespace': 'prod' } } as const;
const outside = { ip: '198.51.100.7', kind: 'networkset', name: 'outside', labels: { zone: 'internet' } } as const;

const RECORDS: FlowRecord[] = [
  { node: 'node-a', src: client, dst: db, protocol: 'TCP', srcPort: 40001, dstPort: 5001, direction: 'ingress', verdict: 'allowed', policy: { kind: 'policy', tier: 'default', namespace: 'prod', name: 'allow-web', ruleIndex: 0 }, staged: [{ tier: 'default', namespace: 'prod', name: 'lockdown', action: 'deny', ruleIndex: 0 }], packets: 12, bytes: 4000, start: now - 60_000, end: now - 59_000 },
  { node: 'node-a', src: client, dst: db, protocol: 'TCP', srcPort: 40002, dstPort: 5002, direction: 'ingress', verdict: 'denied', policy: { kind: 'end-of-tier', tier: 'default' }, packets: 3, bytes: 180, start: now - 30_000, end: now - 28_000 },
  { node: 'node-a', src: outside, dst: db, protocol: 'UDP', srcPort: 53, dstPort: 9999, direction: 'ingress', verdict: 'denied', policy: { kind: 'end-of-tier', tier: 'default' }, packets: 1, bytes: 60, start: now - 3 * 3600_000, end: now - 3 * 3600_000 },
];

describe('brindle flows / report compliance / policy suggest (CLI, SQLite)', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'brindle-flows-cli-'));
    env = { ...process.env, BRINDLE_DATASTORE: `sqlite:${join(dir, 'brindle.db')}` };
    delete env['BRINDLE_DEBUG'];
    ok('apply', '-f', TOPOLOGY);
    const store = new SqliteFlowStore(join(dir, 'brindle.db'));
    store.writeSync(RECORDS);
    await store.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('flows -o json: one object per line with the fields the issue names', () => {
    const lines = ok('flows', '-o', 'json').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    assert.deepEqual(lines[0], {
      src: { namespace: 'prod', name: 'client', ip: '10.99.0.1', kind: 'workload', labels: client.labels },
      dst: { namespace: 'prod', name: 'db', ip: '10.99.0.2', kind: 'workload', labels: db.labels },
      protocol: 'TCP', srcPort: 40001, dstPort: 5001, direction: 'ingress', verdict: 'allowed',
      policy: { kind: 'policy', tier: 'default', namespace: 'prod', name: 'allow-web', ruleIndex: 0 },
      staged: [{ tier: 'default', namespace: 'prod', name: 'lockdown', action: 'deny', ruleIndex: 0 }],
      packets: 12, bytes: 4000, start: new Date(now - 60_000).toISOString(), end: new Date(now - 59_000).toISOString(), node: 'node-a',
    });
  });

  test('flows filters: verdict, from/to (name, selector, CIDR), policy, since; bad input is a usage error', () => {
    const count = (...a: string[]) => ok('flows', '-o', 'json', ...a).trim().split('\n').filter(Boolean).length;
    assert.equal(count('--verdict', 'denied'), 2);
    assert.equal(count('--from', 'prod/client'), 2);
    assert.equal(count('--from', 'zone == "internet"'), 1);
    assert.equal(count('--to', 'prod/*', '--from', '198.51.100.0/24'), 1);
    assert.equal(count('--policy', 'prod/allow-web'), 1);
    assert.equal(count('--policy', 'lockdown'), 1, 'a staged policy matches too');
    assert.equal(count('--since', '5m'), 2);
    assert.match(ok('flows', '--verdict', 'denied', '--since', '5m'), /prod\/client:40002 -> prod\/db TCP\/5002 {2}DENIED {2}ingress {2}by end of tier default {2}3 pkts 180 B/);
    assert.equal(brindle('flows', '--verdict', 'maybe').code, 2);
    assert.equal(brindle('flows', '--since', 'yesterday-ish').code, 2);
  });

  test('report compliance: crossings in the period, and the calculation finds the allowed cross-zone path', () => {
    const r = JSON.parse(ok('report', 'compliance', '--zone', 'pci=pci == "true"', '--since', '1h'));
    assert.deepEqual(r.zones, [{ name: 'pci', selector: 'pci == "true"', endpoints: ['prod/db'] }]);
    assert.deepEqual(r.crossingTotals, { allowed: 1, denied: 1 });
    assert.deepEqual(r.crossings.map((c: any) => [c.from, c.to, c.toZone, c.verdict, c.policy]), [
      ['prod/client', 'prod/db', 'pci', 'allowed', 'default/prod/allow-web rule 0'],
      ['prod/client', 'prod/db', 'pci', 'denied', 'end of tier default'],
    ]);
    assert.equal(r.policy.crossZoneAllowed, true);
    assert.ok(r.policy.examples.some((e: any) => e.from === 'prod/client' && e.to === 'prod/db' && e.protocol === 'TCP' && e.port === 5001), JSON.stringify(r.policy.examples));
    assert.ok(!r.policy.examples.some((e: any) => e.to === 'prod/db' && e.port !== 5001), 'only 5001 reaches db');
    const html = ok('report', 'compliance', '--zone', 'pci=pci == "true"', '-o', 'html');
    assert.match(html, /<p class="verdict bad" id="policy-verdict">Current policy ALLOWS flows across zone boundaries<\/p>/);
    assert.equal(brindle('report', 'compliance', '--zone', 'nonsense').code, 2);
  });

  test('flows tells (stderr) when a node reported kernel overruns in the period: records are missing', async () => {
    assert.equal(brindle('flows').stderr, '', 'no overruns, no warning');
    const store = new SqliteFlowStore(join(dir, 'brindle.db'));
    store.recordOverrun('node-a', 'conntrack', now - 2 * 3600_000);
    store.recordOverrun('node-a', 'conntrack', now - 2 * 3600_000);
    await store.close();
    const all = brindle('flows');
    assert.equal(all.code, 0);
    assert.equal(all.stdout.trim().split('\n').length, 3, 'the records are still printed');
    assert.match(all.stderr, /warning: node node-a \(conntrack\) reported 2 kernel event overrun\(s\) in the minute from .*: some flows of that period have no record/);
    assert.equal(brindle('flows', '--since', '5m').stderr, '', 'not in the period asked about');
    assert.equal(brindle('flows', '--node', 'node-b').stderr, '', 'nor on another node');
  });

  test('policy suggest writes staged least-privilege policies that preview --staged can show', () => {
    const yaml = ok('policy', 'suggest', '-n', 'prod', '--since', '1h');
    assert.match(yaml, /kind: StagedNetworkPolicy/);
    const file = join(dir, 'suggested.yaml');
    writeFileSync(file, yaml);
    const docs = JSON.parse(ok('policy', 'suggest', '-n', 'prod', '--since', '1h', '-o', 'json'));
    assert.deepEqual(docs.items.map((d: any) => [d.metadata.name, d.spec.selector, d.spec.types, d.spec.ingress ?? d.spec.egress]), [
      ['suggested-db-ingress', 'app == "db"', ['Ingress'], [{ action: 'Allow', protocol: 'TCP', source: { selector: 'app == "client"' }, destination: { ports: [5001] } }]],
      ['suggested-client-egress', 'app == "client"', ['Egress'], [{ action: 'Allow', protocol: 'TCP', destination: { selector: 'app == "db"', ports: [5001] } }]],
    ]);
    // Staged, the file changes nothing; enforced (--staged), client's egress keeps only db:5001
    // (on 5001 the stored staged `lockdown` of db, enforced too, denies that as well).
    assert.match(ok('policy', 'preview', '-f', file, '--port', '80'), /No reachability change/);
    const cells = (port: string) => JSON.parse(ok('policy', 'preview', '--staged', '-f', file, '--port', port, '-o', 'json')).changes.map((c: any) => `${c.from}>${c.to}:${c.before}>${c.after}`);
    assert.deepEqual(cells('80'), ['prod/client>prod/client:true>false', 'prod/client>prod/web:true>false']);
    assert.deepEqual(cells('5001'), ['prod/client>prod/client:true>false', 'prod/client>prod/db:true>false', 'prod/client>prod/web:true>false']);
  });
});
