/**
 * Validation cases per kind, in the spirit of Calico's `validator_test.go` entries: a valid base
 * object, then one change per case and the exact field path the error must carry (null = valid).
 */

export interface ValidationCase {
  name: string;
  doc: Record<string, unknown>;
  /** null: valid. Otherwise the path of (one of) the issues, and optionally a message fragment. */
  path: string | null;
  message?: string;
}

const V3 = 'projectcalico.org/v3';

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Sets `obj.a.b[0].c = value` (creating objects on the way); `undefined` deletes. */
function set(obj: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const out = clone(obj);
  const parts = path.match(/[^.[\]]+/g)!;
  let cur: any = out;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = /^\d+$/.test(parts[i]!) ? Number(parts[i]) : parts[i]!;
    if (cur[k] === undefined) cur[k] = /^\d+$/.test(parts[i + 1]!) ? [] : {};
    cur = cur[k];
  }
  const last = parts[parts.length - 1]!;
  if (value === undefined) delete cur[last];
  else cur[/^\d+$/.test(last) ? Number(last) : last] = value;
  return out;
}

type Mod = [name: string, path: string, value: unknown, expectPath: string | null, message?: string];

function cases(kind: string, base: Record<string, unknown>, mods: Mod[]): ValidationCase[] {
  return [
    { name: `${kind}: base object is valid`, doc: base, path: null },
    ...mods.map(([name, path, value, expectPath, message]) => ({
      name: `${kind}: ${name}`,
      doc: set(base, path, value),
      path: expectPath,
      ...(message ? { message } : {}),
    })),
  ];
}

const gnp = { apiVersion: V3, kind: 'GlobalNetworkPolicy', metadata: { name: 'allow-web' }, spec: { selector: "role == 'web'", ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80] } }] } };
const np = { apiVersion: V3, kind: 'NetworkPolicy', metadata: { name: 'allow-db', namespace: 'prod' }, spec: { selector: "app == 'db'", ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "app == 'web'" }, destination: { ports: [5432] } }] } };

