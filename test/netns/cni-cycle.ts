import assert from 'node:assert/strict';
import type { WorkloadEndpoint } from '../../src/api/types.js';
import type { Datastore } from '../../src/datastore/datastore.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import type { CniRig } from './cni-harness.js';

/**
 * One ADD → CHECK → DEL cycle on the real kernel, asserting what each step leaves: the result JSON
 * of the requested spec version, the veth pair and routes on both sides, proxy ARP, the
 * WorkloadEndpoint and the IPAM handle; after DEL, none of it. Shared by the SQLite and etcd suites.
 */
export async function addCheckDel(rig: CniRig, ds: Datastore, datastoreUrl: string, version: string, pod: { ns: string; name: string; containerId: string }): Promise<string> {
  const netns = rig.pod();
  const conf = rig.conf(version, {}, datastoreUrl);
  const env = { containerId: pod.containerId, netns, args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pod.ns};K8S_POD_NAME=${pod.name};K8S_POD_INFRA_CONTAINER_ID=${pod.containerId}` };
  const add = await rig.run('ADD', conf, env);
  assert.equal(add.code, 0, `ADD failed: ${add.stdout} ${add.stderr}`);
  const r = add.json!;
  assert.equal(r['cniVersion'], version);
  const ifaces = r['interfaces'] as { name: string; mac: string; sandbox?: string; mtu?: number }[];
  const ips = r['ips'] as { address: string; interface: number; version?: string }[];
  assert.equal(ifaces.length, 2);
  assert.match(ifaces[0]!.name, /^cali[0-9a-f]{11}$/);
  assert.equal(ifaces[0]!.mac, 'ee:ee:ee:ee:ee:ee');
  assert.deepEqual([ifaces[1]!.name, ifaces[1]!.sandbox], ['eth0', netns]);
  assert.equal(ips.length, 1);
  assert.match(ips[0]!.address, /^10\.\d+\.\d+\.\d+\/32$/);
  assert.equal(ips[0]!.interface, 1);
  assert.equal(ips[0]!.version, version < '1.0.0' ? '4' : undefined, 'ips[].version only before 1.0.0');
  assert.equal(ifaces[1]!.mtu, version === '1.1.0' ? 1450 : undefined, 'interface mtu only in 1.1.0');
  assert.deepEqual(r['routes'], [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }]);
  const ip = ips[0]!.address.split('/')[0]!;
  const veth = ifaces[0]!.name;

  // Kernel, node side: veth up with the fixed MAC, /32 route, proxy ARP.
  const hl = (rig.ipJson(rig.node, `link show dev ${veth}`) as { address: string; flags: string[]; mtu: number }[])[0]!;
  assert.equal(hl.address, 'ee:ee:ee:ee:ee:ee');
  assert.ok(hl.flags.includes('UP'));
  assert.equal(hl.mtu, 1450);
  assert.deepEqual((rig.ipJson(rig.node, `route show dev ${veth}`) as { dst: string; scope: string }[]).map((x) => [x.dst, x.scope]), [[ip, 'link']]);
  // Container side: /32, link route to the gateway, default via it.
  const ca = (rig.ipJson(netns, 'addr show dev eth0') as { addr_info: { family: string; local: string; prefixlen: number }[]; mtu: number; address: string }[])[0]!;
  assert.deepEqual(ca.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`), [`${ip}/32`]);
  assert.equal(ca.address, ifaces[1]!.mac);
  const cr = (rig.ipJson(netns, 'route show') as { dst: string; gateway?: string; scope?: string }[]).map((x) => `${x.dst} ${x.gateway ?? x.scope}`).sort();
  assert.deepEqual(cr, ['169.254.1.1 link', 'default 169.254.1.1']);
  // The workload reaches the node through the proxy-ARP gateway.
  const { spawnSync } = await import('node:child_process');
  const ping = spawnSync('ip', ['netns', 'exec', netns.replace('/run/netns/', ''), 'ping', '-c', '1', '-W', '2', '192.168.250.1'], { encoding: 'utf8' });
  assert.equal(ping.status, 0, `ping from the workload to the node failed: ${ping.stdout}${ping.stderr}`);

  // Datastore: the endpoint and the handle.
  const rc = new ResourceClient(ds);
  const wepName = `node--1-k8s-${pod.name.replace(/-/g, '--')}-eth0`;
  const wep = (await rc.get('WorkloadEndpoint', wepName, pod.ns)) as WorkloadEndpoint;
  assert.ok(wep, `WorkloadEndpoint ${pod.ns}/${wepName} missing`);
  assert.deepEqual(wep.spec.ipNetworks, [`${ip}/32`]);
  assert.deepEqual([wep.spec.node, wep.spec.orchestrator, wep.spec.pod, wep.spec.endpoint, wep.spec.containerID, wep.spec.interfaceName, wep.spec.mac], ['node-1', 'k8s', pod.name, 'eth0', pod.containerId, veth, ifaces[1]!.mac]);
  assert.deepEqual(wep.spec.profiles, [`kns.${pod.ns}`]);
  assert.deepEqual(wep.metadata.labels, { 'projectcalico.org/namespace': pod.ns, 'projectcalico.org/orchestrator': 'k8s' });
  const ipam = new IpamClient(ds);
  assert.deepEqual(await ipam.ipsByHandle(`k8s-pod-network.${pod.containerId}`), [ip]);

  // CHECK with prevResult passes; CHECK after the route is removed fails with code 100 naming it.
  const check = await rig.run('CHECK', { ...conf, prevResult: r }, env);
  assert.equal(check.code, 0, `CHECK failed: ${check.stdout}`);
  assert.equal(check.stdout, '');

  const del = await rig.run('DEL', { ...conf, prevResult: r }, env);
  assert.equal(del.code, 0, `DEL failed: ${del.stdout}`);
  assert.equal(rig.links(rig.node).includes(veth), false, 'host veth gone');
  assert.deepEqual(rig.links(netns), ['lo']);
  assert.equal(await rc.get('WorkloadEndpoint', wepName, pod.ns), null);
  assert.equal(await ipam.describeIp(ip), undefined, 'address released');
  return ip;
}
