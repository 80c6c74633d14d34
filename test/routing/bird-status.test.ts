import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BirdReplyLine } from '../../src/routing/bird-socket.js';
import { parseMemoryTotal, parseProtocols, parseRoutes, peerFromName, sessionsOf } from '../../src/routing/bird-status.js';

// BIRD's control-socket replies (captured from BIRD 2.0.12 here) parsed into sessions and routes.

const lines = (code: number, text: string): BirdReplyLine[] => text.split('\n').map((t, i) => ({ code: i === 0 ? code : code, text: t }));

test('show protocols → BGP sessions (calicoctl node status rows)', () => {
  const reply = [
    { code: 2002, text: 'Name       Proto      Table      State  Since         Info' },
    ...lines(1002, [
      'device1    Device     ---        up     2026-12-07 11:40:48  ',
      'kernel4    Kernel     master4    up     2026-12-07 11:40:48  ',
      'Mesh_10_192_0_3 BGP        ---        up     2026-12-07 11:40:49  Established   ',
      'Node_fd00__2_port_1179 BGP        ---        start  2026-12-07 11:40:48  Active        Socket: Connection refused',
      'Global_10_0_0_9 BGP        ---        start  11:40:48.851  Connect',
    ].join('\n')),
    { code: 0, text: '' },
  ];
  const protocols = parseProtocols(reply);
  assert.equal(protocols.length, 5);
  assert.deepEqual(sessionsOf(protocols), [
    { name: 'Mesh_10_192_0_3', peerAddress: '10.192.0.3', type: 'node-to-node mesh', state: 'up', since: '2026-12-07 11:40:49', info: 'Established' },
    { name: 'Node_fd00__2_port_1179', peerAddress: 'fd00::2', port: 1179, type: 'node specific', state: 'start', since: '2026-12-07 11:40:48', info: 'Active        Socket: Connection refused' },
    { name: 'Global_10_0_0_9', peerAddress: '10.0.0.9', type: 'global', state: 'start', since: '11:40:48.851', info: 'Connect' },
  ]);
  assert.equal(peerFromName('direct4'), undefined);
});

test('show route → destinations with protocol, next hop and interface', () => {
  const reply = lines(1007, [
    'Table master4:',
    '10.65.9.9/32         unicast [kernel4 2026-12-07 11:40:51] * (10)',
    '\tdev lo',
    '10.65.1.0/26         blackhole [blocks4 2026-12-07 11:40:48] * (200)',
    '10.65.2.0/26         unicast [Mesh_10_192_0_3 2026-12-07 11:40:51] * (100) [i]',
    '\tvia 10.192.0.3 on eth0',
    '                     unicast [Mesh_10_192_0_4 2026-12-07 11:40:52] (100) [i]',
    '\tvia 10.192.0.4 on eth0',
    '',
    'Table master6:',
  ].join('\n'));
  assert.deepEqual(parseRoutes(reply), [
    { dst: '10.65.9.9/32', kind: 'unicast', protocol: 'kernel4', since: '2026-12-07 11:40:51', primary: true, table: 'master4', iface: 'lo' },
    { dst: '10.65.1.0/26', kind: 'blackhole', protocol: 'blocks4', since: '2026-12-07 11:40:48', primary: true, table: 'master4' },
    { dst: '10.65.2.0/26', kind: 'unicast', protocol: 'Mesh_10_192_0_3', since: '2026-12-07 11:40:51', primary: true, table: 'master4', via: '10.192.0.3', iface: 'eth0' },
    { dst: '10.65.2.0/26', kind: 'unicast', protocol: 'Mesh_10_192_0_4', since: '2026-12-07 11:40:52', primary: false, table: 'master4', via: '10.192.0.4', iface: 'eth0' },
  ]);
});

test('show memory → total bytes', () => {
  assert.equal(parseMemoryTotal(lines(1018, 'BIRD memory usage\n                  Effective    Overhead\n Routing tables:     31.8 kB     13.2 kB\n Total:             128.2 kB     72.5 kB')), Math.round(128.2 * 1024) + Math.round(72.5 * 1024));
});