export const POLICY_CASES: ValidationCase[] = [
  ...cases('GlobalNetworkPolicy', gnp, [
    // names
    ['name with one dot', 'metadata.name', 'security.allow-web', null],
    ['name with two dots', 'metadata.name', 'a.b.c', 'metadata.name'],
    ['upper-case name', 'metadata.name', 'Allow', 'metadata.name'],
    ['name with underscore', 'metadata.name', 'a_b', 'metadata.name'],
    ['knp.default. name is only for namespaced policies', 'metadata.name', 'knp.default.x', 'metadata.name'],
    ['empty name', 'metadata.name', '', 'metadata.name'],
    ['namespace on a global kind', 'metadata.namespace', 'default', 'metadata.namespace'],
    // labels and annotations
    ['valid label', 'metadata.labels', { 'example.com/team': 'a-b_c.d' }, null],
    ['label key with two slashes', 'metadata.labels', { 'a/b/c': 'x' }, 'metadata.labels["a/b/c"]'],
    ['label value too long', 'metadata.labels', { k: 'x'.repeat(64) }, 'metadata.labels.k'],
    ['label value with space', 'metadata.labels', { k: 'a b' }, 'metadata.labels.k'],
    ['label value not a string', 'metadata.labels', { k: 5 }, 'metadata.labels.k', 'must be a string'],
    ['annotation key invalid', 'metadata.annotations', { '-bad': 'x' }, 'metadata.annotations["-bad"]'],
    ['annotations too large', 'metadata.annotations', { big: 'x'.repeat(262145) }, 'metadata.annotations'],
    // spec-level
    ['unknown spec field', 'spec.selectr', 'all()', 'spec.selectr', 'unknown field'],
    ['unknown top-level field', 'status', {}, 'status', 'unknown field'],
    ['order is a float', 'spec.order', 100.5, null],
    ['order is a string', 'spec.order', '100', 'spec.order', 'must be a number'],
    ['tier with a dot', 'spec.tier', 'a.b', 'spec.tier'],
    ['bad selector', 'spec.selector', 'role ==', 'spec.selector', 'invalid selector'],
    ['global() in the policy selector', 'spec.selector', 'global()', 'spec.selector', 'global()'],
    ['global() in namespaceSelector of a GNP', 'spec.namespaceSelector', 'global()', 'spec.namespaceSelector'],
    ['bad serviceAccountSelector', 'spec.serviceAccountSelector', '(', 'spec.serviceAccountSelector'],
    ['types duplicated', 'spec.types', ['Ingress', 'Ingress'], 'spec.types[1]', 'duplicate'],
    ['unknown type', 'spec.types', ['Inbound'], 'spec.types[0]'],
    ['types Ingress and Egress', 'spec.types', ['Ingress', 'Egress'], null],
    ['unknown performance hint', 'spec.performanceHints', ['Fast'], 'spec.performanceHints[0]'],
    ['known performance hint', 'spec.performanceHints', ['AssumeNeededOnEveryNode'], null],
    ['ingress not a list', 'spec.ingress', { action: 'Allow' }, 'spec.ingress', 'must be a list'],
    // GNP special modes
    ['doNotTrack with applyOnForward', 'spec', { selector: 'all()', doNotTrack: true, applyOnForward: true, ingress: [{ action: 'Allow' }] }, null],
    ['doNotTrack without applyOnForward', 'spec.doNotTrack', true, 'spec.applyOnForward'],
    ['preDNAT without applyOnForward', 'spec.preDNAT', true, 'spec.applyOnForward'],
    ['preDNAT and doNotTrack together', 'spec', { doNotTrack: true, preDNAT: true, applyOnForward: true }, 'spec.preDNAT'],
    ['preDNAT with egress rules', 'spec', { preDNAT: true, applyOnForward: true, egress: [{ action: 'Allow' }] }, 'spec.egress'],
    ['preDNAT with Egress type', 'spec', { preDNAT: true, applyOnForward: true, types: ['Egress'] }, 'spec.types'],
    ['preDNAT ingress only', 'spec', { preDNAT: true, applyOnForward: true, types: ['Ingress'], ingress: [{ action: 'Deny', source: { nets: ['10.0.0.0/8'] } }] }, null],
    ['doNotTrack is not a bool', 'spec.doNotTrack', 'yes', 'spec.doNotTrack', 'true or false'],
    // rules
    ['missing action', 'spec.ingress[0].action', undefined, 'spec.ingress[0].action', 'required'],
    ['bad action', 'spec.ingress[0].action', 'allow', 'spec.ingress[0].action'],
    ['Pass action', 'spec.ingress[0].action', 'Pass', null],
    ['Log action', 'spec.ingress[0].action', 'Log', null],
    ['ipVersion 5', 'spec.ingress[0].ipVersion', 5, 'spec.ingress[0].ipVersion'],
    ['protocol lower case is rejected, as Calico does', 'spec.ingress[0].protocol', 'tcp', 'spec.ingress[0].protocol', 'did you mean "TCP"'],
    ['protocol number as a string', 'spec.ingress[0].protocol', '17', null],
    ['protocol 0 as a string', 'spec.ingress[0].protocol', '0', 'spec.ingress[0].protocol'],
    ['protocol tcpfoo', 'spec.ingress[0].protocol', 'tcpfoo', 'spec.ingress[0].protocol'],
    ['protocol number', 'spec.ingress[0].protocol', 6, null],
    ['protocol 0', 'spec.ingress[0].protocol', 0, 'spec.ingress[0].protocol'],
    ['protocol 256', 'spec.ingress[0].protocol', 256, 'spec.ingress[0].protocol'],
    ['protocol unknown name', 'spec.ingress[0].protocol', 'GRE', 'spec.ingress[0].protocol'],
    ['protocol UDPLite with ports', 'spec.ingress[0].protocol', 'UDPLite', 'spec.ingress[0].destination.ports'],
    ['protocol SCTP with ports', 'spec.ingress[0].protocol', 'SCTP', null],
    ['notProtocol', 'spec.ingress[0].notProtocol', 'UDP', null],
    ['source notPorts with protocol 100', 'spec.ingress[0]', { action: 'Allow', protocol: 100, source: { notPorts: [1] } }, 'spec.ingress[0].source.notPorts'],
    ['destination ports with SCTP', 'spec.ingress[0]', { action: 'Allow', protocol: 'SCTP', destination: { ports: [1] } }, null],
    ['destination notPorts with ICMP', 'spec.ingress[0]', { action: 'Allow', ipVersion: 4, protocol: 'ICMP', destination: { notPorts: [1] } }, 'spec.ingress[0].destination.notPorts'],
    ['source ports range reversed', 'spec.ingress[0]', { action: 'Allow', protocol: 'TCP', source: { ports: ['200:100'] } }, 'spec.ingress[0].source.ports[0]'],
    ['destination notPorts from 0', 'spec.ingress[0]', { action: 'Allow', protocol: 'TCP', destination: { notPorts: ['0:100'] } }, 'spec.ingress[0].destination.notPorts[0]'],
    ['mixed families src v6 dst v4', 'spec.ingress[0]', { action: 'Allow', protocol: 'TCP', source: { nets: ['fd00::/64'] }, destination: { nets: ['10.0.0.0/8'] } }, 'spec.ingress[0]'],
    ['ipVersion 6 with v4 notNets in destination', 'spec.ingress[0]', { action: 'Allow', ipVersion: 6, destination: { notNets: ['10.0.0.0/8'] } }, 'spec.ingress[0]'],
    ['HTTP with no protocol', 'spec.ingress[0]', { action: 'Allow', http: { methods: ['GET'] } }, null],
    ['rule annotation key "..."', 'spec.ingress[0].metadata', { annotations: { '...': 'bar' } }, 'spec.ingress[0].metadata.annotations["..."]'],
    ['name with ~ and !', 'metadata.name', 't~!s.h.i.ng', 'metadata.name'],
    ['name in mixed case', 'metadata.name', 'tHiNg', 'metadata.name'],
    ['protocol is a float', 'spec.ingress[0].protocol', 6.5, 'spec.ingress[0].protocol'],
    // ports
    ['port 0', 'spec.ingress[0].destination.ports', [0], 'spec.ingress[0].destination.ports[0]', 'out of range'],
    ['port 65536', 'spec.ingress[0].destination.ports', [80, 65536], 'spec.ingress[0].destination.ports[1]', 'out of range 1-65535'],
    ['port string', 'spec.ingress[0].destination.ports', ['8080'], null],
    ['port range', 'spec.ingress[0].destination.ports', ['1000:2000'], null],
    ['port range reversed', 'spec.ingress[0].destination.ports', ['2000:1000'], 'spec.ingress[0].destination.ports[0]', 'minimum above its maximum'],
    ['port range to 65536', 'spec.ingress[0].destination.ports', ['1:65536'], 'spec.ingress[0].destination.ports[0]'],
    ['port range open-ended', 'spec.ingress[0].destination.ports', ['1000:'], 'spec.ingress[0].destination.ports[0]'],
    ['named port', 'spec.ingress[0].destination.ports', ['http'], null],
    ['named port upper case', 'spec.ingress[0].destination.ports', ['HTTP'], 'spec.ingress[0].destination.ports[0]'],
    ['named port too long', 'spec.ingress[0].destination.ports', ['a-very-long-port-name'], 'spec.ingress[0].destination.ports[0]'],
    ['named port with double hyphen', 'spec.ingress[0].destination.ports', ['a--b'], 'spec.ingress[0].destination.ports[0]'],
    ['named port all digits-and-dash', 'spec.ingress[0].destination.ports', ['80-90'], 'spec.ingress[0].destination.ports[0]'],
    ['port as float', 'spec.ingress[0].destination.ports', [80.5], 'spec.ingress[0].destination.ports[0]'],
    ['notPorts', 'spec.ingress[0].destination.notPorts', [22], null],
    ['source ports', 'spec.ingress[0].source.ports', ['1024:65535'], null],
    ['too many ports', 'spec.ingress[0].destination.ports', Array.from({ length: 51 }, (_, i) => i + 1), 'spec.ingress[0].destination.ports', 'at most 50'],
    ['numeric port without protocol', 'spec.ingress[0].protocol', undefined, 'spec.ingress[0].destination.ports', 'require protocol'],
    ['named port without protocol', 'spec.ingress[0]', { action: 'Allow', destination: { ports: ['http'] } }, null],
    ['ports with ICMP', 'spec.ingress[0].protocol', 'ICMP', 'spec.ingress[0].destination.ports'],
    // ICMP
    ['icmp with ICMP', 'spec.ingress[0]', { action: 'Allow', protocol: 'ICMP', icmp: { type: 8, code: 0 } }, null],
    ['icmp with ICMPv6', 'spec.ingress[0]', { action: 'Allow', protocol: 'ICMPv6', icmp: { type: 128 } }, null],
    ['icmp without protocol', 'spec.ingress[0]', { action: 'Allow', icmp: { type: 8 } }, 'spec.ingress[0].icmp'],
    ['icmp with TCP', 'spec.ingress[0]', { action: 'Allow', protocol: 'TCP', icmp: { type: 8 } }, 'spec.ingress[0].icmp'],
    ['icmp type 255', 'spec.ingress[0]', { action: 'Allow', protocol: 'ICMP', icmp: { type: 255 } }, 'spec.ingress[0].icmp.type'],
    ['icmp code 256', 'spec.ingress[0]', { action: 'Allow', protocol: 'ICMP', icmp: { type: 3, code: 256 } }, 'spec.ingress[0].icmp.code'],
    ['icmp code without type', 'spec.ingress[0]', { action: 'Allow', protocol: 'ICMP', icmp: { code: 0 } }, 'spec.ingress[0].icmp.code'],
    ['notICMP with ICMP', 'spec.ingress[0]', { action: 'Allow', protocol: 'ICMP', notICMP: { type: 8 } }, null],
    ['ICMP with ipVersion 6', 'spec.ingress[0]', { action: 'Allow', protocol: 'ICMP', ipVersion: 6 }, 'spec.ingress[0].protocol'],
    ['ICMPv6 with ipVersion 4', 'spec.ingress[0]', { action: 'Allow', protocol: 'ICMPv6', ipVersion: 4 }, 'spec.ingress[0].protocol'],
    ['notProtocol ICMP with ipVersion 6', 'spec.ingress[0]', { action: 'Allow', notProtocol: 'ICMP', ipVersion: 6 }, 'spec.ingress[0].notProtocol'],
    ['icmp type is a string', 'spec.ingress[0]', { action: 'Allow', protocol: 'ICMP', icmp: { type: '8' } }, 'spec.ingress[0].icmp.type', 'integer'],
    // nets
    ['nets', 'spec.ingress[0].source', { nets: ['10.0.0.0/8', '192.168.1.1'] }, null],
    ['nets must be strictly masked', 'spec.ingress[0].source', { nets: ['10.0.0.1/8'] }, 'spec.ingress[0].source.nets[0]', 'host bits'],
    ['notNets must be strictly masked', 'spec.ingress[0].source', { notNets: ['fd00::1/64'] }, 'spec.ingress[0].source.notNets[0]', 'host bits'],
    ['notICMP without protocol is accepted as Calico does', 'spec.ingress[0]', { action: 'Allow', notICMP: { type: 8 } }, null],
    ['notICMP type out of range', 'spec.ingress[0]', { action: 'Allow', protocol: 'ICMP', notICMP: { type: 300 } }, 'spec.ingress[0].notICMP.type'],
    ['nets invalid', 'spec.ingress[0].source', { nets: ['10.0.0.0/33'] }, 'spec.ingress[0].source.nets[0]'],
    ['nets garbage', 'spec.ingress[0].source', { nets: ['ten'] }, 'spec.ingress[0].source.nets[0]'],
    ['nets v6', 'spec.ingress[0].source', { nets: ['fd00::/8'] }, null],
    ['nets mixed families', 'spec.ingress[0].source', { nets: ['10.0.0.0/8', 'fd00::/8'] }, 'spec.ingress[0]', 'same IP family'],
    ['families differ between source and destination', 'spec.ingress[0]', { action: 'Allow', source: { nets: ['10.0.0.0/8'] }, destination: { nets: ['fd00::/64'] } }, 'spec.ingress[0]', 'same IP family'],
    ['nets v4 with ipVersion 6', 'spec.ingress[0]', { action: 'Allow', ipVersion: 6, source: { nets: ['10.0.0.0/8'] } }, 'spec.ingress[0]', 'ipVersion 6'],
    ['nets v6 with ipVersion 6', 'spec.ingress[0]', { action: 'Allow', ipVersion: 6, source: { nets: ['fd00::/8'] } }, null],
    ['notNets 0.0.0.0/0', 'spec.ingress[0].source', { notNets: ['0.0.0.0/0'] }, 'spec.ingress[0].source.notNets[0]'],
    ['notNets ::/0', 'spec.ingress[0].source', { notNets: ['::/0'] }, 'spec.ingress[0].source.notNets[0]'],
    ['notNets 10/8', 'spec.ingress[0].source', { notNets: ['10.0.0.0/8'] }, null],
    ['nets with a leading zero octet', 'spec.ingress[0].source', { nets: ['010.0.0.0/8'] }, 'spec.ingress[0].source.nets[0]'],
    // selectors in rules
    ['rule selector invalid', 'spec.ingress[0].source', { selector: 'a = b' }, 'spec.ingress[0].source.selector'],
    ['rule notSelector', 'spec.ingress[0].source', { notSelector: "app == 'x'" }, null],
    ['rule selector with global()', 'spec.ingress[0].source', { selector: 'global()' }, 'spec.ingress[0].source.selector'],
    ['rule namespaceSelector global()', 'spec.ingress[0].source', { namespaceSelector: 'global()' }, null],
    ['rule namespaceSelector global() combined', 'spec.ingress[0].source', { namespaceSelector: "global() && a == 'b'" }, 'spec.ingress[0].source.namespaceSelector', 'entire'],
    ['global( inside a string is fine', 'spec.ingress[0].source', { selector: "a == 'global()'" }, null],
    ['rule selector too long', 'spec.ingress[0].source', { selector: `a == '${'x'.repeat(1030)}'` }, 'spec.ingress[0].source.selector', 'limit'],
    ['serviceAccounts', 'spec.ingress[0].source', { serviceAccounts: { names: ['api', 'web'], selector: "team == 'a'" } }, null],
    ['serviceAccounts bad name', 'spec.ingress[0].source', { serviceAccounts: { names: ['API'] } }, 'spec.ingress[0].source.serviceAccounts.names[0]'],
    ['serviceAccounts unknown field', 'spec.ingress[0].source', { serviceAccounts: { name: 'api' } }, 'spec.ingress[0].source.serviceAccounts.name', 'unknown field'],
    ['entity rule unknown field', 'spec.ingress[0].destination.port', 80, 'spec.ingress[0].destination.port', 'unknown field'],
    // services
    ['egress destination services with namespace', 'spec', { egress: [{ action: 'Allow', destination: { services: { name: 'kube-dns', namespace: 'kube-system' } } }] }, null],
    ['GNP services without namespace', 'spec', { egress: [{ action: 'Allow', destination: { services: { name: 'kube-dns' } } }] }, 'spec.egress[0].destination.services.namespace'],
    ['services without name', 'spec', { egress: [{ action: 'Allow', destination: { services: { namespace: 'x' } } }] }, 'spec.egress[0].destination.services.name'],
    ['services with selector', 'spec', { egress: [{ action: 'Allow', destination: { selector: 'all()', services: { name: 'a', namespace: 'b' } } }] }, 'spec.egress[0].destination.selector'],
    ['services with nets', 'spec', { egress: [{ action: 'Allow', destination: { nets: ['10.0.0.0/8'], services: { name: 'a', namespace: 'b' } } }] }, 'spec.egress[0].destination.nets'],
    ['destination services with ports', 'spec', { egress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [53], services: { name: 'a', namespace: 'b' } } }] }, 'spec.egress[0].destination.ports'],
    ['services in egress source', 'spec', { egress: [{ action: 'Allow', source: { services: { name: 'a', namespace: 'b' } } }] }, 'spec.egress[0].source.services'],
    ['services in ingress destination', 'spec', { ingress: [{ action: 'Allow', destination: { services: { name: 'a', namespace: 'b' } } }] }, 'spec.ingress[0].destination.services'],
    ['services in ingress source', 'spec', { ingress: [{ action: 'Allow', source: { services: { name: 'a', namespace: 'b' } } }] }, null],
    // http
    ['http on Allow', 'spec.ingress[0].http', { methods: ['GET'], paths: [{ exact: '/health' }, { prefix: '/api' }] }, null],
    ['http on Deny', 'spec.ingress[0]', { action: 'Deny', http: { methods: ['GET'] } }, 'spec.ingress[0].http', 'Allow'],
    ['http with UDP', 'spec.ingress[0]', { action: 'Allow', protocol: 'UDP', http: { methods: ['GET'] } }, 'spec.ingress[0].http'],
    ['http in egress', 'spec', { egress: [{ action: 'Allow', http: { methods: ['GET'] } }] }, 'spec.egress[0].http'],
    ['http path with both', 'spec.ingress[0].http', { paths: [{ exact: '/a', prefix: '/b' }] }, 'spec.ingress[0].http.paths[0]'],
    ['http path without slash', 'spec.ingress[0].http', { paths: [{ exact: 'a' }] }, 'spec.ingress[0].http.paths[0]'],
    ['http path with ?', 'spec.ingress[0].http', { paths: [{ prefix: '/a?b' }] }, 'spec.ingress[0].http.paths[0]'],
    ['http duplicate methods', 'spec.ingress[0].http', { methods: ['GET', 'GET'] }, 'spec.ingress[0].http.methods'],
    ['rule metadata annotations', 'spec.ingress[0].metadata', { annotations: { 'example.com/why': 'because' } }, null],
    ['rule metadata bad annotation key', 'spec.ingress[0].metadata', { annotations: { 'a b': 'x' } }, 'spec.ingress[0].metadata.annotations["a b"]'],
  ]),
  ...cases('NetworkPolicy', np, [
    ['name with one dot', 'metadata.name', 'tier1.allow', null],
    ['knp.default. prefixed name', 'metadata.name', 'knp.default.allow.web', null],
    ['ossg.default. prefixed name', 'metadata.name', 'ossg.default.x', null],
    ['name with two dots', 'metadata.name', 'a.b.c', 'metadata.name'],
    ['name of 253 characters (Calico allows long labels here)', 'metadata.name', 'a'.repeat(253), null],
    ['name of 254 characters', 'metadata.name', 'a'.repeat(254), 'metadata.name'],
    ['name t.h.i.ng', 'metadata.name', 't.h.i.ng', 'metadata.name'],
    ['http in egress of a namespaced policy', 'spec', { egress: [{ action: 'Allow', http: { methods: ['GET'] } }], types: ['Ingress', 'Egress'] }, 'spec.egress[0].http'],
    ['global() in selector', 'spec.selector', 'global()', 'spec.selector'],
    ['global() in serviceAccountSelector', 'spec.serviceAccountSelector', 'global()', 'spec.serviceAccountSelector'],
    ['global() source ns and named destination ns', 'spec.ingress[0]', { action: 'Allow', source: { namespaceSelector: 'global()' }, destination: { namespaceSelector: "projectcalico.org/name == 'test'" } }, null],
    ['types Egress with only ingress rules', 'spec.types', ['Egress'], null],
    ['namespace with a dot', 'metadata.namespace', 'a.b', 'metadata.namespace'],
    ['namespaceSelector is not a NetworkPolicy field', 'spec.namespaceSelector', 'all()', 'spec.namespaceSelector', 'unknown field'],
    ['doNotTrack is not a NetworkPolicy field', 'spec.doNotTrack', true, 'spec.doNotTrack', 'unknown field'],
    ['services without namespace are fine in a namespaced policy', 'spec', { egress: [{ action: 'Allow', destination: { services: { name: 'db' } } }] }, null],
    ['egress with global() namespaceSelector', 'spec', { egress: [{ action: 'Allow', destination: { namespaceSelector: 'global()', selector: "role == 'dns'" } }] }, null],
    ['tier name valid', 'spec.tier', 'security', null],
    ['tier name too long', 'spec.tier', 'a'.repeat(64), 'spec.tier'],
  ]),
  ...cases('StagedNetworkPolicy', { ...np, kind: 'StagedNetworkPolicy' }, [
    ['stagedAction Set', 'spec.stagedAction', 'Set', null],
    ['stagedAction Learn', 'spec.stagedAction', 'Learn', null],
    ['stagedAction bogus', 'spec.stagedAction', 'Remove', 'spec.stagedAction'],
    ['stagedAction Delete with other fields', 'spec.stagedAction', 'Delete', 'spec.selector', 'stagedAction is Delete'],
    ['stagedAction Delete with only tier', 'spec', { stagedAction: 'Delete', tier: 'default' }, null],
  ]),
  ...cases('StagedGlobalNetworkPolicy', { ...gnp, kind: 'StagedGlobalNetworkPolicy' }, [
    ['stagedAction Delete with ingress', 'spec', { stagedAction: 'Delete', ingress: [{ action: 'Allow' }] }, 'spec.ingress'],
    ['doNotTrack rule still applies', 'spec.doNotTrack', true, 'spec.applyOnForward'],
  ]),
];

