import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/base/clock.js';
import { FlowAggregator } from '../../src/flows/flow-aggregator.js';
import { FlowContext } from '../../src/flows/flow-context.js';
import { flowToJson, type FlowRecord } from '../../src/flows/flow-record.js';
import { FlowRecorder } from '../../src/flows/flow-recorder.js';
import { decodeRuleId, encodeRuleId, RuleIdIndex } from '../../src/flows/rule-id.js';
import { parseUlogdLine } from '../../src/flows/ulogd-event.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { topologyResources } from './topology.js';
import { parsePeerFilter } from '../../src/flows/flow-filter.js';
import { prepareResource } from '../../src/api/prepare.js';
import type { Resource } from '../../src/api/types.js';

const SAMPLE = readFileSync(join(REPO_ROOT, 'testdata', 'flows', 'ulogd-sample.jsonl'), 'utf8').split('\n').filter(Boolean);

function record(ctx: FlowContext, lines: string[]): FlowRecord[] {
  const out: FlowRecord[] = [];
  const rec = new FlowRecorder('node-a', ctx, new ManualClock(1_000), { onFlow: (r) => out.push(r) });
  for (const l of lines) {
    const ev = parseUlogdLine(l, 0);
    assert.ok(ev, `unparsed line ${l.slice(0, 80)}`);
    rec.onEvent(ev);
  }
  return out;
}

describe('rule IDs (NFLOG prefixes)', () => {
  test('round-trip every kind of decider', () => {
    const ids = [
      { verdict: 'denied', direction: 'ingress', policy: { kind: 'policy', tier: 'default', namespace: 'prod', name: 'deny-db', ruleIndex: 2 } },
      { verdict: 'allowed', direction: 'egress', policy: { kind: 'policy', tier: 'admin', name: 'baseline', ruleIndex: 0 } },
      { verdict: 'denied', direction: 'ingress', policy: { kind: 'end-of-tier', tier: 'default' } },
      { verdict: 'allowed', direction: 'ingress', policy: { kind: 'profile', name: 'kns.prod', ruleIndex: 0 } },
      { verdict: 'denied', direction: 'egress', policy: { kind: 'no-policy' } },
    ] as const;
    for (const id of ids) assert.deepEqual(decodeRuleId(encodeRuleId(id)), id);
    assert.equal(encodeRuleId(ids[0]), 'DIP|default|prod|deny-db|2');
    assert.equal(decodeRuleId('not ours'), undefined);
  });

  test('a prefix longer than the kernel keeps is hashed and resolved from the snapshot', () => {
    const name = 'x'.repeat(150);
    const rs = topologyResources().map((r) => (r.kind === 'NetworkPolicy' ? { ...r, metadata: { ...r.metadata, name } } : r));
    const ctx = FlowContext.fromResources(rs);
    const id = { verdict: 'allowed', direction: 'ingress', policy: { kind: 'policy', tier: 'default', namespace: 'prod', name, ruleIndex: 0 } } as const;
    const prefix = encodeRuleId(id);
    assert.ok(prefix.length <= 127 && prefix.startsWith('AIP#'), prefix);
    assert.equal(decodeRuleId(prefix), undefined);
    assert.deepEqual(decodeRuleId(prefix, new RuleIdIndex(ctx.snapshot)), id);
  });
});

describe('FlowRecorder on ulogd2 output captured from the kernel', () => {
  const ctx = FlowContext.fromResources(topologyResources());

  test('a denied packet becomes a record naming its rule, with identities and the staged verdict', () => {
    const denied = SAMPLE.filter((l) => l.includes('"DIT|'));
    assert.ok(denied.length >= 1);
    const out = record(ctx, denied);
    assert.equal(out.length, denied.length);
    const j = flowToJson(out[0]!);
    assert.deepEqual({ src: j.src.name, dst: `${j.dst.namespace}/${j.dst.name}`, protocol: j.protocol, dstPort: j.dstPort, verdict: j.verdict, policy: j.policy, packets: j.packets, bytes: j.bytes, node: j.node, staged: j.staged },
      { src: 'client', dst: 'prod/db', protocol: 'TCP', dstPort: 5002, verdict: 'denied', policy: { kind: 'end-of-tier', tier: 'default' }, packets: 1, bytes: 60, node: 'node-a', staged: [{ tier: 'default', namespace: 'prod', name: 'lockdown', action: 'deny', ruleIndex: 0 }] });
  });

  test('an allowed connection: labelled by its NFLOG rule, counted by its conntrack end', () => {
    const lines = SAMPLE.filter((l) => l.includes('"AIP|') || l.includes('ct.event'));
    const allowLine = lines.find((l) => l.includes('AIP'))!;
    const ct = lines.find((l) => l.includes('ct.event'))!;
    // The captured SYN and DESTROY are of the same connection only if their source ports agree.
    const sport = JSON.parse(ct)['orig.l4.sport'] as number;
    const syn = allowLine.replace(/"src_port": \d+/, `"src_port": ${sport}`).replace(/"oob.prefix": "[^"]*"/, '"oob.prefix": "AIP|default|prod|allow-web|7"');
    const out = record(ctx, [syn, ct]);
    assert.equal(out.length, 1);
    const r = out[0]!;
    assert.deepEqual([r.verdict, r.policy, r.packets, r.bytes, r.dstPort], ['allowed', { kind: 'policy', tier: 'default', namespace: 'prod', name: 'allow-web', ruleIndex: 7 }, 8, 438, 5001]);
    assert.ok(r.end >= r.start && r.start > 1_700_000_000_000);
  });

  test('a connection whose label was never logged is labelled by the calculation', () => {
    const ct = SAMPLE.find((l) => l.includes('ct.event'))!;
    const [r] = record(ctx, [ct]);
    assert.deepEqual([r!.verdict, r!.direction, r!.policy], ['allowed', 'ingress', { kind: 'policy', tier: 'default', namespace: 'prod', name: 'allow-web', ruleIndex: 0 }]);
  });
});

