import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { prepareDocuments } from '../../src/calc/preview.js';
import { main } from '../../src/cli/main.js';
import type { Datastore } from '../../src/datastore/datastore.js';
import { openDatastore } from '../../src/datastore/open.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { CASES, type NetpolCase } from './k8s-netpol-cases.js';
import { baseDocs, compareReachability, type Doc } from './k8s-netpol-model.js';

/**
 * The Kubernetes network-policy e2e cases, run against Brindle: each case writes the namespaces,
 * pods (WorkloadEndpoints) and policies into a real SQLite datastore through the ResourceClient
 * (the write path of `brindle apply`), then asks `brindle policy matrix -o json` for every probe and
 * compares it with the upstream truth table (loopback ignored, as upstream does). A failure prints
 * expected and actual side by side with the wrong cells marked `!`.
 */

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks: string[] = [];
  const errs: string[] = [];
  out.on('data', (c: Buffer) => chunks.push(c.toString()));
  err.on('data', (c: Buffer) => errs.push(c.toString()));
  const code = await main(argv, {}, { stdout: out, stderr: err, stdin: new PassThrough() });
  return { code, stdout: chunks.join(''), stderr: errs.join('') };
}

async function applyAll(client: ResourceClient, docs: Doc[]): Promise<void> {
  for (const d of docs) await client.apply(d as never);
}

async function deleteAll(client: ResourceClient, docs: Doc[]): Promise<void> {
  for (const c of prepareDocuments(docs, 'delete')) await client.delete(c.resource.kind, c.resource.metadata.name, c.resource.metadata.namespace);
}

async function runCase(c: NetpolCase, dir: string): Promise<void> {
  const url = `sqlite:${join(dir, `${c.name}.db`)}`;
  const ds: Datastore = await openDatastore(url);
  try {
    const client = new ResourceClient(ds);
    await applyAll(client, baseDocs());
    for (const [i, step] of c.steps.entries()) {
      await deleteAll(client, step.delete ?? []);
      await applyAll(client, step.apply ?? []);
      for (const p of step.probes) {
        const r = await cli(['--datastore', url, 'policy', 'matrix', '--protocol', p.protocol, '--port', String(p.port), '-o', 'json']);
        assert.equal(r.code, 0, `policy matrix failed: ${r.stderr}`);
        const got = JSON.parse(r.stdout) as { endpoints: string[]; allowed: Record<string, Record<string, boolean>> };
        assert.deepEqual(got.endpoints, p.reach.pods);
        const cmp = compareReachability(p.reach, got.allowed);
        assert.equal(cmp.wrong, 0, `${c.name} (step ${i + 1}, ${p.protocol} ${p.port}): ${cmp.wrong} wrong cell(s) (${c.upstream})\n${cmp.table}`);
      }
    }
  } finally {
    await ds.close();
  }
}

describe('Kubernetes network-policy e2e cases through `brindle policy matrix`', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'brindle-netpol-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the case list covers the required constructs', () => {
    const text = JSON.stringify(CASES);
    assert.ok(CASES.length >= 20, `only ${CASES.length} cases`);
    for (const needle of ['"except"', '"serve-80-tcp"', '"endPort"', '"Egress"', '"namespaceSelector"', '"ipBlock"', '"UDP"', '"SCTP"']) {
      assert.ok(text.includes(needle), `no case uses ${needle}`);
    }
    assert.ok(CASES.some((c) => c.steps.some((s) => (s.apply ?? []).length > 1)), 'no case with several policies at once');
  });

  for (const c of CASES) {
    test(`${c.name}: ${c.upstream}`, async () => {
      await runCase(c, dir);
    });
  }
});