const tier = { apiVersion: V3, kind: 'Tier', metadata: { name: 'security' }, spec: { order: 100 } };
const profile = { apiVersion: V3, kind: 'Profile', metadata: { name: 'dev' }, spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], labelsToApply: { stage: 'dev' } } };

export const TIER_PROFILE_CASES: ValidationCase[] = [
  ...cases('Tier', tier, [
    ['defaultAction Pass', 'spec.defaultAction', 'Pass', null],
    ['defaultAction Allow', 'spec.defaultAction', 'Allow', 'spec.defaultAction'],
    ['dotted name', 'metadata.name', 'sec.urity', 'metadata.name'],
    ['name too long', 'metadata.name', 'a'.repeat(64), 'metadata.name'],
    ['default tier with its order', 'metadata.name', 'default', 'spec.order', 'order 1000000'],
    ['kube-admin tier with wrong order', 'metadata.name', 'kube-admin', 'spec.order'],
    ['unknown field', 'spec.action', 'Deny', 'spec.action', 'unknown field'],
  ]),
  { name: 'Tier: default with fixed order and action', doc: { apiVersion: V3, kind: 'Tier', metadata: { name: 'default' }, spec: { order: 1000000, defaultAction: 'Deny' } }, path: null },
  { name: 'Tier: default with action Pass', doc: { apiVersion: V3, kind: 'Tier', metadata: { name: 'default' }, spec: { order: 1000000, defaultAction: 'Pass' } }, path: 'spec.defaultAction' },
  { name: 'Tier: kube-baseline with fixed order', doc: { apiVersion: V3, kind: 'Tier', metadata: { name: 'kube-baseline' }, spec: { order: 10000000, defaultAction: 'Pass' } }, path: null },
  ...cases('Profile', profile, [
    ['dotted name', 'metadata.name', 'kns.default', null],
    ['bad labelsToApply key', 'spec.labelsToApply', { 'a b': 'c' }, 'spec.labelsToApply["a b"]'],
    ['rule with bad action', 'spec.ingress[0].action', 'Accept', 'spec.ingress[0].action'],
    ['services in a profile rule need no namespace', 'spec.egress[0]', { action: 'Allow', destination: { services: { name: 'x', namespace: 'y' } } }, null],
    ['profile with types', 'spec.types', ['Ingress'], 'spec.types', 'unknown field'],
  ]),
];

