import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { after, test } from 'node:test';
import { startEtcdCluster, type EtcdCluster } from '../helpers/etcd-cluster.js';

/** The test helper itself: a real cluster starts, elects a leader, survives a leader kill, and cleans up. */

let cluster: EtcdCluster | null = null;
after(async () => {
  await cluster?.stop();
});

test('etcd cluster helper: start, leader, kill, restart, stop', async () => {
  cluster = await startEtcdCluster();
  assert.equal(cluster.members.length, 3);
  assert.match(cluster.url, /^etcd:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
  const leader = await cluster.leader();
  const oldPid = leader.pid;
  await cluster.kill(leader);
  assert.throws(() => process.kill(oldPid, 0), 'killed member process is gone');
  const next = await cluster.leader();
  assert.notEqual(next.name, leader.name);
  await cluster.restart(leader);
  assert.notEqual(leader.pid, oldPid);
  process.kill(leader.pid, 0);
  const root = dirname(leader.dataDir);
  const pids = cluster.members.map((m) => m.pid);
  await cluster.stop();
  await cluster.stop();
  assert.equal(existsSync(root), false, 'temp dir removed');
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), `member pid ${pid} is gone`);
});
