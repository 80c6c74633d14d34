import assert from 'node:assert/strict';
import { createHash as realHash } from 'node:crypto';
import { test } from 'node:test';
import { createHash, randomUUID } from '../../src/cni/crypto-lite.js';

/** The bundle's stand-in for node:crypto must agree with it exactly. */

test('SHA-1 equals node:crypto for every length across block boundaries', () => {
  for (let n = 0; n < 200; n++) {
    const s = Array.from({ length: n }, (_, i) => String.fromCharCode(97 + ((i * 7 + n) % 26))).join('') + (n % 3 === 0 ? 'é' : '');
    assert.equal(createHash('sha1').update(s).digest('hex'), realHash('sha1').update(s).digest('hex'), `length ${n}`);
  }
  assert.equal(createHash('sha1').update('namespace.podname').digest('hex').slice(0, 11), '82111e10a96');
  assert.equal(createHash('sha224').update('x').digest('base64url'), realHash('sha224').update('x').digest('base64url'), 'other hashes delegate');
});

test('randomUUID is a v4 UUID and unique', () => {
  const ids = new Set(Array.from({ length: 100 }, () => randomUUID()));
  assert.equal(ids.size, 100);
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
