import type { Exec } from '../../src/base/exec.js';

/**
 * Wires a workload namespace to a node namespace by hand, the Calico way (machine-findings §1):
 * a veth `eth0` ↔ `<hostIf>`, the workload's /32, a default route via 169.254.1.1, proxy ARP on
 * the host side and a /32 route to it on the node. For lab tests that need workloads before (or
 * without) the CNI plugin. Both namespaces must already exist and belong to the test.
 */
export async function wireStaticWorkload(exec: Exec, o: { nodeNetns: string; netns: string; hostIf: string; ip: string }): Promise<void> {
  const { nodeNetns: node, netns: ws, hostIf, ip } = o;
  await exec.run('ip', ['-n', ws, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', hostIf, 'netns', node]);
  await exec.run('ip', ['-n', ws, 'link', 'set', 'eth0', 'up']);
  await exec.run('ip', ['-n', node, 'link', 'set', hostIf, 'address', 'ee:ee:ee:ee:ee:ee']);
  await exec.run('ip', ['-n', node, 'link', 'set', hostIf, 'up']);
  await exec.run('sysctl', ['-qw', `net.ipv4.conf.${hostIf}.proxy_arp=1`, `net.ipv4.neigh.${hostIf}.proxy_delay=0`, `net.ipv4.conf.${hostIf}.forwarding=1`], { netns: node });
  await exec.run('ip', ['-n', node, 'route', 'add', `${ip}/32`, 'dev', hostIf, 'scope', 'link']);
  await exec.run('ip', ['-n', ws, 'addr', 'add', `${ip}/32`, 'dev', 'eth0']);
  await exec.run('ip', ['-n', ws, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
  await exec.run('ip', ['-n', ws, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
}
