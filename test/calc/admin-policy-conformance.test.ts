import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { cli, houseDocs, matrix, podLabel, type Doc, type House } from '../helpers/houses.js';
import { REPO_ROOT } from '../helpers/paths.js';

/**
 * Cases of the upstream network-policy-api conformance suite (ClusterNetworkPolicy v1alpha2/v1beta1,
 * AdminNetworkPolicy/BaselineAdminNetworkPolicy v1alpha1), run through `brindle apply -f` into a
 * SQLite datastore and checked with `brindle policy matrix`: each probe is one upstream
 * `PokeServer(client, server, protocol, port, expectConnection)`, in the upstream order, with the
 * upstream mutations (rule swaps, priority change, action change, delete) between them.
 */

const dir = mkdtempSync(join(tmpdir(), 'brindle-anp-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

type Probe = [from: [House, number], to: [House, number], port: number, allowed: boolean];

function manifest(name: string): Doc[] {
  return parseAllDocuments(readFileSync(join(REPO_ROOT, 'testdata', 'admin-policy', name), 'utf8')).map((d) => d.toJS() as Doc);
}

async function apply(url: string, docs: Doc[]): Promise<void> {
  const file = join(dir, `apply-${n++}.json`);
  writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }));
  const r = await cli(['--datastore', url, 'apply', '-f', file]);
  assert.equal(r.code, 0, `apply failed: ${r.stderr}`);
}

async function setup(docs: Doc[]): Promise<string> {
  const url = `sqlite:${join(dir, `case-${n++}.db`)}`;
  await apply(url, houseDocs());
  await apply(url, docs);
  return url;
}

async function probe(url: string, probes: Probe[], step: string): Promise<void> {
  const byPort = new Map<number, Awaited<ReturnType<typeof matrix>>>();
  const wrong: string[] = [];
  for (const [from, to, port, allowed] of probes) {
    if (!byPort.has(port)) byPort.set(port, await matrix(url, 'TCP', port));
    const got = byPort.get(port)!.allowed[podLabel(...from)]?.[podLabel(...to)];
    if (got !== allowed) wrong.push(`${podLabel(...from)} → ${podLabel(...to)} TCP ${port}: expected ${allowed ? 'allowed' : 'denied'}, got ${String(got)}`);
  }
  assert.deepEqual(wrong, [], `${step}:\n${wrong.join('\n')}`);
}

const swap = <T>(list: T[], i: number, j: number): void => {
  [list[i], list[j]] = [list[j]!, list[i]!];
};

describe('network-policy-api conformance through policy matrix', { timeout: 120_000 }, () => {
  test('CNPAdminTierIngressTCP: rule order, Accept/Deny/Pass, ports, egress untouched', async () => {
    const [cnp] = manifest('cnp-admin-ingress-tcp.yaml') as [Doc & { spec: { ingress: Doc[] } }];
    const url = await setup([cnp]);
    await probe(url, [
      [['ravenclaw', 0], ['gryffindor', 0], 80, true],
      [['ravenclaw', 1], ['gryffindor', 0], 8080, true],
    ], 'allow-ingress respects rule order');
    await probe(url, [
      [['hufflepuff', 0], ['gryffindor', 1], 80, true],
      [['hufflepuff', 1], ['gryffindor', 1], 8080, false],
    ], 'allow-ingress at the specified port');
    await probe(url, [
      [['gryffindor', 0], ['ravenclaw', 0], 80, true],
      [['gryffindor', 1], ['slytherin', 0], 80, true],
    ], 'egress unaffected by ingress-only rules');
    swap(cnp.spec.ingress, 0, 1);
    await apply(url, [cnp]);
    await probe(url, [
      [['ravenclaw', 0], ['gryffindor', 1], 80, false],
      [['ravenclaw', 1], ['gryffindor', 1], 8080, false],
    ], 'deny-ingress after swapping rules 0 and 1');
    await probe(url, [
      [['slytherin', 0], ['gryffindor', 0], 80, false],
      [['slytherin', 1], ['gryffindor', 0], 8080, true],
    ], 'deny-ingress at the specified port');
    swap(cnp.spec.ingress, 0, 2);
    await apply(url, [cnp]);
    await probe(url, [
      [['ravenclaw', 0], ['gryffindor', 0], 80, true],
      [['ravenclaw', 1], ['gryffindor', 0], 8080, true],
    ], 'pass-ingress after swapping rules 0 and 2');
    swap(cnp.spec.ingress, 3, 4);
    await apply(url, [cnp]);
    await probe(url, [
      [['slytherin', 0], ['gryffindor', 0], 80, true],
      [['slytherin', 1], ['gryffindor', 0], 8080, true],
    ], 'pass-ingress at the specified port after swapping rules 3 and 4');
  });

  test('AdminNetworkPolicyPriorityField: a lower priority Pass hands the flow to the BANP', async () => {
    const docs = manifest('anp-priority.yaml') as (Doc & { metadata: { name: string }; spec: { priority?: number } })[];
    const url = await setup(docs);
    const slytherinGryffindor = (allowed: boolean): Probe[] => [
      [['slytherin', 0], ['gryffindor', 0], 80, allowed],
      [['slytherin', 1], ['gryffindor', 0], 8080, allowed],
      [['gryffindor', 0], ['slytherin', 0], 80, allowed],
      [['gryffindor', 1], ['slytherin', 0], 8080, allowed],
    ];
    await probe(url, slytherinGryffindor(false), 'priority 50 Deny wins over priority 60 Pass');
    const moved = docs.find((d) => d.metadata.name === 'old-priority-60-new-priority-40-example')!;
    moved.spec.priority = 40;
    await apply(url, [moved]);
    await probe(url, slytherinGryffindor(true), 'priority 40 Pass wins; the BaselineAdminNetworkPolicy allows');
  });

  test('ClusterNetworkPolicy Admin + NetworkPolicy + Baseline (api_integration, v1beta1)', async () => {
    const [admin, np, baseline] = manifest('cnp-np-baseline.yaml') as [Doc & { spec: { ingress: Doc[]; egress: Doc[] } }, Doc, Doc];
    const url = await setup([admin, np, baseline]);
    const pairs = (allowed: boolean): Probe[] => [
      [['slytherin', 0], ['gryffindor', 0], 80, allowed],
      [['gryffindor', 1], ['slytherin', 1], 80, allowed],
    ];
    await probe(url, pairs(false), 'admin Deny decides');
    admin.spec.ingress[0]!['action'] = 'Pass';
    admin.spec.egress[0]!['action'] = 'Pass';
    await apply(url, [admin]);
    await probe(url, [...pairs(true), [['hufflepuff', 0], ['gryffindor', 0], 80, false]], 'admin Pass: the NetworkPolicy decides');
    const file = join(dir, 'np.json');
    writeFileSync(file, JSON.stringify(np));
    const r = await cli(['--datastore', url, 'delete', '-f', file]);
    assert.equal(r.code, 0, r.stderr);
    await probe(url, [...pairs(false), [['hufflepuff', 0], ['gryffindor', 0], 80, true]], 'NetworkPolicy deleted: the baseline Deny decides');
    writeFileSync(file, JSON.stringify(baseline));
    assert.equal((await cli(['--datastore', url, 'delete', '-f', file])).code, 0);
    await probe(url, pairs(true), 'baseline deleted: nothing denies');
  });
});