const pool = { apiVersion: V3, kind: 'IPPool', metadata: { name: 'pool-1' }, spec: { cidr: '10.65.0.0/16' } };

export const POOL_CASES: ValidationCase[] = [
  ...cases('IPPool', pool, [
    ['cidr missing', 'spec.cidr', undefined, 'spec.cidr', 'required'],
    ['cidr not masked', 'spec.cidr', '10.65.0.1/16', 'spec.cidr', 'host bits'],
    ['cidr bare IP', 'spec.cidr', '10.65.0.1', 'spec.cidr'],
    ['cidr garbage', 'spec.cidr', '10.65.0.0/40', 'spec.cidr'],
    ['cidr link-local', 'spec.cidr', '169.254.0.0/16', 'spec.cidr', 'link-local'],
    ['cidr contains link-local', 'spec.cidr', '128.0.0.0/1', 'spec.cidr', 'link-local'],
    ['cidr v6 link-local', 'spec.cidr', 'fe80::/64', 'spec.cidr', 'link-local'],
    ['cidr v6', 'spec.cidr', 'fd00:10:65::/48', null],
    ['blockSize 20', 'spec.blockSize', 20, null],
    ['blockSize 19', 'spec.blockSize', 19, 'spec.blockSize'],
    ['blockSize 33', 'spec.blockSize', 33, 'spec.blockSize'],
    ['blockSize bigger than the pool', 'spec', { cidr: '10.65.0.0/28', blockSize: 26 }, 'spec.blockSize'],
    ['blockSize bigger than a disabled pool', 'spec', { cidr: '10.65.0.0/28', blockSize: 26, disabled: true }, null],
    ['v6 blockSize 116', 'spec', { cidr: 'fd00::/48', blockSize: 116 }, null],
    ['v6 blockSize 115', 'spec', { cidr: 'fd00::/48', blockSize: 115 }, 'spec.blockSize'],
    ['v6 blockSize 26', 'spec', { cidr: 'fd00::/48', blockSize: 26 }, 'spec.blockSize'],
    ['blockSize not an integer', 'spec.blockSize', 26.5, 'spec.blockSize'],
    ['ipipMode Always', 'spec.ipipMode', 'Always', null],
    ['ipipMode CrossSubnet', 'spec.ipipMode', 'CrossSubnet', null],
    ['ipipMode bogus', 'spec.ipipMode', 'Sometimes', 'spec.ipipMode'],
    ['ipipMode on IPv6', 'spec', { cidr: 'fd00::/48', ipipMode: 'Always' }, 'spec.ipipMode'],
    ['vxlanMode on IPv6', 'spec', { cidr: 'fd00::/48', vxlanMode: 'Always' }, null],
    ['ipip and vxlan together', 'spec', { cidr: '10.65.0.0/16', ipipMode: 'Always', vxlanMode: 'CrossSubnet' }, 'spec.vxlanMode'],
    ['vxlanMode bogus', 'spec.vxlanMode', 'On', 'spec.vxlanMode'],
    ['natOutgoing string', 'spec.natOutgoing', 'true', 'spec.natOutgoing'],
    ['nodeSelector', 'spec.nodeSelector', "zone == 'a'", null],
    ['nodeSelector invalid', 'spec.nodeSelector', 'zone ==', 'spec.nodeSelector'],
    ['nodeSelector with global()', 'spec.nodeSelector', 'global()', 'spec.nodeSelector'],
    ['namespaceSelector with Tunnel use', 'spec.namespaceSelector', "team == 'a'", 'spec.namespaceSelector'],
    ['namespaceSelector with Workload only', 'spec', { cidr: '10.65.0.0/16', allowedUses: ['Workload'], namespaceSelector: "team == 'a'" }, null],
    ['allowedUses bogus', 'spec.allowedUses', ['Pods'], 'spec.allowedUses[0]'],
    ['allowedUses duplicate', 'spec.allowedUses', ['Workload', 'Workload'], 'spec.allowedUses[1]'],
    ['LoadBalancer pool', 'spec', { cidr: '10.70.0.0/24', allowedUses: ['LoadBalancer'] }, null],
    ['LoadBalancer with Workload', 'spec', { cidr: '10.70.0.0/24', allowedUses: ['LoadBalancer', 'Workload'] }, 'spec.allowedUses'],
    ['LoadBalancer with VXLAN', 'spec', { cidr: '10.70.0.0/24', allowedUses: ['LoadBalancer'], vxlanMode: 'Always' }, 'spec.allowedUses'],
    ['LoadBalancer with nodeSelector', 'spec', { cidr: '10.70.0.0/24', allowedUses: ['LoadBalancer'], nodeSelector: "a == 'b'" }, 'spec.nodeSelector'],
    ['LoadBalancer with disableBGPExport', 'spec', { cidr: '10.70.0.0/24', allowedUses: ['LoadBalancer'], disableBGPExport: true }, 'spec.disableBGPExport'],
    ['assignmentMode Manual', 'spec.assignmentMode', 'Manual', null],
    ['assignmentMode bogus', 'spec.assignmentMode', 'Auto', 'spec.assignmentMode'],
    ['deprecated ipip field', 'spec.ipip', { enabled: true }, 'spec.ipip', 'unknown field'],
    ['bad name', 'metadata.name', 'Pool_1', 'metadata.name'],
  ]),
  ...cases('IPReservation', { apiVersion: V3, kind: 'IPReservation', metadata: { name: 'res' }, spec: { reservedCIDRs: ['10.65.0.0/28', '10.65.1.5'] } }, [
    ['bad cidr', 'spec.reservedCIDRs', ['10.65.0.0/28', 'x'], 'spec.reservedCIDRs[1]'],
    ['cidrs not a list', 'spec.reservedCIDRs', '10.0.0.0/8', 'spec.reservedCIDRs'],
  ]),
  ...cases('IPAMConfiguration', { apiVersion: V3, kind: 'IPAMConfiguration', metadata: { name: 'default' }, spec: { strictAffinity: true, maxBlocksPerHost: 4 } }, [
    ['other name', 'metadata.name', 'mine', 'metadata.name'],
    ['negative maxBlocksPerHost', 'spec.maxBlocksPerHost', -1, 'spec.maxBlocksPerHost'],
    // Calico's validator and CRD accept it (the limit then only applies once strictAffinity is on)
    ['maxBlocksPerHost without strictAffinity', 'spec.strictAffinity', false, null],
    ['autoAllocateBlocks false without strictAffinity', 'spec', { strictAffinity: false, autoAllocateBlocks: false }, 'spec.autoAllocateBlocks'],
    ['autoAllocateBlocks false with strictAffinity', 'spec', { strictAffinity: true, autoAllocateBlocks: false }, null],
    ['ipCooldownSeconds 1201', 'spec.ipCooldownSeconds', 1201, 'spec.ipCooldownSeconds'],
    ['ipCooldownSeconds 1200', 'spec.ipCooldownSeconds', 1200, null],
    ['kubeVirtVMAddressPersistence', 'spec.kubeVirtVMAddressPersistence', 'Disabled', null],
    ['kubeVirtVMAddressPersistence bogus', 'spec.kubeVirtVMAddressPersistence', 'Off', 'spec.kubeVirtVMAddressPersistence'],
  ]),
];

