import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyDefaults } from '../../src/api/defaults.js';
import { validateResource } from '../../src/api/validate.js';
import { ALL_CASES } from './validate-cases.js';

/**
 * Table tests for validation: every case is validated as written and after defaulting (what the
 * ResourceClient stores). A valid case must produce no issue; an invalid one must produce an issue
 * at exactly the expected path (and mention the expected fragment).
 */
describe('validateResource', () => {
  test(`has a large table (${ALL_CASES.length} cases)`, () => {
    assert.ok(ALL_CASES.length >= 300, `only ${ALL_CASES.length} cases`);
  });
  for (const c of ALL_CASES) {
    test(c.name, () => {
      const raw = validateResource(c.doc);
      const issues = raw.length > 0 ? raw : validateResource(applyDefaults(c.doc as never));
      if (c.path === null) {
        assert.deepEqual(issues, [], `expected valid, got ${JSON.stringify(issues)}`);
        return;
      }
      const atPath = issues.filter((i) => i.path === c.path);
      assert.ok(atPath.length > 0, `expected an issue at ${c.path}, got ${JSON.stringify(issues)}`);
      if (c.message) assert.ok(atPath.some((i) => i.message.includes(c.message!)), `expected "${c.message}" in ${JSON.stringify(atPath)}`);
    });
  }
});
