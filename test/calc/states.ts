/**
 * Named calculation states (in the spirit of Felix's `calc/states_for_test.go`): a set of stored
 * resources and what node `node1` must compute from them. Shared resources have the same key in
 * every state, so moving between states exercises updates, not only adds and deletes.
 */
import type { Resource } from '../../src/api/types.js';
import { FELIX_STATES } from './felix-states.js';
import { felixConfig, gnetset, gnp, hep, named, netset, node, np, pool, profile, sel, sgnp, sknp, snp, tier, wep, type Expected } from './state-builders.js';

export interface State {
  name: string;
  resources: Resource[];
  expected: Expected;
}

const NS = 'projectcalico.org/namespace';
const W1 = wep('ns1', 'w1', { app: 'web' }, { ips: ['10.0.0.1/32'] });
const W2 = wep('ns1', 'w2', { app: 'db' }, { node: 'node2', ips: ['10.0.0.2/32'] });
const W3 = wep('ns2', 'w3', { app: 'db' }, { node: 'node2', ips: ['10.0.1.3/32'] });
const KNS1 = profile('kns.ns1', { 'pcns.team': 'a', 'pcns.projectcalico.org/name': 'ns1' });
const KNS2 = profile('kns.ns2', { 'pcns.team': 'b', 'pcns.projectcalico.org/name': 'ns2' });
const BASE = [W1, W2, W3, KNS1, KNS2];
const W1_ONLY = { 'wep:ns1/w1': '' };
const ALL = 'all()';

function exp(e: Partial<Expected>): Expected {
  return { policies: [], profiles: ['kns.ns1'], ipSets: {}, endpoints: W1_ONLY, ...e };
}

function hepText(normal: string, untracked = '', preDNAT = '', forward = ''): string {
  return `${normal} | untracked: ${untracked} | preDNAT: ${preDNAT} | forward: ${forward}`;
}

const d = (ing: string[], eg: string[] = []) => `default(Deny):i[${ing.join(',')}]e[${eg.join(',')}]`;