const wep = {
  apiVersion: V3,
  kind: 'WorkloadEndpoint',
  metadata: { name: 'node1-k8s-web--1-eth0', namespace: 'prod', labels: { app: 'web' } },
  spec: { orchestrator: 'k8s', node: 'node1', pod: 'web-1', endpoint: 'eth0', interfaceName: 'cali0123456789a', ipNetworks: ['10.65.0.5/32'], profiles: ['kns.prod'], mac: 'ee:ee:ee:ee:ee:ee', ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] },
};
const hep = { apiVersion: V3, kind: 'HostEndpoint', metadata: { name: 'node1-eth0', labels: { role: 'host' } }, spec: { node: 'node1', interfaceName: 'eth0', expectedIPs: ['192.168.0.1'] } };

export const ENDPOINT_CASES: ValidationCase[] = [
  ...cases('WorkloadEndpoint', wep, [
    ['ipNetworks /24', 'spec.ipNetworks', ['10.65.0.0/24'], 'spec.ipNetworks[0]', '/32'],
    ['ipNetworks bare IP', 'spec.ipNetworks', ['10.65.0.5'], null],
    ['ipNetworks /128', 'spec.ipNetworks', ['fd00::5/128'], null],
    ['ipNetworks /64', 'spec.ipNetworks', ['fd00::/64'], 'spec.ipNetworks[0]'],
    ['ipNATs inside', 'spec.ipNATs', [{ internalIP: '10.65.0.5', externalIP: '172.16.0.5' }], null],
    ['ipNATs outside', 'spec.ipNATs', [{ internalIP: '10.65.0.6', externalIP: '172.16.0.5' }], 'spec.ipNATs[0].internalIP'],
    ['ipNATs family mismatch', 'spec.ipNATs', [{ internalIP: '10.65.0.5', externalIP: 'fd00::1' }], 'spec.ipNATs[0].externalIP'],
    ['ipv4Gateway v6', 'spec.ipv4Gateway', 'fd00::1', 'spec.ipv4Gateway'],
    ['ipv6Gateway v6', 'spec.ipv6Gateway', 'fd00::1', null],
    ['interface name too long', 'spec.interfaceName', 'cali0123456789abc', 'spec.interfaceName'],
    ['bad mac', 'spec.mac', 'ee:ee:ee', 'spec.mac'],
    ['port without name', 'spec.ports', [{ protocol: 'TCP', port: 80 }], 'spec.ports[0].name'],
    ['port without name but hostPort', 'spec.ports', [{ protocol: 'TCP', port: 80, hostPort: 8080 }], null],
    ['port protocol ICMP', 'spec.ports', [{ name: 'p', protocol: 'ICMP', port: 80 }], 'spec.ports[0].protocol'],
    ['port 0', 'spec.ports', [{ name: 'p', protocol: 'UDP', port: 0 }], 'spec.ports[0].port'],
    ['port name invalid', 'spec.ports', [{ name: 'Http', protocol: 'UDP', port: 53 }], 'spec.ports[0].name'],
    ['bad profile name', 'spec.profiles', ['Bad'], 'spec.profiles[0]'],
    ['no namespace is defaulted by the client, not required here', 'metadata.namespace', undefined, null],
    ['unknown field', 'spec.ipAddress', '10.0.0.1', 'spec.ipAddress', 'unknown field'],
  ]),
  ...cases('HostEndpoint', hep, [
    ['interface *', 'spec.interfaceName', '*', null],
    ['no node', 'spec.node', undefined, 'spec.node'],
    ['no interface nor IPs', 'spec', { node: 'node1' }, 'spec'],
    ['only expectedIPs', 'spec', { node: 'node1', expectedIPs: ['10.0.0.1'] }, null],
    ['bad expected IP', 'spec.expectedIPs', ['10.0.0.0/8'], 'spec.expectedIPs[0]'],
    ['port', 'spec.ports', [{ name: 'ssh', protocol: 'TCP', port: 22 }], null],
    ['port protocol bogus', 'spec.ports', [{ name: 'ssh', protocol: 'TCPX', port: 22 }], 'spec.ports[0].protocol'],
    ['port 70000', 'spec.ports', [{ name: 'ssh', protocol: 'TCP', port: 70000 }], 'spec.ports[0].port'],
    ['port without name', 'spec.ports', [{ protocol: 'TCP', port: 22 }], 'spec.ports[0].name'],
    ['interface with space', 'spec.interfaceName', 'eth 0', 'spec.interfaceName'],
  ]),
  ...cases('NetworkSet', { apiVersion: V3, kind: 'NetworkSet', metadata: { name: 'ext', namespace: 'prod', labels: { role: 'ext' } }, spec: { nets: ['198.51.100.0/24', '2001:db8::/32'] } }, [
    ['bad net', 'spec.nets', ['198.51.100.0/24', '300.0.0.0/8'], 'spec.nets[1]'],
    ['reserved namespace label', 'metadata.labels', { 'projectcalico.org/namespace': 'x' }, 'metadata.labels["projectcalico.org/namespace"]'],
  ]),
  ...cases('GlobalNetworkSet', { apiVersion: V3, kind: 'GlobalNetworkSet', metadata: { name: 'threats' }, spec: { nets: ['192.0.2.1', '203.0.113.0/24'] } }, [
    ['namespace on a global set', 'metadata.namespace', 'x', 'metadata.namespace'],
    ['nets not a list', 'spec.nets', 'x', 'spec.nets'],
  ]),
  ...cases('Node', { apiVersion: V3, kind: 'Node', metadata: { name: 'node1' }, spec: { bgp: { ipv4Address: '192.168.0.1/24', asNumber: 64512 } } }, [
    ['empty bgp', 'spec.bgp', {}, 'spec.bgp'],
    ['ipv4Address v6', 'spec.bgp.ipv4Address', 'fd00::1/64', 'spec.bgp.ipv4Address'],
    ['routeReflectorClusterID', 'spec.bgp.routeReflectorClusterID', '224.0.0.1', null],
    ['routeReflectorClusterID invalid', 'spec.bgp.routeReflectorClusterID', 'cluster-1', 'spec.bgp.routeReflectorClusterID'],
    ['dotted AS number', 'spec.bgp.asNumber', '1.10', null],
    ['vxlan tunnel mac', 'spec.vxlanTunnelMACAddr', '66:6c:61:62:00:01', null],
    ['vxlan tunnel mac invalid', 'spec.vxlanTunnelMACAddr', '66:6c', 'spec.vxlanTunnelMACAddr'],
    ['address type bogus', 'spec.addresses', [{ address: '10.0.0.1', type: 'Public' }], 'spec.addresses[0].type'],
  ]),
];

