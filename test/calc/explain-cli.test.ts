import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertGolden } from '../helpers/golden.js';
import { BRINDLE_BIN, REPO_ROOT } from '../helpers/paths.js';

/**
 * `brindle policy explain | matrix | preview` as a user runs them: the real binary, a real SQLite
 * datastore in a temp dir, seeded with `brindle apply` from the demo manifests. Text output is
 * compared with golden files (testdata/policy/, UPDATE_GOLDEN=1 rewrites them).
 */

let dir = '';
let env: NodeJS.ProcessEnv = {};

function brindle(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BRINDLE_BIN, ...args], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function ok(...args: string[]): string {
  const r = brindle(...args);
  assert.equal(r.code, 0, `brindle ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const DEMO = join(REPO_ROOT, 'examples', 'demo');

describe('brindle policy (CLI, SQLite)', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'brindle-policy-cli-'));
    env = { ...process.env, BRINDLE_DATASTORE: `sqlite:${join(dir, 'brindle.db')}` };
    delete env['BRINDLE_DEBUG'];
    ok('apply', '-f', join(DEMO, '00-namespaces.yaml'), '-f', join(DEMO, '01-endpoints.yaml'), '-f', join(DEMO, '02-policies.yaml'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('matrix: text truth table and JSON', () => {
    assertGolden('policy/demo-matrix-tcp-5432.txt', ok('policy', 'matrix', '--protocol', 'TCP', '--port', '5432'));
    const j = JSON.parse(ok('policy', 'matrix', '--port', '8080', '-o', 'json')) as { protocol: string; port: number; endpoints: string[]; allowed: Record<string, Record<string, boolean>> };
    assert.equal(j.protocol, 'TCP');
    assert.equal(j.port, 8080);
    assert.deepEqual(j.endpoints, ['data/backup', 'data/db', 'shop/api', 'shop/frontend']);
    const allowedPairs = Object.entries(j.allowed).flatMap(([s, row]) => Object.entries(row).filter(([, v]) => v).map(([d]) => `${s}>${d}`));
    assert.deepEqual(allowedPairs, ['shop/frontend>shop/api']);
    const ns = JSON.parse(ok('policy', 'matrix', '-n', 'shop', '--port', '80', '-o', 'json')) as { endpoints: string[] };
    assert.deepEqual(ns.endpoints, ['shop/api', 'shop/frontend']);
  });

  test('explain: a denied flow, tier by tier', () => {
    assertGolden('policy/demo-explain-frontend-db.txt', ok('policy', 'explain', '--from', 'shop/frontend', '--to', 'data/db', '--protocol', 'TCP', '--port', '5432'));
    const j = JSON.parse(ok('policy', 'explain', '--from', 'shop/api', '--to', 'data/db', '--protocol', 'tcp', '--port', '5432', '-o', 'json')) as {
      verdict: string; egress: { verdict: string }; ingress: { verdict: string; tiers: { name: string; outcome: string; policies: { name: string; outcome: string; rule?: { index: number } }[] }[] };
    };
    assert.equal(j.verdict, 'allow');
    assert.equal(j.egress.verdict, 'allow');
    assert.deepEqual(j.ingress.tiers.map((t) => [t.name, t.outcome]), [['admin', 'pass'], ['default', 'allow']]);
    const decided = j.ingress.tiers[1]!.policies.find((p) => p.outcome === 'allow')!;
    assert.equal(decided.name, 'db-from-api');
    assert.equal(decided.rule!.index, 0);
  });

  test('explain to a bare IP evaluates only the source egress', () => {
    const j = JSON.parse(ok('policy', 'explain', '--from', 'shop/api', '--to', '169.254.169.254', '--protocol', 'TCP', '--port', '80', '-o', 'json')) as { verdict: string; ingress: { evaluated: boolean } };
    assert.equal(j.verdict, 'deny');
    assert.equal(j.ingress.evaluated, false);
    assert.equal(JSON.parse(ok('policy', 'explain', '--from', 'shop/api', '--to', '203.0.113.9', '--port', '443', '-o', 'json')).verdict, 'allow');
  });

  test('explain to an endpoint\'s own IP evaluates that endpoint\'s ingress, as the matrix does', () => {
    // data/db is 10.65.1.20; the matrix says shop/frontend → data/db on 5432 is denied.
    const byName = JSON.parse(ok('policy', 'explain', '--from', 'shop/frontend', '--to', 'data/db', '--port', '5432', '-o', 'json')) as { verdict: string };
    const byIp = JSON.parse(ok('policy', 'explain', '--from', 'shop/frontend', '--to', '10.65.1.20', '--port', '5432', '-o', 'json')) as { verdict: string; flow: { to: string; dstIp: string }; ingress: { evaluated: boolean; endpoint: string } };
    assert.equal(byName.verdict, 'deny');
    assert.equal(byIp.verdict, 'deny');
    assert.equal(byIp.ingress.evaluated, true);
    assert.equal(byIp.ingress.endpoint, 'data/db');
    assert.equal(byIp.flow.dstIp, '10.65.1.20');
    const fromIp = JSON.parse(ok('policy', 'explain', '--from', '10.65.0.11', '--to', 'data/db', '--port', '5432', '-o', 'json')) as { verdict: string; egress: { evaluated: boolean; endpoint: string } };
    assert.equal(fromIp.egress.endpoint, 'shop/api');
    assert.equal(fromIp.verdict, 'allow');
  });

  test('preview: changed cells, deletion by annotation or --delete, and nothing written', () => {
    const before = ok('policy', 'matrix', '--port', '5432');
    assertGolden('policy/demo-preview-change.txt', ok('policy', 'preview', '-f', join(DEMO, '03-change.yaml'), '--port', '5432'));
    const del = join(dir, 'delete.yaml');
    writeFileSync(del, 'apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: db-from-api, namespace: data}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny-ingress, namespace: shop}\n---\napiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: api-from-frontend, namespace: shop}\n');
    const empty = join(dir, 'empty.yaml');
    writeFileSync(empty, '');
    const j = JSON.parse(ok('policy', 'preview', '-f', empty, '--delete', del, '--port', '5432', '-o', 'json')) as { documents: unknown[]; changes: { from: string; to: string; before: boolean; after: boolean }[] };
    assert.equal(j.documents.length, 3);
    const changed = j.changes.map((c) => `${c.from}>${c.to}:${c.after}`);
    assert.ok(changed.includes('shop/api>data/db:false'), changed.join(' '));
    // Without any ingress policy the api falls back to its namespace profile: open to all; the
    // frontend stays selected by frontend-from-anywhere (port 80 only).
    assert.ok(changed.includes('data/db>shop/api:true') && changed.includes('shop/api>shop/api:true'), changed.join(' '));
    assert.ok(!changed.some((c) => c.includes('>shop/frontend')), changed.join(' '));
    assert.equal(ok('policy', 'matrix', '--port', '5432'), before, 'preview must not write');
  });

  test('errors: unknown endpoint (1), bad usage and invalid documents (2)', () => {
    const unknown = brindle('policy', 'explain', '--from', 'shop/nope', '--to', 'data/db', '--port', '5432');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^Error: --from shop\/nope: no workload endpoint/m);
    const proto = brindle('policy', 'matrix', '--protocol', 'QUIC');
    assert.equal(proto.code, 2);
    assert.match(proto.stderr, /--protocol: unknown protocol "QUIC"/);
    const port = brindle('policy', 'explain', '--from', 'shop/api', '--to', 'data/db');
    assert.equal(port.code, 2);
    assert.match(port.stderr, /--port is required for protocol TCP/);
    // ICMP is IPv4-only and ICMPv6 IPv6-only: the demo endpoints have IPv4 addresses alone, so an
    // ICMPv6 flow between them cannot be evaluated (it used to be evaluated as an IPv4 packet).
    const v6 = brindle('policy', 'explain', '--from', 'shop/frontend', '--to', 'data/db', '--protocol', 'ICMPv6');
    assert.equal(v6.code, 2, v6.stdout);
    assert.match(v6.stderr, /shop\/frontend has no IPv6 address/);
    const v6ip = brindle('policy', 'explain', '--from', 'shop/frontend', '--to', '203.0.113.9', '--protocol', 'icmpv6');
    assert.equal(v6ip.code, 2, v6ip.stdout);
    assert.match(v6ip.stderr, /icmpv6 is IPv6 only/i);
    const icmp6 = brindle('policy', 'matrix', '--protocol', 'ICMP', '-6');
    assert.equal(icmp6.code, 2);
    assert.match(icmp6.stderr, /ICMP is IPv4 only/);
    const previewIcmp6 = brindle('policy', 'preview', '-f', join(DEMO, '02-policies.yaml'), '--protocol', 'ICMP', '--ipv6');
    assert.equal(previewIcmp6.code, 2);
    assert.match(previewIcmp6.stderr, /ICMP is IPv4 only/);
    // A policy in a tier that does not exist: apply refuses it, so preview must not show it as applicable.
    const tierless = join(dir, 'tierless.yaml');
    const pol = 'apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: guard.block, namespace: data}\nspec: {tier: guard, selector: all(), types: [Ingress]}\n';
    writeFileSync(tierless, pol);
    const noTier = brindle('policy', 'preview', '-f', tierless, '--port', '5432');
    assert.equal(noTier.code, 2, noTier.stdout);
    assert.match(noTier.stderr, /^Error: tierless\.yaml\[0\] NetworkPolicy data\/guard.block: spec.tier: tier "guard" does not exist; create the Tier first$/m);
    const withTier = join(dir, 'with-tier.yaml');
    writeFileSync(withTier, `apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: guard}\nspec: {order: 50}\n---\n${pol}`);
    const preview = ok('policy', 'preview', '-f', withTier, '--port', '5432');
    assert.match(preview, /would apply  NetworkPolicy data\/guard.block/);
    assert.match(preview, /shop\/api → data\/db +allowed → denied/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: broken, namespace: data}\nspec: {selector: "app ==", ingress: [{action: Maybe}]}\n');
    const invalid = brindle('policy', 'preview', '-f', bad);
    assert.equal(invalid.code, 2, invalid.stderr);
    assert.match(invalid.stderr, /^Error: bad\.yaml\[0\] NetworkPolicy data\/broken: /m);
  });

  test('preview reads every -f, directories and -R exactly as apply does, and runs the same checks', () => {
    const pol = 'apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: guard.block, namespace: data}\nspec: {tier: guard, selector: all(), types: [Ingress]}\n';
    const tier = 'apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: guard}\nspec: {order: 50}\n';
    const tierFile = join(dir, 'p-tier.yaml');
    const polFile = join(dir, 'p-pol.yaml');
    writeFileSync(tierFile, tier);
    writeFileSync(polFile, pol);
    // several -f: every file is previewed (the tier of the first makes the policy of the second valid)
    const both = ok('policy', 'preview', '-f', tierFile, '-f', polFile, '--port', '5432');
    assert.match(both, /would apply  Tier guard\n/);
    assert.match(both, /would apply  NetworkPolicy data\/guard.block\n/);
    assert.match(both, /shop\/api → data\/db +allowed → denied/);
    // a directory, recursively with -R only
    const tree = join(dir, 'p-tree');
    mkdirSync(join(tree, 'sub'), { recursive: true });
    writeFileSync(join(tree, 'a-tier.yaml'), tier);
    writeFileSync(join(tree, 'sub', 'b-pol.yaml'), pol);
    assert.match(ok('policy', 'preview', '-f', tree, '-R', '--port', '5432'), /would apply  NetworkPolicy data\/guard.block/);
    assert.doesNotMatch(ok('policy', 'preview', '-f', tree, '--port', '5432'), /guard.block/);
    // the same YAML reader: List kinds and merge keys are read, duplicate keys refused with file[index]
    const list = join(dir, 'p-list.yaml');
    writeFileSync(list, `base: &base {selector: all(), types: [Ingress]}\n---\napiVersion: v1\nkind: List\nitems:\n- ${JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 'guard' }, spec: { order: 50 } })}\n`);
    const listed = brindle('policy', 'preview', '-f', list, '--port', '5432');
    assert.equal(listed.code, 2, 'a document that is not a resource is refused');
    assert.match(listed.stderr, /^Error: p-list\.yaml\[0\] /m);
    const merged = join(dir, 'p-merge.yaml');
    const tierJson = JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 'guard' }, spec: { order: 50 } });
    writeFileSync(merged, `apiVersion: v1\nkind: List\nitems:\n- ${tierJson}\n---\napiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: guard.block, namespace: data}\nspec:\n  <<: {tier: guard, selector: all()}\n  types: [Ingress]\n`);
    const m = ok('policy', 'preview', '-f', merged, '--port', '5432');
    assert.match(m, /would apply  Tier guard\n/);
    assert.match(m, /shop\/api → data\/db +allowed → denied/);
    const dup = join(dir, 'p-dup.yaml');
    writeFileSync(dup, 'apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: a}\nmetadata: {name: b}\n');
    const d = brindle('policy', 'preview', '-f', dup);
    assert.equal(d.code, 2);
    assert.match(d.stderr, /^Error: p-dup\.yaml\[0\]: malformed YAML at line 4: Map keys must be unique/m);
    // built-in resources: their spec is fixed and they cannot be deleted, as apply and delete say
    const builtin = join(dir, 'p-builtin.yaml');
    writeFileSync(builtin, 'apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: projectcalico-default-allow}\nspec: {ingress: [{action: Deny}]}\n');
    const b = brindle('policy', 'preview', '-f', builtin);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /^Error: p-builtin\.yaml\[0\] Profile projectcalico-default-allow: spec: the spec of a built-in resource cannot be changed$/m);
    const delBuiltin = join(dir, 'p-del-builtin.yaml');
    writeFileSync(delBuiltin, 'apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: default}\n');
    const e = join(dir, 'p-empty.yaml');
    writeFileSync(e, '');
    const db = brindle('policy', 'preview', '-f', e, '--delete', delBuiltin);
    assert.equal(db.code, 2);
    assert.match(db.stderr, /^Error: p-del-builtin\.yaml\[0\] Tier default: built-in resources cannot be deleted$/m);
    // pools: an overlapping pool is refused, naming both
    const pools = join(dir, 'p-pools.yaml');
    writeFileSync(pools, 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: a}\nspec: {cidr: 10.80.0.0/16}\n---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: b}\nspec: {cidr: 10.80.1.0/24}\n');
    const p = brindle('policy', 'preview', '-f', pools);
    assert.equal(p.code, 2);
    assert.match(p.stderr, /^Error: p-pools\.yaml\[0\] IPPool a: spec\.cidr: IP pool 10\.80\.0\.0\/16 overlaps IP pool "b" \(10\.80\.1\.0\/24\)$/m);
  });
});
