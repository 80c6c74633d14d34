import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BRINDLE_BIN } from '../helpers/paths.js';

/**
 * The CLI speaks one way: every error line starts `Error: ` (commander's too), a missing resource
 * is always `Kind [ns/]name does not exist`, selector errors give the position the same way in
 * `selector` and `apply`, `get` of an unknown kind lists the kinds, `-o name` prints
 * `kind.group/name` as kubectl does, `-6` means `--ipv6` everywhere, and counts are grammatical.
 */

const tmp = mkdtempSync(join(tmpdir(), 'brindle-consistency-'));
const url = `sqlite:${join(tmp, 'b.db')}`;
after(() => rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BRINDLE_BIN, '--datastore', url, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

describe('CLI consistency', () => {
  before(() => {
    const r = cli('apply', '-f', file('base.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p4}\nspec: {cidr: 10.77.0.0/30, blockSize: 30}\n---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p6}\nspec: {cidr: "fd77::/120"}\n---\napiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: n1}\n'));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'Successfully applied 3 resources\n');
  });

  test('usage errors from the option parser carry the same "Error: " prefix', { timeout: 30_000 }, () => {
    const r = cli('get', 'ippools', '--bogus');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^Error: unknown option '--bogus'\n/);
    const m = cli('get');
    assert.equal(m.status, 2);
    assert.match(m.stderr, /^Error: missing required argument 'kind'\n/);
  });

  test('one not-found shape: Kind [ns/]name does not exist', { timeout: 60_000 }, () => {
    for (const [args, msg] of [
      [['get', 'ippool', 'nope'], 'IPPool nope does not exist'],
      [['delete', 'ippool', 'nope'], 'IPPool nope does not exist'],
      [['patch', 'ippool', 'nope', '-p', '{}'], 'IPPool nope does not exist'],
      [['label', 'ippool', 'nope', 'a=b'], 'IPPool nope does not exist'],
      [['get', 'networkpolicy', 'x', '-n', 'y'], 'NetworkPolicy y/x does not exist'],
      [['ipam', 'split', '2', '--name', 'nope'], 'IPPool nope does not exist'],
      [['ipam', 'release', '--handle', 'nope'], 'IPAM handle nope does not exist'],
    ] as const) {
      const r = cli(...args);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, `Error: ${msg}\n`, args.join(' '));
    }
  });

  test('a selector error gives the position in the same words in selector and apply', { timeout: 30_000 }, () => {
    const sel = cli('selector', 'eval', 'app == "web" && %');
    assert.equal(sel.status, 2);
    assert.match(sel.stderr, /^Error: selector: position 16: expected identifier \(label name\): unexpected character "%"\n/);
    const ap = cli('apply', '-f', file('sel.yaml', 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: s}\nspec: {selector: \'app == "web" && %\'}\n'));
    assert.equal(ap.status, 2);
    assert.equal(ap.stderr, 'Error: sel.yaml[0] GlobalNetworkPolicy s: spec.selector: invalid selector "app == \\"web\\" && %": position 16: expected identifier (label name): unexpected character "%"\n');
  });

  test('get of an unknown kind lists the kinds', { timeout: 30_000 }, () => {
    const r = cli('get', 'ipool');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^Error: unknown resource kind "ipool"; the kinds are: BGPConfiguration, BGPFilter, BGPPeer, CalicoNodeStatus, .*IPPool, .*WorkloadEndpoint \(plural and short names such as ippools, gnp, wep also work\)\n$/);
  });

  test('-o name prints kind.group/name as kubectl does', { timeout: 30_000 }, () => {
    const r = cli('get', 'ippools', '-o', 'name');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ippool.projectcalico.org/p4\nippool.projectcalico.org/p6\n');
    const t = cli('get', 'tier', 'default', '-o', 'name');
    assert.equal(t.stdout, 'tier.projectcalico.org/default\n');
  });

  test('-6 is --ipv6 in ipam assign as in policy; counts are grammatical', { timeout: 60_000 }, () => {
    const six = cli('ipam', 'assign', '--node', 'n1', '--handle', 'h6', '-6');
    assert.equal(six.status, 0, six.stderr);
    assert.match(six.stdout, /^fd77::[0-9a-f]+\n$/);
    const four = cli('ipam', 'assign', '--node', 'n1', '--handle', 'h4', '-4', '--count', '4', '--pool', 'p4');
    assert.equal(four.status, 0, four.stderr);
    const full = cli('ipam', 'assign', '--node', 'n1', '--handle', 'h5', '--pool', 'p4');
    assert.equal(full.status, 1);
    assert.equal(full.stderr, 'Error: cannot assign 1 IPv4 address to node "n1": pool p4 (10.77.0.0/30) is exhausted\n');
    const del = cli('delete', 'ippool', 'nope', '--skip-not-exists');
    assert.equal(del.stdout, 'Successfully deleted 0 resources\n');
  });
});
