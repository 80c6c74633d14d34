import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateResource } from '../../src/api/validate.js';

// Every problem of a document is reported in one run: an unknown field does not hide the others.
test('an unknown field and a semantic error are both reported', () => {
  const issues = validateResource({
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: { name: 'bad' },
    spec: { cidr: '10.65.0.0/33', foo: 1 },
  });
  assert.deepEqual(
    issues.map((i) => i.path),
    ['spec.foo', 'spec.cidr'],
  );
});

test('a wrong JSON type stops semantic checks (they would be unreliable)', () => {
  const issues = validateResource({
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: { name: 'bad' },
    spec: { cidr: '10.65.0.0/33', blockSize: 'big' },
  });
  assert.deepEqual(issues.map((i) => i.path), ['spec.blockSize']);
});

test('a problem found by both the general and the kind-specific rules is reported once', () => {
  for (const kind of ['IPPool', 'GlobalNetworkSet', 'BGPPeer', 'Tier']) {
    const issues = validateResource({ apiVersion: 'projectcalico.org/v3', kind, metadata: {}, spec: {} });
    const names = issues.filter((i) => i.path === 'metadata.name');
    assert.equal(names.length, 1, `${kind}: ${JSON.stringify(issues)}`);
  }
});