describe('FlowAggregator', () => {
  test('sums per 5-tuple and decider; distinct tuples stay apart; overflow passes through', () => {
    const base: FlowRecord = { node: 'n', src: { ip: '10.0.0.1', kind: 'external' }, dst: { ip: '10.0.0.2', kind: 'external' }, protocol: 'TCP', srcPort: 1, dstPort: 80, direction: 'ingress', verdict: 'denied', policy: { kind: 'no-policy' }, packets: 1, bytes: 60, start: 10, end: 10 };
    const a = new FlowAggregator(2);
    assert.equal(a.add(base), undefined);
    assert.equal(a.add({ ...base, start: 5, end: 30 }), undefined);
    assert.equal(a.add({ ...base, srcPort: 2 }), undefined);
    assert.ok(a.add({ ...base, srcPort: 3 }));
    assert.equal(a.overflowed, 1);
    const out = a.flush();
    assert.deepEqual(out.map((r) => [r.srcPort, r.packets, r.bytes, r.start, r.end]), [[1, 2, 120, 5, 30], [2, 1, 60, 10, 10]]);
    assert.deepEqual(a.flush(), []);
  });
});

describe('FlowContext peers', () => {
  test('a Kubernetes workload is named by its pod, with its WorkloadEndpoint beside it; both filter', () => {
    const wep = prepareResource({
      apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name: 'node1-k8s-frontend--7d4b9-eth0', namespace: 'shop', labels: { app: 'frontend' } },
      spec: { orchestrator: 'k8s', node: 'node1', pod: 'frontend-7d4b9', endpoint: 'eth0', interfaceName: 'cali0123456789a', ipNetworks: ['10.70.0.5/32'] },
    } as Resource);
    const ctx = FlowContext.fromResources([...topologyResources(), wep]);
    const p = ctx.peer('10.70.0.5');
    assert.deepEqual([p.kind, p.namespace, p.name, p.endpoint], ['workload', 'shop', 'frontend-7d4b9', 'node1-k8s-frontend--7d4b9-eth0']);
    for (const ref of ['shop/frontend-7d4b9', 'shop/node1-k8s-frontend--7d4b9-eth0', 'shop/*']) assert.equal(parsePeerFilter(ref)(p), true, ref);
    assert.equal(parsePeerFilter('shop/other')(p), false);
    // An endpoint with no pod (bare metal, the flow tests' topology) keeps its own name.
    const client = ctx.peer(ctx.snapshot.endpoints.get([...ctx.snapshot.endpoints.keys()].find((k) => k.includes('client'))!)!.ipv4Nets[0]!.split('/')[0]!);
    assert.deepEqual([client.name, client.endpoint], ['client', undefined]);
  });
});

describe('FlowRecorder decisions for unlabelled connections', () => {
  const ends = (ctx: FlowContext, srcPorts: number[]) => {
    const out: FlowRecord[] = [];
    const rec = new FlowRecorder('node-a', ctx, new ManualClock(1_000), { onFlow: (r) => out.push(r) });
    const ip = (name: string) => [...ctx.snapshot.endpoints.values()].find((e) => e.name === name)!.ipv4Nets[0]!.split('/')[0]!;
    for (const p of srcPorts) rec.onEvent({ kind: 'conntrack-end', srcIp: ip('client'), dstIp: ip('db'), protocol: 'TCP', srcPort: p, dstPort: 5001, packets: 3, bytes: 180, replyPackets: 2, replyBytes: 120, start: 0, end: 1 });
    return out;
  };

  test('connections that differ only in source port get the same decision (remembered), each its own record', () => {
    const ctx = FlowContext.fromResources(topologyResources());
    assert.equal(ctx.matchesSourcePorts, false);
    const out = ends(ctx, [40001, 40002, 40003]);
    assert.deepEqual(out.map((r) => [r.srcPort, r.verdict, r.policy.name, r.policy.ruleIndex, r.packets]), [40001, 40002, 40003].map((p) => [p, 'allowed', 'allow-web', 0, 5]));
  });

  test('with a rule on source ports, the source port is part of the decision', () => {
    const bySrcPort = prepareResource({
      apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name: 'from-low-ports', namespace: 'prod' },
      spec: { order: 1, selector: 'app == "db"', types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', source: { ports: ['40000:40001'] } }] },
    } as Resource);
    const ctx = FlowContext.fromResources([...topologyResources(), bySrcPort]);
    assert.equal(ctx.matchesSourcePorts, true);
    const out = ends(ctx, [40001, 40002, 40001]);
    assert.deepEqual(out.map((r) => r.policy.name), ['from-low-ports', 'allow-web', 'from-low-ports']);
  });
});
