import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAgentFlags } from '../../src/agent/config.js';
import { UsageError } from '../../src/errors.js';

test('agent flags: defaults', () => {
  assert.deepEqual(parseAgentFlags({ node: 'node1' }, 'sqlite:/x.db'), {
    node: 'node1', datastore: 'sqlite:/x.db', runDir: '/run/brindle/nodes/node1', metricsPort: 9091, logLevel: 'info', resyncIntervalMs: 10_000, routing: 'auto',
  });
});

test('agent flags: everything given', () => {
  const f = parseAgentFlags({ node: 'n-2', runDir: '/tmp/r', metricsPort: '0', logLevel: 'debug', ip: '10.0.0.1/24', ip6: 'fd00::1/64', as: '64512', resyncInterval: '2.5', routing: 'vxlan', flowLogs: 'true', flowLogRate: '50' }, 'etcd://127.0.0.1:2379');
  assert.deepEqual(f, { node: 'n-2', datastore: 'etcd://127.0.0.1:2379', runDir: '/tmp/r', metricsPort: 0, logLevel: 'debug', resyncIntervalMs: 2500, ip: '10.0.0.1/24', ip6: 'fd00::1/64', as: 64512,
    routing: 'vxlan', flowLogs: { ratePerSecond: 50, burst: 10, store: '/var/lib/brindle/flows.db' },
  });
});

test('agent flags: flow logs with a _bulk sink and its buffer', () => {
  const f = parseAgentFlags({ node: 'n', flowLogs: 'true', flowBulk: 'http://127.0.0.1:9200', flowBuffer: '20', flowStore: '/tmp/f.db' }, 'sqlite:/tmp/db');
  assert.deepEqual(f.flowLogs, { ratePerSecond: 100, burst: 20, store: '/tmp/f.db', bulk: 'http://127.0.0.1:9200', bulkIndex: 'brindle-flows', buffer: 20 });
  assert.equal(parseAgentFlags({ node: 'n', flowLogs: 'true' }, 'sqlite:/tmp/db').flowLogs?.store, '/tmp/db');
});

test('agent flags: bad values are usage errors naming the flag', () => {
  for (const [o, re] of [
    [{ node: 'Node_1' }, /--node/], [{ node: 'n', metricsPort: '70000' }, /--metrics-port/], [{ node: 'n', logLevel: 'loud' }, /--log-level/],
    [{ node: 'n', as: '0' }, /--as/], [{ node: 'n', resyncInterval: '-1' }, /--resync-interval/],
    [{ node: 'n', routing: 'ospf' }, /--routing/], [{ node: 'n', flowLogs: 'true', flowLogRate: '0' }, /--flow-log-rate/],
    [{ node: 'n', flowLogs: 'true', flowBulk: 'ftp://x' }, /--flow-bulk/], [{ node: 'n', flowLogs: 'true', flowBuffer: '0' }, /--flow-buffer/],
  ] as const) {
    assert.throws(() => parseAgentFlags(o, 'memory:'), (e: unknown) => e instanceof UsageError && re.test((e as Error).message));
  }
});
