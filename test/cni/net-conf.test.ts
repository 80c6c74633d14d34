import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CniCode, type CniError } from '../../src/cni/cni-spec.js';
import { parseCniEnv } from '../../src/cni/cni-request.js';
import { parseNetConf } from '../../src/cni/net-conf.js';
import { containerSetupScript, hostSetupScript } from '../../src/cni/veth-scripts.js';
import { buildWorkloadEndpoint } from '../../src/cni/workload-endpoint.js';
import { workloadIdentity } from '../../src/cni/workload-identity.js';

const base = { cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'brindle', datastore: 'sqlite:/tmp/x.db', nodename: 'node-1', ipam: { type: 'brindle-ipam' } };
const conf = (extra: Record<string, unknown> = {}) => JSON.stringify({ ...base, ...extra });
const refused = (text: string, code: number, re: RegExp) =>
  assert.throws(() => parseNetConf(text), (e: CniError) => {
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return true;
  });

describe('network configuration', () => {
  test('defaults: IPv4 only, MTU 1500, policy none, namespace default', () => {
    const c = parseNetConf(conf());
    assert.deepEqual([c.mtu, c.ipam.assignIpv4, c.ipam.assignIpv6, c.policyType, c.workloadNamespace, c.nodename], [1500, true, false, 'none', 'default', 'node-1']);
    const d = parseNetConf(conf({ mtu: 1450, ipam: { type: 'brindle-ipam', assign_ipv6: 'true', ipv4_pools: ['pool-a', '10.65.0.0/16'], ipv6_pools: ['fd00::/48'] }, policy: { type: 'k8s' } }));
    assert.deepEqual([d.mtu, d.ipam.assignIpv6, d.ipam.ipv4Pools, d.ipam.ipv6Pools, d.policyType], [1450, true, ['pool-a', '10.65.0.0/16'], ['fd00::/48'], 'k8s']);
  });
  test('bad configuration is refused with the field named', () => {
    refused('{', CniCode.DecodingFailure, /not JSON/);
    refused(conf({ datastore: 'mysql://x' }), CniCode.InvalidConfig, /"datastore" "mysql:\/\/x" is not a datastore URL/);
    refused(JSON.stringify({ ...base, ipam: undefined }), CniCode.InvalidConfig, /"ipam" is required/);
    refused(conf({ ipam: { assign_ipv4: 'true' } }), CniCode.InvalidConfig, /"ipam.type" is required/);
    refused(conf({ ipam: { type: 'brindle-ipam', ipv4_pools: ['10.0.0.0/33'] } }), CniCode.InvalidConfig, /"10.0.0.0\/33" is not a valid CIDR/);
    refused(conf({ ipam: { type: 'brindle-ipam', ipv4_pools: ['fd00::/48'] } }), CniCode.InvalidConfig, /not an IPv4 CIDR/);
    refused(conf({ ipam: { type: 'brindle-ipam', assign_ipv4: 'false' } }), CniCode.InvalidConfig, /assigns no address/);
    refused(conf({ mtu: 10 }), CniCode.InvalidConfig, /"mtu" must be an integer from 68 to 65535/);
    refused(conf({ nodename: 'Node_1' }), CniCode.InvalidConfig, /not a valid node name/);
    refused(conf({ cniVersion: '0.2.0' }), CniCode.IncompatibleVersion, /not supported/);
    refused(JSON.stringify({ ...base, name: undefined }), CniCode.InvalidConfig, /"name" is required/);
  });
  test('GC attachments under either spelling', () => {
    assert.deepEqual(parseNetConf(conf({ 'cni.dev/valid-attachments': [{ containerID: 'a', ifname: 'eth0' }] })).validAttachments, [{ containerID: 'a', ifname: 'eth0' }]);
    assert.deepEqual(parseNetConf(conf({ 'cni.dev/attachments': [{ containerID: 'b' }] })).validAttachments, [{ containerID: 'b', ifname: '' }]);
  });
  test('environment: what each command needs', () => {
    assert.throws(() => parseCniEnv({}), (e: CniError) => e.code === CniCode.InvalidEnvironment && /CNI_COMMAND is not set/.test(e.message));
    assert.throws(() => parseCniEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0' }), /CNI_NETNS is required for ADD/);
    assert.throws(() => parseCniEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/x', CNI_IFNAME: 'way-too-long-ifname' }), /not a valid interface name/);
    const del = parseCniEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0', CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=p' });
    assert.equal(del.netns, '');
    assert.equal(del.args.get('K8S_POD_NAME'), 'p');
    assert.equal(parseCniEnv({ CNI_COMMAND: 'VERSION' }).command, 'VERSION');
  });
});