const peer = { apiVersion: V3, kind: 'BGPPeer', metadata: { name: 'tor' }, spec: { peerIP: '192.168.0.254', asNumber: 64567 } };

export const BGP_CASES: ValidationCase[] = [
  ...cases('BGPPeer', peer, [
    ['peerIP with port', 'spec.peerIP', '192.168.0.254:1179', null],
    ['peerIP v6 with port', 'spec.peerIP', '[fd00::1]:179', null],
    ['peerIP invalid', 'spec.peerIP', '192.168.0', 'spec.peerIP'],
    ['peerIP v6 port 500', 'spec.peerIP', '[9000::]:500', null],
    ['peerIP v4 port 65536', 'spec.peerIP', '192.168.0.0:65536', 'spec.peerIP'],
    ['peerIP v4 port 0', 'spec.peerIP', '192.168.0.0:0', 'spec.peerIP'],
    ['peerIP v4 bad octet with port', 'spec.peerIP', '192.168.0.330:170', 'spec.peerIP'],
    ['peerIP v6 port 98956', 'spec.peerIP', '[9000::]:98956', 'spec.peerIP'],
    ['peerIP v4 without port number', 'spec.peerIP', '192.168.0.0:', 'spec.peerIP'],
    ['peerIP v6 without port number', 'spec.peerIP', '[9000::]:', 'spec.peerIP'],
    ['peerIP v6 port 0', 'spec.peerIP', '[9000::]:0', 'spec.peerIP'],
    ['peerIP v6 bad group', 'spec.peerIP', '[9000::FFFFF]:170', 'spec.peerIP'],
    ['peerIP port without IP', 'spec.peerIP', ':8552', 'spec.peerIP'],
    ['peerIP empty brackets', 'spec.peerIP', '[]:8552', 'spec.peerIP'],
    ['nodeSelector invalid', 'spec', { peerIP: '10.0.0.1', asNumber: 1, nodeSelector: "kubernetes.io/hostname: == 'node-4'" }, 'spec.nodeSelector'],
    ['sourceAddress None', 'spec.sourceAddress', 'None', null],
    ['sourceAddress rubbish', 'spec.sourceAddress', 'rubbish', 'spec.sourceAddress'],
    ['maxRestartTime', 'spec.maxRestartTime', '10s', null],
    ['reachableBy without peerIP', 'spec', { peerSelector: 'all()', reachableBy: '10.0.0.1' }, 'spec.reachableBy'],
    ['reachableBy v6 with v6 peer and port', 'spec', { peerIP: '[fd00::1]:179', asNumber: 1, reachableBy: 'fd00::fe' }, null],
    ['reachableBy v4 with v6 peer and port', 'spec', { peerIP: '[fd00::1]:179', asNumber: 1, reachableBy: '10.0.0.1' }, 'spec.reachableBy'],
    ['reachableBy invalid', 'spec.reachableBy', '10.0.0', 'spec.reachableBy'],
    ['peerIP and peerSelector', 'spec.peerSelector', "rr == 'true'", 'spec.peerSelector'],
    ['peerSelector with asNumber', 'spec', { peerSelector: "rr == 'true'", asNumber: 64512 }, 'spec.asNumber'],
    ['peerSelector only', 'spec', { peerSelector: "rr == 'true'", nodeSelector: '!has(rr)' }, null],
    // Calico accepts a peer with neither (it matches no peer until one is set)
    ['neither peerIP nor peerSelector', 'spec', { asNumber: 64512 }, null],
    ['node and nodeSelector', 'spec', { peerIP: '10.0.0.1', asNumber: 1, node: 'n1', nodeSelector: 'all()' }, 'spec.nodeSelector'],
    ['asNumber too large', 'spec.asNumber', 4294967296, 'spec.asNumber'],
    ['keepOriginalNextHop with nextHopMode', 'spec', { peerIP: '10.0.0.1', asNumber: 1, keepOriginalNextHop: true, nextHopMode: 'Keep' }, 'spec.nextHopMode'],
    ['nextHopMode bogus', 'spec.nextHopMode', 'Other', 'spec.nextHopMode'],
    ['sourceAddress bogus', 'spec.sourceAddress', 'Any', 'spec.sourceAddress'],
    ['reachableBy same family', 'spec.reachableBy', '192.168.0.1', null],
    ['reachableBy other family', 'spec.reachableBy', 'fd00::1', 'spec.reachableBy'],
    ['localWorkloadSelector with peerIP', 'spec.localWorkloadSelector', "app == 'lb'", 'spec.localWorkloadSelector'],
    ['localWorkloadSelector without asNumber', 'spec', { localWorkloadSelector: "app == 'lb'" }, 'spec.asNumber'],
    ['keepaliveTime', 'spec.keepaliveTime', '30s', null],
    ['keepaliveTime invalid', 'spec.keepaliveTime', 'thirty', 'spec.keepaliveTime'],
    ['ttlSecurity 256', 'spec.ttlSecurity', 256, 'spec.ttlSecurity'],
    ['password secret', 'spec.password', { secretKeyRef: { name: 'bgp', key: 'pw' } }, null],
    ['password secret without key', 'spec.password', { secretKeyRef: { name: 'bgp' } }, 'spec.password.secretKeyRef.key'],
  ]),
  ...cases('BGPConfiguration', { apiVersion: V3, kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { logSeverityScreen: 'Info', nodeToNodeMeshEnabled: false, asNumber: 63400, serviceClusterIPs: [{ cidr: '10.96.0.0/12' }] } }, [
    ['other singleton name', 'metadata.name', 'global', 'metadata.name'],
    ['per-node name', 'metadata', { name: 'node.node1' }, 'spec.nodeToNodeMeshEnabled'],
    ['per-node name with log level only', 'spec', { logSeverityScreen: 'Debug' }, null],
    ['empty service cidr entries', 'spec', { serviceClusterIPs: [{}], serviceLoadBalancerIPs: [{}], serviceExternalIPs: [{}] }, null],
    ['log level bogus', 'spec.logSeverityScreen', 'Verbose', 'spec.logSeverityScreen'],
    ['bad service cidr', 'spec.serviceClusterIPs', [{ cidr: 'x' }], 'spec.serviceClusterIPs[0].cidr'],
    ['communities used', 'spec', { communities: [{ name: 'c1', value: '64512:100' }], prefixAdvertisements: [{ cidr: '10.0.0.0/8', communities: ['c1', '64512:200:300'] }] }, null],
    ['community value invalid', 'spec', { communities: [{ name: 'c1', value: '64512' }], prefixAdvertisements: [{ cidr: '10.0.0.0/8', communities: ['c1'] }] }, 'spec.communities[0].value'],
    ['communities unused', 'spec', { communities: [{ name: 'c1', value: '64512:100' }] }, 'spec.communities'],
    ['undefined community', 'spec', { prefixAdvertisements: [{ cidr: '10.0.0.0/8', communities: ['nope'] }] }, 'spec.prefixAdvertisements[0].communities[0]'],
    ['mesh password with mesh disabled', 'spec.nodeMeshPassword', { secretKeyRef: { name: 'a', key: 'b' } }, 'spec.nodeMeshPassword'],
    ['listenPort 0', 'spec.listenPort', 0, 'spec.listenPort'],
    ['bindMode', 'spec.bindMode', 'NodeIP', null],
  ]),
  ...cases('BGPFilter', { apiVersion: V3, kind: 'BGPFilter', metadata: { name: 'f' }, spec: { exportV4: [{ action: 'Accept', matchOperator: 'In', cidr: '10.0.0.0/8', prefixLength: { min: 16, max: 24 } }], importV6: [{ action: 'Reject', interface: 'eth*' }] } }, [
    ['v6 cidr in a v4 rule', 'spec.exportV4[0].cidr', 'fd00::/8', 'spec.exportV4[0].cidr'],
    ['cidr without operator', 'spec.exportV4[0].matchOperator', undefined, 'spec.exportV4[0].matchOperator'],
    ['bad action', 'spec.exportV4[0].action', 'Drop', 'spec.exportV4[0].action'],
    ['prefix min below cidr', 'spec.exportV4[0].prefixLength.min', 4, 'spec.exportV4[0].prefixLength.min'],
    ['prefix max above 32', 'spec.exportV4[0].prefixLength.max', 33, 'spec.exportV4[0].prefixLength.max'],
    ['source bogus', 'spec.exportV4[0].source', 'Peers', 'spec.exportV4[0].source'],
  ]),
  ...cases('FelixConfiguration', { apiVersion: V3, kind: 'FelixConfiguration', metadata: { name: 'default' }, spec: { logSeverityScreen: 'Info', vxlanEnabled: true, bpfLogLevel: 'Off', failsafeInboundHostPorts: [{ protocol: 'TCP', port: 22 }] } }, [
    ['per-node', 'metadata.name', 'node.node1', null],
    ['other name without nodeSelector', 'metadata.name', 'custom', 'metadata.name'],
    ['other name with nodeSelector', 'metadata', { name: 'custom' }, 'metadata.name'],
    ['nodeSelector on default', 'spec.nodeSelector', "a == 'b'", 'spec.nodeSelector'],
    ['vxlanEnabled string', 'spec.vxlanEnabled', 'true', 'spec.vxlanEnabled'],
    ['failsafe port 0', 'spec.failsafeInboundHostPorts', [{ protocol: 'TCP', port: 0 }], 'spec.failsafeInboundHostPorts[0].port'],
    ['bad refresh interval', 'spec.routeRefreshInterval', 'often', 'spec.routeRefreshInterval'],
  ]),
  { name: 'BGPConfiguration: per-node communities and prefixAdvertisements', doc: { apiVersion: V3, kind: 'BGPConfiguration', metadata: { name: 'node.node1' }, spec: { communities: [{ name: 'c1', value: '64512:100' }], prefixAdvertisements: [{ cidr: '10.0.0.0/8', communities: ['c1'] }] } }, path: null },
  { name: 'FelixConfiguration: custom name with nodeSelector', doc: { apiVersion: V3, kind: 'FelixConfiguration', metadata: { name: 'edge' }, spec: { nodeSelector: "zone == 'edge'" } }, path: null },
  ...cases('KubeControllersConfiguration', { apiVersion: V3, kind: 'KubeControllersConfiguration', metadata: { name: 'default' }, spec: { logSeverityScreen: 'Info', controllers: { node: { reconcilerPeriod: '5m' } } } }, [
    ['other name', 'metadata.name', 'kcc', 'metadata.name'],
    ['every controller', 'spec.controllers', { node: { reconcilerPeriod: '5m', syncLabels: 'Enabled', leakGracePeriod: '15m', hostEndpoint: { autoCreate: 'Disabled', createDefaultHostEndpoint: 'Enabled', templates: [{ generateName: 'x', interfaceCIDRs: ['10.0.0.0/8'], nodeSelector: 'all()', labels: { a: 'b' } }] } }, policy: { reconcilerPeriod: '5m' }, workloadEndpoint: { reconcilerPeriod: '5m' }, serviceAccount: { reconcilerPeriod: '5m' }, namespace: { reconcilerPeriod: '5m' }, loadBalancer: { assignIPs: 'AllServices' } }, null],
    ['unknown controller', 'spec.controllers.nodes', { reconcilerPeriod: '5m' }, 'spec.controllers.nodes'],
    ['unknown controller field', 'spec.controllers.node.period', '5m', 'spec.controllers.node.period'],
  ]),
  ...cases('CalicoNodeStatus', { apiVersion: V3, kind: 'CalicoNodeStatus', metadata: { name: 'node1-status' }, spec: { node: 'node1', classes: ['Agent', 'BGP', 'Routes'], updatePeriodSeconds: 10 } }, [
    ['unknown class', 'spec.classes', ['Agent', 'Disk'], 'spec.classes[1]'],
    ['bad node name', 'spec.node', 'Node_1', 'spec.node'],
    ['unknown field', 'spec.period', 10, 'spec.period'],
  ]),
  ...cases('ClusterInformation', { apiVersion: V3, kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { clusterGUID: 'abc', datastoreReady: true } }, [
    ['other name', 'metadata.name', 'info', 'metadata.name'],
    ['datastoreReady string', 'spec.datastoreReady', 'yes', 'spec.datastoreReady'],
  ]),
];

