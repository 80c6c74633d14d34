import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDatastore } from '../../src/datastore/open.js';
import { readManifests } from '../../src/cli/resources/manifest-reader.js';
import { startEtcdCluster, type EtcdCluster } from '../helpers/etcd-cluster.js';
import { assertGolden } from '../helpers/golden.js';
import { BRINDLE_BIN, REPO_ROOT } from '../helpers/paths.js';

/**
 * The resource commands through the real `brindle` binary, against a real SQLite file and a real
 * etcd: the documentation manifests apply cleanly, `get -o yaml` round-trips through `apply`
 * unchanged, bad input exits 2 with a one-line error naming the document and field and writes
 * nothing, stale replaces conflict.
 */

const MANIFESTS = join(REPO_ROOT, 'testdata', 'manifests');
const tmp = mkdtempSync(join(tmpdir(), 'brindle-cli-res-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(url: string, args: string[], input?: string): Run {
  const r = spawnSync(process.execPath, [BRINDLE_BIN, '--datastore', url, ...args], { input: input ?? '', encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(url: string, args: string[], input?: string): string {
  const r = cli(url, args, input);
  assert.equal(r.status, 0, `brindle ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

/** Every key under /brindle/, as `key@modRevision`, read in-process. */
async function snapshot(url: string): Promise<string[]> {
  const ds = await openDatastore(url);
  try {
    return (await ds.list('/brindle/')).items.map((kv) => `${kv.key}@${kv.modRevision}`);
  } finally {
    await ds.close();
  }
}

async function wipe(url: string): Promise<void> {
  const ds = await openDatastore(url);
  try {
    for (const kv of (await ds.list('/brindle/')).items) await ds.delete(kv.key);
  } finally {
    await ds.close();
  }
}

const MANIFEST_COUNT = readManifests([MANIFESTS], { recursive: true, readStdin: () => '' }).length;

/** Kinds read back for the round trip (with -A for namespaced ones). */
const ROUND_TRIP_KINDS = [
  ['ippools'], ['tiers'], ['gnp'], ['pol', '-A'], ['sgnp'], ['snp', '-A'], ['stagedkubernetesnetworkpolicies', '-A'], ['hep'], ['profiles'], ['netsets', '-A'], ['gnetsets'],
  ['bgpconfig'], ['bgppeers'], ['bgpfilters'], ['felixconfig'], ['ipamconfig'], ['ipreservations'], ['kcc'],
];

const BAD_INPUT: [name: string, text: string, error: RegExp][] = [
  ['malformed YAML', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: x\nspec: {}\n', /^Error: bad\.yaml\[0\]: malformed YAML at line \d+/],
  ['unknown kind', 'apiVersion: projectcalico.org/v3\nkind: Pool\nmetadata: {name: x}\n', /^Error: bad\.yaml\[0\] Pool x: kind: unknown kind "Pool"$/m],
  ['unknown field', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: x}\nspec: {cidr: 10.1.0.0/16, natOutgong: true}\n', /^Error: bad\.yaml\[0\] IPPool x: spec\.natOutgong: unknown field$/m],
  ['wrong type', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: x}\nspec: {cidr: 10.1.0.0/16, blockSize: "26"}\n', /^Error: bad\.yaml\[0\] IPPool x: spec\.blockSize: must be an integer, got "26"$/m],
  ['invalid selector', 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: x}\nspec: {selector: "app = web"}\n', /^Error: bad\.yaml\[0\] GlobalNetworkPolicy x: spec\.selector: invalid selector/m],
  ['invalid CIDR', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: x}\nspec: {cidr: 10.1.0.1/16}\n', /^Error: bad\.yaml\[0\] IPPool x: spec\.cidr: CIDR "10\.1\.0\.1\/16" has host bits set/m],
  ['overlapping pool', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: x}\nspec: {cidr: 192.168.128.0/24}\n', /^Error: bad\.yaml\[0\] IPPool x: spec\.cidr: IP pool 192\.168\.128\.0\/24 overlaps IP pool "default-ipv4-ippool"/m],
  ['missing tier', 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: x}\nspec: {tier: nope}\n', /^Error: bad\.yaml\[0\] GlobalNetworkPolicy x: spec\.tier: tier "nope" does not exist/m],
  [
    'port out of range in the second document (all-or-nothing)',
    'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: fine}\nspec: {nets: [10.9.0.0/16]}\n---\napiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: x}\nspec:\n  ingress:\n  - action: Deny\n    protocol: TCP\n    destination: {ports: [80, 70000]}\n',
    /^Error: bad\.yaml\[1\] NetworkPolicy x\/deny: spec\.ingress\[0\]\.destination\.ports\[1\]: port 70000 is out of range 1-65535$/m,
  ],
  [
    "a stored pool's CIDR changed in the second document (all-or-nothing)",
    'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: fine}\nspec: {nets: [10.9.0.0/16]}\n---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: rack-a-vxlan}\nspec: {cidr: 10.245.0.0/16, vxlanMode: CrossSubnet}\n',
    /^Error: bad\.yaml\[1\] IPPool rack-a-vxlan: spec\.cidr: cidr cannot be changed \(was 10\.244\.0\.0\/16\); create a new pool instead$/m,
  ],
  [
    "the built-in default-allow profile's spec changed in the second document (all-or-nothing)",
    'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: fine}\nspec: {nets: [10.9.0.0/16]}\n---\napiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: projectcalico-default-allow}\nspec: {ingress: [{action: Deny}]}\n',
    /^Error: bad\.yaml\[1\] Profile projectcalico-default-allow: spec: the spec of a built-in resource cannot be changed$/m,
  ],
];

function suite(backend: string, url: () => string, reset: () => Promise<void>, full: boolean): void {
  describe(`brindle resource commands (${backend})`, () => {
    test('apply -f testdata/manifests -R applies every documentation manifest', async () => {
      await reset();
      assert.ok(MANIFEST_COUNT >= 40, `only ${MANIFEST_COUNT} manifest documents`);
      assert.equal(ok(url(), ['apply', '-f', MANIFESTS, '-R']), `Successfully applied ${MANIFEST_COUNT} resources\n`);
      // Kubernetes objects were converted: knp.default.* policies and kns.* profiles.
      const pols = ok(url(), ['get', 'networkpolicy', '-A']);
      assert.match(pols, /^default\s+knp\.default\.test-network-policy\s+default$/m);
      assert.match(ok(url(), ['get', 'profiles']), /^kns\.shop$/m);
      // Applying the same manifests again changes nothing.
      const before = await snapshot(url());
      assert.equal(ok(url(), ['apply', '-f', MANIFESTS, '-R']), `Successfully applied ${MANIFEST_COUNT} resources\n`);
      assert.deepEqual(await snapshot(url()), before);
    });

    test('get -o yaml → apply → get -o yaml is identical for every kind', async () => {
      const kinds = full ? ROUND_TRIP_KINDS : ROUND_TRIP_KINDS.slice(0, 5);
      const first = kinds.map((kind) => ok(url(), ['get', ...kind, '-o', 'yaml']));
      for (const text of first) assert.match(text, /^kind: List$/m);
      const before = await snapshot(url());
      // All the lists as one multi-document stream, applied in one go.
      assert.match(ok(url(), ['apply', '-f', '-'], first.join('---\n')), /^Successfully applied \d+ resources?$/m);
      kinds.forEach((kind, i) => assert.equal(ok(url(), ['get', ...kind, '-o', 'yaml']), first[i], `round trip of ${kind.join(' ')} changed the output`));
      assert.deepEqual(await snapshot(url()), before, 'an unchanged apply writes nothing');
      const one = ok(url(), ['get', 'ippool', 'default-ipv4-ippool', '-o', 'json']);
      assert.equal(JSON.parse(one).kind, 'IPPool');
      assert.equal(ok(url(), ['apply', '-f', file('one.json', one)]), 'Successfully applied 1 resource\n');
      assert.equal(ok(url(), ['get', 'ippool', 'default-ipv4-ippool', '-o', 'json']), one);
    });

    test('bad input exits 2 with a one-line error naming the document and field, and writes nothing', async () => {
      const before = await snapshot(url());
      for (const [name, text, error] of full ? BAD_INPUT : BAD_INPUT.slice(-3)) {
        const r = cli(url(), ['apply', '-f', file('bad.yaml', text)]);
        assert.equal(r.status, 2, `${name}: exit ${r.status}, stderr ${r.stderr}`);
        assert.match(r.stderr, error, name);
        assert.equal(r.stdout, '', name);
      }
      assert.deepEqual(await snapshot(url()), before, 'nothing may be written');
    });

    test('replace with a stale resourceVersion is a conflict naming the resource', async () => {
      const stale = ok(url(), ['get', 'ippool', 'rack-a-vxlan', '-o', 'yaml']);
      assert.equal(ok(url(), ['patch', 'ippool', 'rack-a-vxlan', '-p', '{"spec":{"natOutgoing":false}}']), "Successfully patched 1 'IPPool' resource\n");
      const r = cli(url(), ['replace', '-f', '-'], stale.replace('natOutgoing: true', 'natOutgoing: true\n  disabled: true'));
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^Error: -\[0\] IPPool rack-a-vxlan was modified by someone else: resourceVersion \d+ is stale \(current \d+\); get it again and retry$/m);
      const fresh = ok(url(), ['get', 'ippool', 'rack-a-vxlan', '-o', 'yaml']);
      assert.match(fresh, /natOutgoing: false/);
      assert.equal(ok(url(), ['replace', '-f', '-'], fresh.replace('natOutgoing: false', 'natOutgoing: true')), 'Successfully replaced 1 resource\n');
    });

    if (!full) return;

    test('create, --skip-exists, delete, --skip-not-exists', () => {
      const gns = file('gns.yaml', 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: extra}\nspec: {nets: [10.200.0.0/16]}\n');
      assert.equal(ok(url(), ['create', '-f', gns]), 'Successfully created 1 resource\n');
      const again = cli(url(), ['create', '-f', gns]);
      assert.equal(again.status, 1);
      assert.match(again.stderr, /^Error: gns\.yaml\[0\] GlobalNetworkSet extra already exists$/m);
      assert.equal(ok(url(), ['create', '-f', gns, '--skip-exists']), 'Successfully created 1 resource\n');
      assert.equal(ok(url(), ['delete', '-f', gns]), 'Successfully deleted 1 resource\n');
      const missing = cli(url(), ['delete', 'gnetset', 'extra']);
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /^Error: GlobalNetworkSet extra does not exist$/m);
      assert.equal(ok(url(), ['delete', 'gnetset', 'extra', '--skip-not-exists']), 'Successfully deleted 0 resources\n');
      const builtin = cli(url(), ['delete', 'tier', 'default']);
      assert.equal(builtin.status, 2);
      assert.match(builtin.stderr, /built-in resources cannot be deleted/);
      // a built-in in a delete batch is refused before anything else of the batch is deleted
      ok(url(), ['create', '-f', gns]);
      const mixed = file('mixed.yaml', `${readFileSync(gns, 'utf8')}---\napiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: default}\n`);
      const refused = cli(url(), ['delete', '-f', mixed]);
      assert.equal(refused.status, 2, refused.stderr);
      assert.match(refused.stderr, /^Error: mixed\.yaml\[1\] Tier default: built-in resources cannot be deleted$/m);
      assert.match(ok(url(), ['get', 'gnetset', 'extra']), /^extra$/m);
      ok(url(), ['delete', 'gnetset', 'extra']);
    });

    test('replace of a missing resource fails; validate writes nothing', async () => {
      const gns = file('gns2.yaml', 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: nobody}\nspec: {nets: [10.201.0.0/16]}\n');
      const r = cli(url(), ['replace', '-f', gns]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /GlobalNetworkSet nobody does not exist/);
      const before = await snapshot(url());
      assert.equal(ok(url(), ['validate', '-f', MANIFESTS, '-R']), `Successfully validated ${MANIFEST_COUNT} resources\n`);
      assert.deepEqual(await snapshot(url()), before);
    });

    test('label and patch', () => {
      assert.equal(ok(url(), ['label', 'hep', 'node1-eth0', 'zone=a']), 'Successfully set label zone on hostendpoint node1-eth0\n');
      const clash = cli(url(), ['label', 'hep', 'node1-eth0', 'zone=b']);
      assert.equal(clash.status, 2);
      assert.match(clash.stderr, /already set.*--overwrite/);
      ok(url(), ['label', 'hep', 'node1-eth0', 'zone=b', '--overwrite']);
      assert.match(ok(url(), ['get', 'hep', 'node1-eth0', '-o', 'yaml']), /zone: b/);
      assert.equal(ok(url(), ['label', 'hep', 'node1-eth0', 'zone', '--remove']), 'Successfully removed label zone from hostendpoint node1-eth0\n');
      assert.doesNotMatch(ok(url(), ['get', 'hep', 'node1-eth0', '-o', 'yaml']), /zone:/);
      ok(url(), ['label', 'pol', 'allow-tcp-6379', '-n', 'production', 'owner=db-team']);
      assert.match(ok(url(), ['get', 'pol', 'allow-tcp-6379', '-n', 'production', '-o', 'yaml']), /owner: db-team/);
      const badPatch = cli(url(), ['patch', 'ippool', 'rack-a-vxlan', '-p', '{"spec":{"blockSize":"x"}}']);
      assert.equal(badPatch.status, 2);
      assert.match(badPatch.stderr, /spec\.blockSize: must be an integer/);
      const before = ok(url(), ['get', 'ippool', 'rack-a-vxlan', '-o', 'yaml']);
      for (const [p, error] of [
        ['null', /^Error: --patch must be a JSON object/m],
        ['[]', /^Error: --patch must be a JSON object/m],
        ['{"kind":"IPReservation"}', /^Error: kind cannot be changed by patch \(IPPool rack-a-vxlan\)/m],
        ['{"metadata":{"name":"other"}}', /^Error: metadata\.name cannot be changed by patch/m],
      ] as const) {
        const r = cli(url(), ['patch', 'ippool', 'rack-a-vxlan', '-p', p]);
        assert.equal(r.status, 2, `patch ${p}: ${r.stderr}`);
        assert.match(r.stderr, error, p);
      }
      assert.equal(ok(url(), ['get', 'ippool', 'rack-a-vxlan', '-o', 'yaml']), before);
      const notFound = cli(url(), ['get', 'ippool', 'nope']);
      assert.equal(notFound.status, 1);
      assert.match(notFound.stderr, /^Error: IPPool nope does not exist$/m);
      const badKind = cli(url(), ['get', 'pools2']);
      assert.equal(badKind.status, 2);
      assert.match(badKind.stderr, /unknown resource kind "pools2"/);
    });

    test("calicoctl's plural and short names resolve (policies, pols, bps, ipamconfigs, kubecontrollersconfigs)", () => {
      for (const [name, header] of [['policies', /^NAME\s+TIER$/m], ['pols', /^NAME\s+TIER$/m], ['bps', /^NAME\s+PEERIP/m], ['ipamconfigs', /^NAME\s+STRICTAFFINITY/m], ['kubecontrollersconfigs', /^NAME$/m]] as const) {
        const r = cli(url(), ['get', name, '-n', 'production']);
        assert.equal(r.status, 0, `get ${name}: ${r.stderr}`);
        assert.match(r.stdout, header, name);
      }
    });

    test('unquoted numbers and booleans in string fields are read as strings, as calicoctl reads them', () => {
      const hep = file('numeric.yaml', 'apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata:\n  name: numeric-labels\n  labels: {version: 1, canary: true}\nspec: {node: node9, interfaceName: eth0}\n');
      assert.equal(ok(url(), ['apply', '-f', hep]), 'Successfully applied 1 resource\n');
      assert.match(ok(url(), ['get', 'hep', 'numeric-labels', '-o', 'yaml']), /labels:\n\s+version: "1"\n\s+canary: "true"\n/);
      assert.match(ok(url(), ['get', 'wep', '-o', 'yaml']), /containerID: "1\.3374955569420314e\+24"/);
      ok(url(), ['delete', 'hep', 'numeric-labels']);
    });

    test('a Kubernetes NetworkPolicy or Namespace asked for by its own name points at its stored name', () => {
      for (const args of [['get', 'networkpolicy', 'test-network-policy'], ['delete', 'pol', 'test-network-policy'], ['label', 'np', 'test-network-policy', 'a=b']]) {
        const r = cli(url(), args);
        assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /; the Kubernetes NetworkPolicy "test-network-policy" is stored as NetworkPolicy "knp\.default\.test-network-policy": use that name$/m, args.join(' '));
      }
      assert.match(cli(url(), ['get', 'profile', 'shop']).stderr, /the Kubernetes Namespace "shop" is stored as Profile "kns\.shop"/);
      assert.match(cli(url(), ['get', 'np', 'no-such-policy']).stderr, /^Error: NetworkPolicy default\/no-such-policy does not exist$/m);
    });

    test("get nodes -o wide shows the cluster's AS number, in parentheses, for a node without its own", () => {
      const n = file('node.yaml', 'apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: no-asn}\nspec: {bgp: {ipv4Address: 10.0.0.9/24}}\n');
      ok(url(), ['apply', '-f', n]);
      const wide = ok(url(), ['get', 'nodes', '-o', 'wide']);
      assert.match(wide, /^no-asn\s+\(63400\)\s+10\.0\.0\.9\/24$/m, 'BGPConfiguration default of 05-bgp.yaml has asNumber 63400');
      assert.match(wide, /^node-hostname\s+64512\s/m);
      ok(url(), ['delete', '-f', n]);
    });

    test('a policy written before its tier in the same file applies (tiers are written first)', () => {
      const f = file('order.yaml', 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: late.first}\nspec: {tier: late, selector: all()}\n---\napiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: late}\nspec: {order: 5}\n');
      assert.equal(ok(url(), ['apply', '-f', f]), 'Successfully applied 2 resources\n');
      assert.match(ok(url(), ['get', 'gnp', '-o', 'wide']), /^late\.first\s+late\s/m);
      assert.equal(ok(url(), ['delete', '-f', f]), 'Successfully deleted 2 resources\n');
    });

    test('apply refuses a document that policy preview counts as deleted, and writes nothing', async () => {
      const change = file('change.yaml', [
        'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: new-set}\nspec: {nets: [10.202.0.0/16]}\n',
        'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: threatfeed-feodo\n  annotations: {brindle.io/preview: delete}\nspec: {nets: [198.51.100.0/28]}\n',
      ].join('---\n'));
      const before = await snapshot(url());
      const r = cli(url(), ['apply', '-f', change]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^Error: change\.yaml\[1\] GlobalNetworkSet threatfeed-feodo: metadata\.annotations\["brindle\.io\/preview"\]: marked "delete" for policy preview, which apply does not carry out: run "brindle delete globalnetworkset threatfeed-feodo", or remove the annotation$/m);
      assert.deepEqual(await snapshot(url()), before);
      assert.equal(ok(url(), ['validate', '-f', change]), 'Successfully validated 2 resources\n');
    });

    test('table output (ps and wide) per kind', () => {
      assertGolden('api/cli-get-ippools.txt', ok(url(), ['get', 'ippools']));
      assertGolden('api/cli-get-ippools-wide.txt', ok(url(), ['get', 'ippools', '-o', 'wide']));
      assertGolden('api/cli-get-gnp-wide.txt', ok(url(), ['get', 'gnp', '-o', 'wide']));
      assertGolden('api/cli-get-pol-all-namespaces.txt', ok(url(), ['get', 'pol', '-A']));
      assertGolden('api/cli-get-tiers-wide.txt', ok(url(), ['get', 'tiers', '-o', 'wide']));
      assertGolden('api/cli-get-bgppeers.txt', ok(url(), ['get', 'bgpp']));
      assertGolden('api/cli-get-hep-wide.txt', ok(url(), ['get', 'hostendpoints', '-o', 'wide']));
    });

    test('delete -f of tiers still in use deletes nothing; delete -f of everything applied deletes it all', async () => {
      const before = await snapshot(url());
      const inUse = cli(url(), ['delete', '-f', join(MANIFESTS, '02-tiers.yaml')]);
      assert.equal(inUse.status, 2, inUse.stderr);
      assert.match(inUse.stderr, /^Error: 02-tiers\.yaml\[0\] Tier security: tier is still used by GlobalNetworkPolicy security\.block-threats/m);
      assert.deepEqual(await snapshot(url()), before);
      // the tiers come before their policies in the manifests: they are deleted after them
      assert.equal(ok(url(), ['delete', '-f', MANIFESTS, '-R', '--skip-not-exists']), `Successfully deleted ${MANIFEST_COUNT} resources\n`);
      assert.equal(ok(url(), ['get', 'gnp']), 'NAME\n');
      assert.doesNotMatch(ok(url(), ['get', 'tiers']), /security|platform/);
    });
  });
}

const sqliteUrl = `sqlite:${join(tmp, 'cli.db')}`;
suite('sqlite', () => sqliteUrl, () => wipe(sqliteUrl), true);

let etcd: EtcdCluster | undefined;
before(async () => {
  etcd = await startEtcdCluster({ size: 1 });
});
after(async () => {
  await etcd?.stop();
});
suite('etcd', () => etcd!.url, () => wipe(etcd!.url), false);
