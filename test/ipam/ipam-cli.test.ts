import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openDatastore } from '../../src/datastore/open.js';
import { IPAM_ROOT } from '../../src/api/keys.js';
import { ResourceReader } from '../../src/ipam/resource-reader.js';
import { BRINDLE_BIN } from '../helpers/paths.js';
import { addNode, addPool } from './fixtures.js';

/** `brindle ipam …` through the real binary on a real SQLite file. */
describe('brindle ipam CLI', () => {
  let dir: string;
  let url: string;

  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BRINDLE_BIN, '--datastore', url, 'ipam', ...args], { encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const ipamState = async () => {
    const ds = await openDatastore(url);
    try {
      return JSON.stringify((await ds.list(IPAM_ROOT)).items.map((kv) => [kv.key, kv.value]));
    } finally {
      await ds.close();
    }
  };
  /** A refusal: exit code, exactly one `Error:` line, nothing on stdout, no IPAM change. */
  const refuses = async (code: number, pattern: RegExp, ...args: string[]) => {
    const beforeState = await ipamState();
    const r = run(...args);
    assert.equal(r.code, code, `exit code of ${args.join(' ')}: ${r.err}`);
    assert.equal(r.out, '');
    const lines = r.err.trimEnd().split('\n');
    assert.equal(lines.length, 1, `one line expected, got: ${r.err}`);
    assert.match(lines[0]!, /^Error: /);
    assert.match(lines[0]!, pattern);
    assert.equal(await ipamState(), beforeState, 'a refused command changed IPAM state');
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'brindle-ipam-cli-'));
    url = `sqlite:${join(dir, 'brindle.db')}`;
    const ds = await openDatastore(url);
    try {
      await addPool(ds, 'main', '10.120.0.0/24');
      await addPool(ds, 'main6', 'fd12::/120');
      await addPool(ds, 'tiny', '10.121.0.0/30', { blockSize: 30 });
      await addPool(ds, 'rack-a', '10.122.0.0/24', { nodeSelector: 'rack == "a"' });
      await addNode(ds, 'cli-n1', { rack: 'b' });
    } finally {
      await ds.close();
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('assigns, shows, checks and releases', () => {
    const a = run('assign', '--node', 'cli-n1', '--handle', 'cli-h1', '--count', '2', '--pool', 'main');
    assert.equal(a.code, 0, a.err);
    const ips = a.out.trim().split('\n');
    assert.equal(ips.length, 2);
    for (const ip of ips) assert.match(ip, /^10\.120\.0\.\d+$/);

    const d = run('assign', '--node', 'cli-n1', '--handle', 'cli-h2', '--dual', '--pool', 'main', '--pool', 'main6', '--attr', 'type=test', '-o', 'json');
    assert.equal(d.code, 0, d.err);
    const j = JSON.parse(d.out) as { ipv4: { ip: string; cidr: string }[]; ipv6: { ip: string }[] };
    assert.equal(j.ipv4.length, 1);
    assert.match(j.ipv4[0]!.cidr, /\/26$/);
    assert.match(j.ipv6[0]!.ip, /^fd12::/);

    const s = run('assign', '--node', 'cli-n1', '--handle', 'cli-h3', '--ip', '10.120.0.250');
    assert.equal(s.out, '10.120.0.250\n');

    const show = run('show', '--show-blocks');
    assert.equal(show.code, 0, show.err);
    assert.match(show.out, /^IP Pool\s+main\s+10\.120\.0\.0\/24\s+256\s+4 \(1%\)\s+252 \(98%\)$/m);
    assert.match(show.out, /^Block\s+cli-n1\s+10\.120\.0\.192\/26\s+64\s+1 \(1%\)/m);
    assert.match(run('show', '--ip', '10.120.0.250').out, /IP 10\.120\.0\.250 is in use .*\n  handle: cli-h3\n  node: cli-n1/);
    assert.equal(run('show', '--ip', '10.120.0.251').out, 'IP 10.120.0.251 is not assigned\n');
    assert.match(run('show', '--show-configuration').out, /StrictAffinity\s+false/);

    const check = run('check', '-o', join(dir, 'report.json'));
    assert.equal(check.code, 0, check.err);
    assert.match(check.out, /No problems found\./);
    assert.equal(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).kind, 'BrindleIpamCheckReport');
    assert.match(run('release', '--from-report', join(dir, 'report.json')).out, /^Released 0 leaked addresses/);

    const rel = run('release', '--handle', 'cli-h1');
    assert.equal(rel.code, 0, rel.err);
    assert.equal(rel.out, `Released 2 addresses of handle cli-h1: ${ips.join(' ')}\n`);
    assert.equal(run('release', '--ip', '10.120.0.250').out, 'Released 10.120.0.250\n');
    assert.equal(run('release', '--ip', '10.120.0.250').out, '10.120.0.250 was not assigned; nothing to release\n');
  });

  it('refuses with exit 1 and one line, changing nothing', async () => {
    assert.equal(run('assign', '--node', 'cli-n1', '--handle', 'tiny-1', '--count', '4', '--pool', 'tiny').code, 0);
    await refuses(1, /cannot assign 1 IPv4 address to node "cli-n1": pool tiny \(10\.121\.0\.0\/30\) are exhausted/, 'assign', '--node', 'cli-n1', '--handle', 'tiny-2', '--pool', 'tiny');
    await refuses(1, /no enabled IPv4 pool allows Workload addresses on node "cli-n1" among rack-a/, 'assign', '--node', 'cli-n1', '--handle', 'r1', '--pool', 'rack-a');
    await refuses(1, /IPAM handle "nope" does not exist/, 'release', '--handle', 'nope');
    await refuses(1, /cannot assign 192\.0\.2\.1: it is not in any enabled IP pool/, 'assign', '--node', 'cli-n1', '--handle', 'x1', '--ip', '192.0.2.1');
    await refuses(1, /cannot release 192\.0\.2\.1: it is not in any IP pool or allocation block/, 'release', '--ip', '192.0.2.1');
    await refuses(1, /cannot assign 10\.121\.0\.1: it is already assigned \(handle tiny-1\)/, 'assign', '--node', 'cli-n1', '--handle', 'x2', '--ip', '10.121.0.1');
    await refuses(1, /no IP pool named "ghost"/, 'split', '2', '--name', 'ghost');
  });

  it('rejects bad flags with exit 2', async () => {
    await refuses(2, /--count must be an integer/, 'assign', '--node', 'n', '--handle', 'h', '--count', 'x');
    await refuses(2, /give exactly one of --handle, --ip, --from-report/, 'release');
    await refuses(2, /--strict-affinity must be true or false/, 'configure', '--strict-affinity', 'maybe');
    await refuses(2, /invalid IP address "10\.1"/, 'assign', '--node', 'cli-n1', '--handle', 'h', '--ip', '10.1');
    await refuses(2, /power of 2/, 'split', '3', '--name', 'main');
  });

  it('configures and splits pools', () => {
    const c = run('configure', '--strict-affinity', 'true', '--max-blocks-per-host', '7');
    assert.equal(c.code, 0, c.err);
    assert.match(c.out, /StrictAffinity\s+true\n/);
    assert.match(c.out, /MaxBlocksPerHost\s+7\n/);
    // as Calico's validator: a block limit without strict affinity is accepted
    const loose = run('configure', '--strict-affinity', 'false');
    assert.equal(loose.code, 0, loose.err);
    assert.match(loose.out, /MaxBlocksPerHost\s+7\n/);
    assert.equal(run('configure', '--strict-affinity', 'false', '--max-blocks-per-host', '0').code, 0);
    const s = run('split', '2', '--cidr', 'fd12::/120');
    assert.equal(s.code, 0, s.err);
    assert.equal(s.out, 'IP pool main6 was split into 2 pools.\nCreated split-main6-0 with CIDR fd12::/121\nCreated split-main6-1 with CIDR fd12::80/121\n');
    const show = run('show').out;
    assert.match(show, /split-main6-0\s+fd12::\/121/);
    assert.doesNotMatch(show, /IP Pool\s+main6\s/);
  });

  it('finishes a split that was interrupted after creating some parts, and refuses a clashing part', async () => {
    const ds = await openDatastore(url);
    try {
      // As left by a split killed after disabling the pool and creating its first part.
      await addPool(ds, 'half', '10.123.0.0/24', { disabled: true });
      await new ResourceReader(ds).createReplacementPool({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'split-half-0' }, spec: { cidr: '10.123.0.0/25' } });
      await addPool(ds, 'clash', '10.124.0.0/24');
    } finally {
      await ds.close();
    }
    const s = run('split', '2', '--name', 'half');
    assert.equal(s.code, 0, s.err);
    assert.equal(s.out, 'IP pool half was split into 2 pools.\nKept split-half-0 with CIDR 10.123.0.0/25 (created by an earlier, interrupted split)\nCreated split-half-1 with CIDR 10.123.0.128/25\n');
    const show = run('show').out;
    assert.match(show, /split-half-1\s+10\.123\.0\.128\/25/);
    assert.doesNotMatch(show, /IP Pool\s+half\s/);
    // a pool of the part's name covering something else is not taken over
    const ds2 = await openDatastore(url);
    try {
      await addPool(ds2, 'split-clash-1', '10.125.0.0/25');
    } finally {
      await ds2.close();
    }
    const bad = run('split', '2', '--name', 'clash');
    assert.equal(bad.code, 1);
    assert.equal(bad.err, 'Error: cannot split clash: IP pool split-clash-1 already exists with CIDR 10.125.0.0/25, not 10.124.0.128/25; delete or rename it first (clash is left disabled)\n');
  });
  it('deleting a pool makes its nodes give up its blocks: empty ones are removed, used ones lose their owner', async () => {
    const ds0 = await openDatastore(url);
    try {
      await addPool(ds0, 'gone', '10.126.0.0/24');
    } finally {
      await ds0.close();
    }
    assert.equal(run('assign', '--node', 'cli-n1', '--handle', 'gone-a', '--ip', '10.126.0.5').code, 0);
    assert.equal(run('assign', '--node', 'cli-n1', '--handle', 'gone-b', '--ip', '10.126.0.70').code, 0);
    assert.equal(run('release', '--handle', 'gone-a').code, 0); // block 10.126.0.0/26 is now empty
    const del = spawnSync(process.execPath, [BRINDLE_BIN, '--datastore', url, 'delete', 'ippool', 'gone'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(del.status, 0, del.stderr);
    const ds = await openDatastore(url);
    try {
      const keys = (await ds.list(IPAM_ROOT)).items.filter((kv) => kv.key.includes('10-126-0-'));
      const affinities = keys.filter((kv) => kv.key.includes('/host/'));
      const blocks = keys.filter((kv) => !kv.key.includes('/host/'));
      assert.deepEqual(affinities.map((kv) => kv.key), [], 'no node keeps a block of the deleted pool');
      assert.deepEqual(blocks.map((kv) => kv.key.split('/').pop()), ['10-126-0-64-26'], 'the empty block is deleted, the used one stays');
      assert.equal((JSON.parse(blocks[0]!.value) as { affinity?: unknown }).affinity ?? null, null, 'the used block has no owner');
    } finally {
      await ds.close();
    }
    assert.match(run('show', '--ip', '10.126.0.70').out, /handle: gone-b/, 'its address is still held');
    // ipam show lists the block left by the deleted pool as orphaned: it still constrains a new pool there
    const show = run('show');
    assert.equal(show.code, 0, show.err);
    assert.match(show.out, /^Orphaned block\s+<no node>\s+10\.126\.0\.64\/26\s+64\s+1 \(1%\)\s+63 \(98%\)$/m);
    assert.match(show.out, /1 orphaned block belongs to no IP pool \(its pool was deleted\)/);
    assert.match(run('show', '--show-blocks').out, /^Orphaned block\s+<no node>\s+10\.126\.0\.64\/26/m);
  });

  it('refuses to assign to a node that does not exist, saying how to create it', async () => {
    await refuses(1, /^Error: node "ghost-node" does not exist: create it first, e\.g\. echo '\{"apiVersion":"projectcalico\.org\/v3","kind":"Node","metadata":\{"name":"ghost-node"\}\}' \| brindle apply -f -$/, 'assign', '--node', 'ghost-node', '--handle', 'g1', '--pool', 'main');
    await refuses(1, /node "ghost-node" does not exist/, 'assign', '--node', 'ghost-node', '--handle', 'g2', '--ip', '10.120.0.200');
    assert.doesNotMatch(run('check').out, /leaked/i);
  });
});
