/**
 * The agent's long-lived `nft -i` session against the real nft in a namespace of the test's own:
 * a transaction is in the kernel when run() resolves, a failing one changes nothing and rejects
 * with nft's error (classified as not-found), a killed session is replaced, and the client sends
 * small scripts through the session and large ones through `nft -f`.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ProcessExec } from '../../src/base/exec.js';
import { ExecNftClient, isNotFound, SESSION_MAX_SCRIPT } from '../../src/dataplane/nftables/client.js';
import { NftSession } from '../../src/dataplane/nftables/nft-session.js';
import { NftTransaction } from '../../src/dataplane/nftables/transaction.js';
import { canRunNetns, sh } from './topology.js';

const skip = canRunNetns();
const ns = `brl-ns${process.pid.toString(36).slice(-5)}`;
const T = 'inet brindle';

const chainText = (chain: string) => sh(['ip', 'netns', 'exec', ns, 'nft', 'list', 'chain', 'inet', 'brindle', chain]);

before(() => {
  if (skip) return;
  sh(['ip', 'netns', 'add', ns]);
  sh(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], `add table ${T}\nadd chain ${T} c1\nadd chain ${T} c2\n`);
});

after(() => {
  if (skip) return;
  try {
    sh(['ip', 'netns', 'del', ns]);
  } catch {
    // already gone
  }
});

test('nft session: each transaction is in the kernel when run() resolves', { skip, timeout: 60_000 }, async () => {
  const s = new NftSession({ netns: ns });
  try {
    for (let i = 0; i < 25; i++) {
      await s.run(`flush chain ${T} c1\nadd rule ${T} c1 meta l4proto tcp th dport ${1000 + i} counter return comment "r${i}"\n`);
      const text = chainText('c1');
      assert.match(text, new RegExp(`dport ${1000 + i} `), `transaction ${i} not visible after run() resolved`);
      assert.doesNotMatch(text, new RegExp(`dport ${1000 + i - 1} `));
    }
    assert.equal(s.starts, 1, 'one process for every transaction');
  } finally {
    s.dispose();
  }
});

test('nft session: a failing transaction changes nothing and rejects with nft\'s error', { skip, timeout: 60_000 }, async () => {
  const s = new NftSession({ netns: ns });
  try {
    await s.run(`flush chain ${T} c2\nadd rule ${T} c2 counter accept comment "keep"\n`);
    await assert.rejects(
      s.run(`flush chain ${T} c2\nadd rule ${T} c2 counter drop comment "new"\nadd rule ${T} no-such-chain counter\n`),
      (e: Error) => isNotFound(e) && /Could not process rule/.test(e.message),
    );
    const text = chainText('c2');
    assert.match(text, /comment "keep"/, 'the first commands of the failed line were not applied');
    assert.doesNotMatch(text, /comment "new"/);
    // The session goes on after a failure.
    await s.run(`add rule ${T} c2 counter accept comment "after"\n`);
    assert.match(chainText('c2'), /comment "after"/);
    assert.equal(s.starts, 1);
  } finally {
    s.dispose();
  }
});

test('nft session: a killed process fails its call and the next call starts a new one', { skip, timeout: 60_000 }, async () => {
  const s = new NftSession({ netns: ns });
  try {
    await s.run(`flush chain ${T} c1\n`);
    const pids = sh(['ip', 'netns', 'pids', ns]).split('\n').filter(Boolean);
    assert.equal(pids.length, 1, 'one nft -i process in the namespace');
    process.kill(Number(pids[0]), 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    await s.run(`add rule ${T} c1 counter return comment "restarted"\n`);
    assert.match(chainText('c1'), /comment "restarted"/);
    assert.equal(s.starts, 2);
  } finally {
    s.dispose();
  }
  await assert.rejects(s.run(`flush chain ${T} c1\n`), /session closed/);
});

test('nft client: small transactions go through the session, large ones through nft -f', { skip, timeout: 120_000 }, async () => {
  const session = new NftSession({ netns: ns });
  const client = new ExecNftClient(new ProcessExec(), { netns: ns, session });
  try {
    const big = new NftTransaction().add({ op: 'flush-chain', name: 'c2' });
    let i = 0;
    while (big.toScript().length <= SESSION_MAX_SCRIPT) big.add({ op: 'add-rule', chain: 'c2', rule: { text: `meta l4proto tcp th dport ${(i % 60000) + 1} counter return`, id: `b${i++}` } });
    await client.run(big);
    assert.equal(session.starts, 1, 'the large script warmed the session up after nft -f');
    assert.equal(sh(['ip', 'netns', 'exec', ns, 'nft', 'list', 'chain', 'inet', 'brindle', 'c2']).split('\n').filter((l) => l.includes('comment "b')).length, i);
    await client.run(new NftTransaction().add({ op: 'flush-chain', name: 'c2' }).add({ op: 'add-rule', chain: 'c2', rule: { text: 'counter accept', id: 'small' } }));
    assert.equal(session.starts, 1);
    assert.equal(chainText('c2').split('\n').filter((l) => l.includes('comment')).length, 1);
    const listing = await client.list();
    assert.ok(listing?.table.chains.has('c2'));
    assert.ok(!listing?.table.chains.has('brl-warm-up'), 'the warm-up chain never stays');
  } finally {
    session.dispose();
  }
});