export const STATES: State[] = [
  { name: 'empty', resources: [], expected: exp({ profiles: [], endpoints: {} }) },
  { name: 'base', resources: BASE, expected: exp({}) },
  { name: 'endpoint with missing profile', resources: [W1], expected: exp({ profiles: ['kns.ns1!'] }) },
  {
    name: 'namespaced policy',
    resources: [...BASE, np('ns1', 'allow-db', { order: 10, selector: "app == 'web'", ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "app == 'db'" }, destination: { ports: [80] } }] })],
    expected: exp({
      policies: ['default/ns1/allow-db'],
      ipSets: { [sel(`(${NS} == "ns1" && app == "db")`)]: ['10.0.0.2/32'] },
      endpoints: { 'wep:ns1/w1': d(['default/ns1/allow-db']) },
      rules: {
        'default/ns1/allow-db': {
          inbound: [{ action: 'allow', index: 0, protocol: 'tcp', src: { ipSetIds: [sel(`(${NS} == "ns1" && app == "db")`)] }, dst: { ports: [{ first: 80, last: 80 }] } }],
          outbound: [],
        },
      },
    }),
  },
  {
    name: 'namespaced policy in another namespace',
    resources: [...BASE, np('ns2', 'web-ns2', { selector: "app == 'web'", ingress: [{ action: 'Allow', source: { selector: "app == 'db'" } }] })],
    expected: exp({}),
  },
  {
    name: 'tier order, default Pass, missing tier',
    resources: [
      ...BASE, tier('t1', 10), tier('t2', 20, 'Pass'), tier('tnone'),
      gnp('p-t1', { tier: 't1', selector: "app == 'web'", types: ['Ingress'], ingress: [{ action: 'Pass' }] }),
      gnp('p-t2', { tier: 't2', selector: ALL, types: ['Ingress', 'Egress'], ingress: [{ action: 'Deny' }], egress: [{ action: 'Deny' }] }),
      gnp('p-def', { selector: 'has(app)', types: ['Egress'], egress: [{ action: 'Allow' }] }),
      gnp('p-none', { tier: 'tnone', selector: "app == 'web'" }),
      gnp('p-ghost', { tier: 'ghost', selector: "app == 'web'" }),
    ],
    expected: exp({
      policies: ['default/_/p-def', 'ghost/_/p-ghost', 't1/_/p-t1', 't2/_/p-t2', 'tnone/_/p-none'],
      endpoints: {
        'wep:ns1/w1': 't1(Deny):i[t1/_/p-t1]e[] t2(Pass):i[t2/_/p-t2]e[t2/_/p-t2] default(Deny):i[]e[default/_/p-def] tnone(Deny):i[tnone/_/p-none]e[] ghost(Deny):i[ghost/_/p-ghost]e[]',
      },
      rules: { 't1/_/p-t1': { inbound: [{ action: 'pass', index: 0 }], outbound: [] } },
    }),
  },
  {
    name: 'built-in tiers without Tier resources',
    resources: [...BASE, gnp('adm', { tier: 'kube-admin', selector: ALL }), gnp('base', { tier: 'kube-baseline', selector: ALL }), gnp('d', { selector: ALL })],
    expected: exp({
      policies: ['default/_/d', 'kube-admin/_/adm', 'kube-baseline/_/base'],
      endpoints: { 'wep:ns1/w1': 'kube-admin(Pass):i[kube-admin/_/adm]e[] default(Deny):i[default/_/d]e[] kube-baseline(Pass):i[kube-baseline/_/base]e[]' },
    }),
  },
  {
    name: 'policy order ties',
    resources: [
      ...BASE, gnp('b', { order: 5, selector: ALL }), gnp('a', { order: 5, selector: ALL }), gnp('c', { selector: ALL }),
      gnp('z', { order: 1, selector: ALL }), np('ns1', 'a', { order: 5, selector: ALL }),
    ],
    expected: exp({
      policies: ['default/_/a', 'default/_/b', 'default/_/c', 'default/_/z', 'default/ns1/a'],
      endpoints: { 'wep:ns1/w1': d(['default/_/z', 'default/_/a', 'default/ns1/a', 'default/_/b', 'default/_/c']) },
    }),
  },
  {
    // Sent marked staged (never enforced), in their tier's order, beside an enforced policy of the same name.
    name: 'staged policies',
    resources: [
      ...BASE, tier('t-staged', 5),
      snp('ns1', 'st', { tier: 't-staged', order: 1, selector: ALL, ingress: [{ action: 'Deny' }] }),
      np('ns1', 'st', { tier: 't-staged', order: 2, selector: ALL, ingress: [{ action: 'Allow' }] }),
      sgnp('sg', { selector: "app == 'web'", egress: [{ action: 'Allow', destination: { selector: "app == 'db'" } }] }),
      sknp('ns1', 'k', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] }),
      snp('ns1', 'gone', { stagedAction: 'Delete', tier: 't-staged' }),
    ],
    expected: exp({
      policies: ['t-staged/ns1/staged:st', 't-staged/ns1/st', 'default/_/staged:sg', 'default/ns1/staged:knp.default.k'],
      staged: ['t-staged/ns1/staged:st', 'default/_/staged:sg', 'default/ns1/staged:knp.default.k'],
      ipSets: { [sel("app == 'db'")]: ['10.0.0.2/32', '10.0.1.3/32'] },
      endpoints: {
        'wep:ns1/w1': 't-staged(Deny):i[t-staged/ns1/staged:st,t-staged/ns1/st]e[] '
          + 'default(Deny):i[default/ns1/staged:knp.default.k]e[default/_/staged:sg]',
      },
    }),
  },
  {
    name: 'felix configuration, host IPs and pools',
    resources: [
      ...BASE,
      felixConfig('default', { defaultEndpointToHostAction: 'Accept', logPrefix: 'brl', failsafeInboundHostPorts: [{ protocol: 'TCP', port: 22 }], vxlanPort: 'bad' }),
      felixConfig('node.node1', { failsafeOutboundHostPorts: [], routeRefreshInterval: '1m30s', logPrefix: 42 }),
      felixConfig('node.node2', { defaultEndpointToHostAction: 'Return' }),
      node('node1', { bgp: { ipv4Address: '192.168.1.1/24', ipv6Address: 'fd00::1/64' } }),
      node('node2', { addresses: [{ address: 'fd00::2' }, { address: '192.168.1.2' }] }),
      node('node3', {}),
      pool('p4', { cidr: '10.0.0.0/16', natOutgoing: true, vxlanMode: 'CrossSubnet' }),
      pool('p6', { cidr: 'fd10::/48', disabled: true, ipipMode: 'Bogus' }),
      pool('broken', { cidr: 'nope' }),
    ],
    expected: exp({
      config: {
        defaultEndpointToHostAction: 'Accept', logPrefix: 'brl', failsafeInboundHostPorts: [{ protocol: 'tcp', port: 22 }],
        failsafeOutboundHostPorts: [], routeRefreshIntervalSeconds: 90, vxlanPort: 4789,
      },
      hostIps: { node1: { node: 'node1', ipv4: '192.168.1.1', ipv6: 'fd00::1' }, node2: { node: 'node2', ipv4: '192.168.1.2' } },
      pools: {
        p4: { name: 'p4', cidr: '10.0.0.0/16', family: 4, natOutgoing: true, vxlanMode: 'CrossSubnet', ipipMode: 'Never', disabled: false },
        p6: { name: 'p6', cidr: 'fd10::/48', family: 6, natOutgoing: false, vxlanMode: 'Never', ipipMode: 'Never', disabled: true },
      },
    }),
  },
  {
    name: 'GNP namespaceSelector',
    resources: [
      ...BASE, hep('h1', { host: 'h1' }, ['192.168.1.1']),
      gnp('team-a', { selector: "app == 'web'", namespaceSelector: "team == 'a'" }),
      gnp('team-b', { namespaceSelector: "team == 'b'" }),
      gnp('all-ns', { namespaceSelector: ALL, ingress: [{ action: 'Allow', source: { namespaceSelector: "team == 'b'" } }] }),
    ],
    expected: exp({
      policies: ['default/_/all-ns', 'default/_/team-a'],
      ipSets: { [sel('pcns.team == "b"')]: ['10.0.1.3/32'] },
      endpoints: { 'hep:h1': hepText(''), 'wep:ns1/w1': d(['default/_/all-ns', 'default/_/team-a']) },
    }),
  },
  {
    name: 'service accounts',
    resources: [
      wep('ns1', 'w1', { app: 'web' }, { ips: ['10.0.0.1/32'], sa: 'sa1', profiles: ['kns.ns1', 'ksa.ns1.sa1'] }),
      wep('ns1', 'w2', { app: 'db' }, { node: 'node2', ips: ['10.0.0.2/32'], sa: 'sa2', profiles: ['kns.ns1', 'ksa.ns1.sa2'] }),
      wep('ns2', 'w3', { app: 'db' }, { node: 'node2', ips: ['10.0.1.3/32'], sa: 'sa1', profiles: ['kns.ns2', 'ksa.ns2.sa1'] }),
      KNS1, KNS2,
      profile('ksa.ns1.sa1', { 'pcsa.role': 'admin' }, [], []),
      profile('ksa.ns1.sa2', { 'pcsa.role': 'db' }, [], []),
      profile('ksa.ns2.sa1', { 'pcsa.role': 'db' }, [], []),
      np('ns1', 'sa-pol', {
        serviceAccountSelector: "role == 'admin'",
        ingress: [{ action: 'Allow', source: { serviceAccounts: { names: ['sa2', 'sa1'] } } }, { action: 'Allow', source: { serviceAccounts: { selector: "role == 'db'" } } }],
      }),
    ],
    expected: exp({
      policies: ['default/ns1/sa-pol'],
      profiles: ['kns.ns1', 'ksa.ns1.sa1'],
      ipSets: {
        [sel(`(${NS} == "ns1" && projectcalico.org/serviceaccount in {"sa1", "sa2"})`)]: ['10.0.0.1/32', '10.0.0.2/32'],
        [sel(`(${NS} == "ns1" && pcsa.role == "db")`)]: ['10.0.0.2/32'],
      },
      endpoints: { 'wep:ns1/w1': d(['default/ns1/sa-pol']) },
      labels: {
        'wep:ns1/w1': {
          app: 'web', 'pcns.projectcalico.org/name': 'ns1', 'pcns.team': 'a', 'pcsa.role': 'admin', [NS]: 'ns1',
          'projectcalico.org/orchestrator': 'k8s', 'projectcalico.org/serviceaccount': 'sa1',
        },
      },
    }),
  },
  {
    name: 'missing profile fails closed',
    resources: [wep('ns1', 'w1', { app: 'web' }, { ips: ['10.0.0.1/32'], profiles: ['kns.ns1', 'ghost'] }), W2, W3, KNS1, KNS2],
    expected: exp({ profiles: ['ghost!', 'kns.ns1'], rules: { 'profile:ghost': { inbound: [], outbound: [] } } }),
  },
  {
    name: 'built-in default-allow profile exists without being stored',
    resources: [wep('ns1', 'w1', { app: 'web' }, { ips: ['10.0.0.1/32'], profiles: ['projectcalico-default-allow'] })],
    expected: exp({
      profiles: ['projectcalico-default-allow'],
      rules: { 'profile:projectcalico-default-allow': { inbound: [{ action: 'allow', index: 0 }], outbound: [{ action: 'allow', index: 0 }] } },
    }),
  },
  {
    name: 'profile label inheritance',
    resources: [
      wep('ns1', 'w1', { shape: 'x' }, { ips: ['10.0.0.1/32'], profiles: ['p-a', 'p-b'] }),
      profile('p-a', { color: 'red', shape: 'y' }), profile('p-b', { color: 'blue', size: 'big' }),
      gnp('red', { selector: "color == 'red'" }), gnp('blue', { selector: "color == 'blue'" }),
      gnp('big', { selector: "size == 'big'" }), gnp('shape-y', { selector: "shape == 'y'" }),
    ],
    expected: exp({
      policies: ['default/_/big', 'default/_/red'],
      profiles: ['p-a', 'p-b'],
      endpoints: { 'wep:ns1/w1': d(['default/_/big', 'default/_/red']) },
      labels: { 'wep:ns1/w1': { color: 'red', [NS]: 'ns1', 'projectcalico.org/orchestrator': 'k8s', shape: 'x', size: 'big' } },
    }),
  },
  {
    name: 'named ports',
    resources: [
      wep('ns1', 'w1', { app: 'web' }, { ips: ['10.0.0.1/32'], ports: [{ name: 'http', protocol: 'TCP', port: 8080 }, { name: 'dns', protocol: 'UDP', port: 53 }] }),
      wep('ns1', 'w2', { app: 'db' }, { node: 'node2', ips: ['10.0.0.2/32'], ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }),
      wep('ns2', 'w3', { app: 'db' }, { node: 'node2', ips: ['10.0.1.3/32'], ports: [{ name: 'http', protocol: 'TCP', port: 8081 }] }),
      wep('ns1', 'w4', { app: 'db' }, { node: 'node2', ips: ['fc00::4/128'], ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] }),
      KNS1, KNS2,
      gnp('np', {
        selector: "app == 'web'", types: ['Ingress', 'Egress'],
        ingress: [
          { action: 'Allow', protocol: 'TCP', source: { selector: "app == 'db'" }, destination: { ports: ['http'] } },
          { action: 'Allow', protocol: 'UDP', destination: { ports: ['dns', 53] } },
          { action: 'Allow', protocol: 'TCP', destination: { selector: "app == 'db'", ports: ['http', 443] } },
        ],
        egress: [{ action: 'Allow', protocol: 'TCP', destination: { selector: "app == 'db'", ports: ['http'] } }],
      }),
    ],
    expected: exp({
      policies: ['default/_/np'],
      ipSets: {
        [sel('app == "db"')]: ['10.0.0.2/32', '10.0.1.3/32', 'fc00::4/128'],
        [named(ALL, 'tcp', 'http')]: ['10.0.0.1,tcp:8080', '10.0.0.2,tcp:80', '10.0.1.3,tcp:8081', 'fc00::4,tcp:8080'],
        [named(ALL, 'udp', 'dns')]: ['10.0.0.1,udp:53'],
        [named('app == "db"', 'tcp', 'http')]: ['10.0.0.2,tcp:80', '10.0.1.3,tcp:8081', 'fc00::4,tcp:8080'],
      },
      endpoints: { 'wep:ns1/w1': d(['default/_/np'], ['default/_/np']) },
      rules: {
        'default/_/np': {
          inbound: [
            { action: 'allow', index: 0, protocol: 'tcp', src: { ipSetIds: [sel('app == "db"')] }, dst: { namedPortIpSetIds: [named(ALL, 'tcp', 'http')] } },
            { action: 'allow', index: 1, protocol: 'udp', dst: { ports: [{ first: 53, last: 53 }], namedPortIpSetIds: [named(ALL, 'udp', 'dns')] } },
            {
              action: 'allow', index: 2, protocol: 'tcp', dst: { ports: [{ first: 443, last: 443 }], ipSetIds: [sel('app == "db"')], namedPortIpSetIds: [named('app == "db"', 'tcp', 'http')] },
            },
          ],
          outbound: [{ action: 'allow', index: 0, protocol: 'tcp', dst: { namedPortIpSetIds: [named('app == "db"', 'tcp', 'http')] } }],
        },
      },
    }),
  },
  {
    name: 'network sets',
    resources: [
      ...BASE,
      netset('ns1', 'ext', { role: 'ext' }, ['192.168.0.0/16']),
      netset('ns2', 'ext2', { role: 'ext' }, ['172.16.0.0/12']),
      gnetset('g-ext', { role: 'ext' }, ['8.8.8.8/32', '1.1.1.1', '10.1.2.3/8']),
      np('ns1', 'from-ext', { selector: "app == 'web'", ingress: [{ action: 'Allow', source: { selector: "role == 'ext'" } }] }),
      gnp('g-from-ext', {
        selector: "app == 'web'",
        ingress: [
          { action: 'Allow', source: { selector: "role == 'ext'" } },
          { action: 'Allow', source: { namespaceSelector: "team == 'b'", selector: "role == 'ext'" } },
          { action: 'Deny', source: { namespaceSelector: 'global()', selector: "role == 'ext'" } },
        ],
      }),
    ],
    expected: exp({
      policies: ['default/_/g-from-ext', 'default/ns1/from-ext'],
      ipSets: {
        [sel(`(${NS} == "ns1" && role == "ext")`)]: ['192.168.0.0/16'],
        [sel('role == "ext"')]: ['1.1.1.1/32', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '8.8.8.8/32'],
        [sel('(pcns.team == "b" && role == "ext")')]: ['172.16.0.0/12'],
        [sel(`(!has(${NS}) && role == "ext")`)]: ['1.1.1.1/32', '10.0.0.0/8', '8.8.8.8/32'],
      },
      endpoints: { 'wep:ns1/w1': d(['default/ns1/from-ext', 'default/_/g-from-ext']) },
    }),
  },
  {
    name: 'host endpoints: untracked, pre-DNAT, forward, normal',
    resources: [
      hep('h1', { role: 'host' }, ['192.168.1.1', 'fd00::1']), hep('h2', { role: 'host' }, ['192.168.1.2'], 'node2'),
      gnp('h-normal', { selector: "role == 'host'", types: ['Ingress', 'Egress'], ingress: [{ action: 'Allow', source: { selector: "role == 'host'" } }], egress: [{ action: 'Allow' }] }),
      gnp('h-untracked', { order: 1, selector: "role == 'host'", doNotTrack: true, applyOnForward: true, types: ['Ingress'], ingress: [{ action: 'Allow' }] }),
      gnp('h-prednat', { order: 2, selector: "role == 'host'", preDNAT: true, applyOnForward: true, types: ['Ingress'], ingress: [{ action: 'Deny' }] }),
      gnp('h-fwd', { order: 3, selector: "role == 'host'", applyOnForward: true, types: ['Ingress', 'Egress'], ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }),
    ],
    expected: exp({
      policies: ['default/_/h-fwd', 'default/_/h-normal', 'default/_/h-prednat', 'default/_/h-untracked'],
      profiles: [],
      ipSets: { [sel('role == "host"')]: ['192.168.1.1/32', '192.168.1.2/32', 'fd00::1/128'] },
      endpoints: {
        'hep:h1': hepText(
          d(['default/_/h-fwd', 'default/_/h-normal'], ['default/_/h-fwd', 'default/_/h-normal']),
          d(['default/_/h-untracked']), d(['default/_/h-prednat']), d(['default/_/h-fwd'], ['default/_/h-fwd']),
        ),
      },
    }),
  },
  {
    name: 'notSelector, notNets, notPorts, notProtocol',
    resources: [
      ...BASE,
      np('ns1', 'nots', {
        selector: "app == 'web'",
        ingress: [{ action: 'Allow', protocol: 'TCP', source: { notSelector: "app == 'db'", notNets: ['10.9.0.0/16'] }, destination: { notPorts: [22, '1000:2000'] } }],
      }),
      gnp('g-nots', {
        selector: "app == 'web'",
        ingress: [
          { action: 'Deny', protocol: 'TCP', source: { notSelector: "app == 'db'" }, destination: { notPorts: ['http'] } },
          { action: 'Allow', notProtocol: 'UDP', source: { selector: "app == 'db'", notSelector: "env == 'prod'" } },
        ],
      }),
    ],
    expected: exp({
      policies: ['default/_/g-nots', 'default/ns1/nots'],
      ipSets: {
        [sel(`(${NS} == "ns1") && !(app == "db")`)]: ['10.0.0.1/32'],
        [sel('app == "db"')]: ['10.0.0.2/32', '10.0.1.3/32'],
        [named(ALL, 'tcp', 'http')]: [],
        [sel('(app == "db") && !(env == "prod")')]: ['10.0.0.2/32', '10.0.1.3/32'],
      },
      endpoints: { 'wep:ns1/w1': d(['default/_/g-nots', 'default/ns1/nots']) },
      rules: {
        'default/ns1/nots': {
          inbound: [{
            action: 'allow', index: 0, protocol: 'tcp', src: { notNets: ['10.9.0.0/16'], ipSetIds: [sel(`(${NS} == "ns1") && !(app == "db")`)] },
            dst: { notPorts: [{ first: 22, last: 22 }, { first: 1000, last: 2000 }] },
          }],
          outbound: [],
        },
        'default/_/g-nots': {
          inbound: [
            { action: 'deny', index: 0, protocol: 'tcp', src: { notIpSetIds: [sel('app == "db"')] }, dst: { notNamedPortIpSetIds: [named(ALL, 'tcp', 'http')] } },
            { action: 'allow', index: 1, notProtocol: 'udp', src: { ipSetIds: [sel('(app == "db") && !(env == "prod")')] } },
          ],
          outbound: [],
        },
      },
    }),
  },
  {
    name: 'only remote endpoints',
    resources: [W2, KNS1, gnp('db', { selector: "app == 'db'", ingress: [{ action: 'Allow', source: { selector: "app == 'web'" } }] })],
    expected: exp({ profiles: [], endpoints: {} }),
  },
  {
    name: 'local endpoint moved to another node',
    resources: [
      wep('ns1', 'w1', { app: 'web' }, { node: 'node2', ips: ['10.0.0.1/32'] }), W2, W3, KNS1, KNS2,
      np('ns1', 'allow-db', { order: 10, selector: "app == 'web'", ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "app == 'db'" }, destination: { ports: [80] } }] }),
    ],
    expected: exp({ profiles: [], endpoints: {} }),
  },
  {
    name: 'rule with only nets is not namespaced',
    resources: [...BASE, np('ns1', 'nets', { selector: "app == 'web'", ingress: [{ action: 'Allow', source: { nets: ['10.1.0.0/16', '10.2.3.4'] } }] })],
    expected: exp({
      policies: ['default/ns1/nets'],
      endpoints: { 'wep:ns1/w1': d(['default/ns1/nets']) },
      rules: { 'default/ns1/nets': { inbound: [{ action: 'allow', index: 0, src: { nets: ['10.1.0.0/16', '10.2.3.4/32'] } }], outbound: [] } },
    }),
  },
  {
    name: 'invalid rule selector fails closed; invalid policy selector matches nothing',
    resources: [
      ...BASE,
      gnp('bad', { selector: "app == 'web'", ingress: [{ action: 'Allow', source: { selector: 'app == ' } }] }),
      gnp('bad-sel', { selector: 'app ==' }),
    ],
    expected: exp({
      policies: ['default/_/bad!'],
      endpoints: { 'wep:ns1/w1': d(['default/_/bad']) },
      rules: { 'default/_/bad': { inbound: [], outbound: [] } },
    }),
  },
  {
    name: 'policy in tier t1',
    resources: [...BASE, tier('t1', 10), np('ns1', 'mover', { tier: 't1', selector: ALL, ingress: [{ action: 'Allow', source: { selector: "app == 'db'" } }] })],
    expected: exp({
      policies: ['t1/ns1/mover'],
      ipSets: { [sel(`(${NS} == "ns1" && app == "db")`)]: ['10.0.0.2/32'] },
      endpoints: { 'wep:ns1/w1': 't1(Deny):i[t1/ns1/mover]e[]' },
    }),
  },
  {
    name: 'same policy moved to default tier',
    resources: [...BASE, tier('t1', 10), np('ns1', 'mover', { selector: ALL, ingress: [{ action: 'Allow', source: { selector: "app == 'db'" } }] })],
    expected: exp({
      policies: ['default/ns1/mover'],
      ipSets: { [sel(`(${NS} == "ns1" && app == "db")`)]: ['10.0.0.2/32'] },
      endpoints: { 'wep:ns1/w1': d(['default/ns1/mover']) },
    }),
  },
  {
    name: 'two endpoints share an IP',
    resources: [
      ...BASE, wep('ns1', 'w5', { app: 'db' }, { node: 'node2', ips: ['10.0.0.2/32'] }),
      gnp('db-in', { selector: "app == 'web'", ingress: [{ action: 'Allow', source: { selector: "app == 'db'" } }] }),
    ],
    expected: exp({
      policies: ['default/_/db-in'],
      ipSets: { [sel('app == "db"')]: ['10.0.0.2/32', '10.0.1.3/32'] },
      endpoints: { 'wep:ns1/w1': d(['default/_/db-in']) },
    }),
  },
  {
    name: 'AssumeNeededOnEveryNode keeps a non-matching policy active',
    resources: [
      ...BASE,
      gnp('everywhere', { selector: "app == 'nothing-here'", performanceHints: ['AssumeNeededOnEveryNode'], ingress: [{ action: 'Allow', source: { selector: "app == 'db'" } }] }),
    ],
    expected: exp({ policies: ['default/_/everywhere'], ipSets: { [sel('app == "db"')]: ['10.0.0.2/32', '10.0.1.3/32'] } }),
  },
  {
    name: 'service and HTTP matches cannot be enforced here: fail closed',
    resources: [
      ...BASE,
      gnp('svc', { selector: "app == 'web'", egress: [{ action: 'Allow', destination: { services: { name: 'kube-dns', namespace: 'kube-system' } } }] }),
      gnp('http', { selector: "app == 'web'", ingress: [{ action: 'Allow', http: { methods: ['GET'] } }] }),
    ],
    expected: exp({ policies: ['default/_/http!', 'default/_/svc!'], endpoints: { 'wep:ns1/w1': d(['default/_/http'], ['default/_/svc']) } }),
  },
  {
    name: 'types defaulting and Log',
    resources: [
      ...BASE,
      gnp('eg', { selector: "app == 'web'", egress: [{ action: 'Allow' }] }),
      gnp('both', { selector: "app == 'web'", ingress: [{ action: 'Log' }], egress: [{ action: 'Allow' }] }),
      np('ns1', 'none', { selector: "app == 'web'", types: [] }),
    ],
    expected: exp({
      policies: ['default/_/both', 'default/_/eg', 'default/ns1/none'],
      endpoints: { 'wep:ns1/w1': d(['default/_/both', 'default/ns1/none'], ['default/_/both', 'default/_/eg']) },
      rules: { 'default/_/both': { inbound: [{ action: 'log', index: 0 }], outbound: [{ action: 'allow', index: 0 }] } },
    }),
  },
  ...FELIX_STATES,
];