describe('identity and names (Calico conventions)', () => {
  const c = parseNetConf(conf({ workload_namespace: 'vms' }));
  test('Kubernetes identity: veth is cali + sha1("<ns>.<pod>")[:11], endpoint <node>-k8s-<pod>-<iface> with dashes doubled', () => {
    const id = workloadIdentity(parseCniEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc', CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=namespace;K8S_POD_NAME=podname' }), c, 'node-1');
    assert.equal(id.hostVeth, 'cali82111e10a96');
    assert.equal(id.endpointName, 'node--1-k8s-podname-eth0');
    assert.equal(id.namespace, 'namespace');
    assert.equal(id.handleId, 'k8s-pod-network.abc');
    assert.match(id.containerMac, /^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/);
  });
  test('no Kubernetes identity: named from the container ID in the configured namespace', () => {
    const id = workloadIdentity(parseCniEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'probe-c1', CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=c1' }), c, 'n1');
    assert.deepEqual([id.orchestrator, id.namespace, id.endpointName, id.workload], ['cni', 'vms', 'n1-cni-probe--c1-eth0', 'probe-c1']);
    const odd = workloadIdentity(parseCniEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'ABC_1', CNI_NETNS: '/x', CNI_IFNAME: 'net1' }), c, 'n1');
    assert.match(odd.endpointName, /^n1-cni-abc\.1\.[0-9a-f]{8}-net1$/);
    assert.equal(odd.hostVeth.length, 15);
  });
  test('the endpoint written', () => {
    const id = workloadIdentity(parseCniEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc', CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web' }), c, 'n1');
    const w = buildWorkloadEndpoint(id, ['10.65.0.5', 'fd00::5']);
    assert.deepEqual(w.metadata, { name: 'n1-k8s-web-eth0', namespace: 'ns1', labels: { 'projectcalico.org/namespace': 'ns1', 'projectcalico.org/orchestrator': 'k8s' } });
    assert.deepEqual(w.spec, { orchestrator: 'k8s', node: 'n1', containerID: 'abc', endpoint: 'eth0', ipNetworks: ['10.65.0.5/32', 'fd00::5/128'], profiles: ['kns.ns1'], interfaceName: id.hostVeth, mac: id.containerMac, pod: 'web' });
  });
});

describe('ip -batch scripts', () => {
  const plan = { hostVeth: 'caliabc', ifname: 'eth0', netns: '/run/netns/p', mtu: 1450, containerMac: '02:00:00:00:00:01', addresses: ['10.65.0.5', 'fd00::5'], replaceHostVeth: true };
  test('host side', () => {
    assert.equal(hostSetupScript(plan), [
      'link del caliabc',
      'link add caliabc mtu 1450 address ee:ee:ee:ee:ee:ee type veth peer name eth0 mtu 1450 address 02:00:00:00:00:01 netns /run/netns/p',
      'link set caliabc up',
      'route add 10.65.0.5/32 dev caliabc scope link',
      'route add fd00::5/128 dev caliabc scope link',
      '',
    ].join('\n'));
  });
  test('container side', () => {
    assert.equal(containerSetupScript(plan), [
      'link set eth0 up',
      'addr add 10.65.0.5/32 dev eth0',
      'route add 169.254.1.1/32 dev eth0 scope link',
      'route add 0.0.0.0/0 via 169.254.1.1 dev eth0',
      'addr add fd00::5/128 dev eth0 nodad',
      'route add ::/0 via fe80::ecee:eeff:feee:eeee dev eth0',
      '',
    ].join('\n'));
  });
});