export const DOCUMENT_CASES: ValidationCase[] = [
  { name: 'document: unknown kind', doc: { apiVersion: V3, kind: 'Pool', metadata: { name: 'x' }, spec: {} }, path: 'kind', message: 'unknown kind' },
  { name: 'document: missing kind', doc: { apiVersion: V3, metadata: { name: 'x' } }, path: 'kind' },
  { name: 'document: wrong apiVersion', doc: { apiVersion: 'projectcalico.org/v2', kind: 'IPPool', metadata: { name: 'x' }, spec: { cidr: '10.0.0.0/8' } }, path: 'apiVersion' },
  { name: 'document: missing metadata', doc: { apiVersion: V3, kind: 'IPPool', spec: { cidr: '10.0.0.0/8' } }, path: 'metadata' },
  { name: 'document: missing name', doc: { apiVersion: V3, kind: 'IPPool', metadata: {}, spec: { cidr: '10.0.0.0/8' } }, path: 'metadata.name' },
  { name: 'document: spec is a list', doc: { apiVersion: V3, kind: 'IPPool', metadata: { name: 'x' }, spec: [] }, path: 'spec', message: 'must be an object' },
  { name: 'document: unknown metadata field', doc: { apiVersion: V3, kind: 'IPPool', metadata: { name: 'x', label: {} }, spec: { cidr: '10.0.0.0/8' } }, path: 'metadata.label' },
  { name: 'document: KubernetesNetworkPolicy is not a manifest kind', doc: { apiVersion: V3, kind: 'KubernetesNetworkPolicy', metadata: { name: 'x' }, spec: {} }, path: 'kind' },
];

