import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CniCode, CniError, errorJson, negotiateVersion, parseResult, renderResult, SUPPORTED_VERSIONS, versionJson, type CniResult } from '../../src/cni/cni-spec.js';

/** The result JSON of each spec version, exactly, for one dual-stack attachment. */

const result: CniResult = {
  interfaces: [
    { name: 'cali0761ccbeace', mac: 'ee:ee:ee:ee:ee:ee', mtu: 1450 },
    { name: 'eth0', mac: '02:11:22:33:44:55', sandbox: '/run/netns/p1', mtu: 1450 },
  ],
  ips: [{ address: '10.65.0.5/32', interface: 1 }, { address: 'fd00::5/128', interface: 1 }],
  routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }, { dst: '::/0', gw: 'fe80::ecee:eeff:feee:eeee' }],
  dns: { nameservers: ['10.96.0.10'] },
};

const legacyIps = [
  { version: '4', interface: 1, address: '10.65.0.5/32' },
  { version: '6', interface: 1, address: 'fd00::5/128' },
];
const ifaces = [{ name: 'cali0761ccbeace', mac: 'ee:ee:ee:ee:ee:ee' }, { name: 'eth0', mac: '02:11:22:33:44:55', sandbox: '/run/netns/p1' }];

describe('result JSON per spec version', () => {
  for (const v of ['0.3.0', '0.3.1', '0.4.0'] as const) {
    test(`${v}: ips carry "version"; no interface mtu`, () => {
      assert.deepEqual(renderResult(v, result), { cniVersion: v, interfaces: ifaces, ips: legacyIps, routes: result.routes, dns: result.dns });
    });
  }
  test('1.0.0: no "version" on ips; no interface mtu', () => {
    assert.deepEqual(renderResult('1.0.0', result), {
      cniVersion: '1.0.0', interfaces: ifaces,
      ips: [{ interface: 1, address: '10.65.0.5/32' }, { interface: 1, address: 'fd00::5/128' }],
      routes: result.routes, dns: result.dns,
    });
  });
  test('1.1.0: interfaces carry mtu', () => {
    const r = renderResult('1.1.0', result);
    assert.deepEqual(r['interfaces'], [{ ...ifaces[0], mtu: 1450 }, { ...ifaces[1], mtu: 1450 }]);
    assert.deepEqual(r['ips'], [{ interface: 1, address: '10.65.0.5/32' }, { interface: 1, address: 'fd00::5/128' }]);
  });
  test('an IPAM result (no interfaces) omits the key; every version parses back', () => {
    const ipamOnly = { ...result, interfaces: [], ips: [{ address: '10.65.0.5/32' }], routes: [] };
    assert.equal('interfaces' in renderResult('1.0.0', ipamOnly), false);
    assert.equal('routes' in renderResult('1.0.0', ipamOnly), false);
    for (const v of SUPPORTED_VERSIONS) {
      const back = parseResult(JSON.parse(JSON.stringify(renderResult(v, result))));
      assert.deepEqual(back.ips, result.ips);
      assert.deepEqual(back.routes, result.routes);
    }
  });
});

describe('versions and errors', () => {
  test('negotiation: cniVersion, or the highest supported of cniVersions', () => {
    assert.equal(negotiateVersion('0.4.0', undefined), '0.4.0');
    assert.equal(negotiateVersion('1.0.0', ['1.0.0', '1.1.0', '9.9.9']), '1.1.0');
    assert.throws(() => negotiateVersion('0.2.0', undefined), (e: CniError) => e.code === CniCode.IncompatibleVersion && /0\.2\.0.*not supported/.test(e.message));
    assert.throws(() => negotiateVersion(undefined, undefined), (e: CniError) => e.code === CniCode.InvalidConfig);
    assert.throws(() => negotiateVersion('1.0.0', ['2.0.0']), (e: CniError) => e.code === CniCode.IncompatibleVersion);
  });
  test('error and VERSION JSON', () => {
    assert.equal(errorJson('1.0.0', new CniError(7, 'bad "mtu"', 'more')), '{"cniVersion":"1.0.0","code":7,"msg":"bad \\"mtu\\"","details":"more"}');
    assert.deepEqual(JSON.parse(versionJson('1.1.0')), { cniVersion: '1.1.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });
});