const knp = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'allow-frontend', namespace: 'shop' },
  spec: { podSelector: { matchLabels: { app: 'backend' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'frontend' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }] },
};

export const K8S_CASES: ValidationCase[] = [
  ...cases('k8s NetworkPolicy', knp, [
    ['empty podSelector', 'spec.podSelector', {}, null],
    ['named port', 'spec.ingress[0].ports[0].port', 'http', null],
    ['named port invalid', 'spec.ingress[0].ports[0].port', 'HTTP_1', 'spec.ingress[0].ports[0].port'],
    ['port 0', 'spec.ingress[0].ports[0].port', 0, 'spec.ingress[0].ports[0].port'],
    ['endPort', 'spec.ingress[0].ports[0].endPort', 8090, null],
    ['endPort below port', 'spec.ingress[0].ports[0].endPort', 80, 'spec.ingress[0].ports[0].endPort'],
    ['endPort with named port', 'spec.ingress[0].ports[0]', { port: 'http', endPort: 90 }, 'spec.ingress[0].ports[0].endPort'],
    ['protocol ICMP', 'spec.ingress[0].ports[0].protocol', 'ICMP', 'spec.ingress[0].ports[0].protocol'],
    ['ipBlock with except', 'spec.ingress[0].from', [{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } }], null],
    ['ipBlock except outside', 'spec.ingress[0].from', [{ ipBlock: { cidr: '172.17.0.0/16', except: ['10.0.0.0/24'] } }], 'spec.ingress[0].from[0].ipBlock.except[0]'],
    ['ipBlock with podSelector', 'spec.ingress[0].from', [{ ipBlock: { cidr: '172.17.0.0/16' }, podSelector: {} }], 'spec.ingress[0].from[0].ipBlock'],
    ['empty peer', 'spec.ingress[0].from', [{}], 'spec.ingress[0].from[0]'],
    ['matchExpressions In without values', 'spec.podSelector', { matchExpressions: [{ key: 'app', operator: 'In' }] }, 'spec.podSelector.matchExpressions[0].values'],
    ['matchExpressions bad operator', 'spec.podSelector', { matchExpressions: [{ key: 'app', operator: 'Has' }] }, 'spec.podSelector.matchExpressions[0].operator'],
    ['policyTypes bogus', 'spec.policyTypes', ['Both'], 'spec.policyTypes[0]'],
    ['unknown field in rule', 'spec.ingress[0].source', [], 'spec.ingress[0].source', 'unknown field'],
    ['egress rule', 'spec.egress', [{ to: [{ namespaceSelector: {} }], ports: [{ protocol: 'UDP', port: 53 }] }], null],
  ]),
  ...cases('k8s Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'a' } } }, [
    ['dotted name', 'metadata.name', 'a.b', 'metadata.name'],
    ['status is accepted', 'status', { phase: 'Active' }, null],
  ]),
];

export const ALL_CASES: ValidationCase[] = [...DOCUMENT_CASES, ...POLICY_CASES, ...TIER_PROFILE_CASES, ...POOL_CASES, ...ENDPOINT_CASES, ...BGP_CASES, ...K8S_CASES];
