import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EntityRule } from '../../src/api/types.js';
import { entityRuleSelector, globalPolicySelector, namespacedPolicySelector } from '../../src/calc/selector-composition.js';

// Vectors from Calico's libcalico-go/lib/backend/syncersv1/updateprocessors/rules_test.go (exact
// expected strings), plus policy-selector cases following networkpolicyprocessor.go and
// globalnetworkpolicyprocessor.go.

const NS = 'projectcalico.org/namespace';
const SA = 'projectcalico.org/serviceaccount';

const ENTITY_CASES: { name: string; er: EntityRule; ns?: string; want: string }[] = [
  { name: 'selector in a namespaced policy', er: { selector: 'mylabel = value1' }, ns: 'namespace2', want: `(${NS} == 'namespace2') && (mylabel = value1)` },
  { name: 'notSelector only: namespace clause alone', er: { notSelector: 'has(label2)' }, ns: 'namespace2', want: `${NS} == 'namespace2'` },
  { name: 'namespaceSelector replaces the namespace', er: { namespaceSelector: "namespacelabel1 == 'value1'" }, ns: '', want: 'pcns.namespacelabel1 == "value1"' },
  { name: 'namespaceSelector in a namespaced policy', er: { namespaceSelector: "namespacelabel1 == 'value1'" }, ns: 'namespace1', want: 'pcns.namespacelabel1 == "value1"' },
  { name: 'profile rule (no namespace)', er: { selector: 'has(foo)' }, want: 'has(foo)' },
  { name: 'ports only: no selector', er: { ports: [80] }, ns: '', want: '' },
  { name: 'nets only in a namespaced policy: not namespaced', er: { nets: ['10.0.0.0/8'] }, ns: 'ns1', want: '' },
  {
    name: 'selector and namespace selector', er: { selector: "projectcalico.org/orchestrator == 'k8s'", namespaceSelector: "key == 'value'" }, ns: 'namespace',
    want: "(pcns.key == \"value\") && (projectcalico.org/orchestrator == 'k8s')",
  },
  {
    name: 'complex namespace selector', er: { namespaceSelector: "!has(key) || (has(key) && !key in {'value'})" }, ns: 'namespace',
    want: '(!has(pcns.key) || (has(pcns.key) && !pcns.key in {"value"}))',
  },
  {
    name: 'service accounts in a namespaced policy', er: { serviceAccounts: { names: ['sa1', 'sa2'], selector: "key == 'value1'" } }, ns: 'namespace',
    want: `(${NS} == 'namespace') && ((pcsa.key == "value1") && (${SA} in {"sa1", "sa2"}))`,
  },
  {
    name: 'service accounts with namespace selector', er: { namespaceSelector: "nskey == 'nsvalue'", serviceAccounts: { names: ['sa3'], selector: "key == 'value2'" } }, ns: 'namespace',
    want: `(pcns.nskey == "nsvalue") && ((pcsa.key == "value2") && (${SA} in {"sa3"}))`,
  },
  {
    name: 'service accounts, global policy', er: { serviceAccounts: { names: ['sa1', 'sa2'], selector: "key == 'value1'" } },
    want: `(pcsa.key == "value1") && (${SA} in {"sa1", "sa2"})`,
  },
  { name: 'empty service account match', er: { serviceAccounts: {} }, want: '' },
  {
    name: 'service accounts, selector and namespace selector',
    er: { namespaceSelector: "nskey == 'nsvalue'", serviceAccounts: { names: ['sa3'], selector: "key == 'value2'" }, selector: 'has(label1)' }, ns: 'namespace',
    want: `(pcns.nskey == "nsvalue") && (((pcsa.key == "value2") && (${SA} in {"sa3"})) && (has(label1)))`,
  },
  { name: 'namespace selector with a label', er: { namespaceSelector: "namespace == 'red'", selector: 'has(label1)' }, ns: 'namespace', want: '(pcns.namespace == "red") && (has(label1))' },
  { name: 'namespace selector all()', er: { namespaceSelector: 'all()', selector: 'has(label2)' }, ns: 'namespace', want: `(has(${NS})) && (has(label2))` },
  { name: 'namespace selector global()', er: { namespaceSelector: 'global()', selector: 'has(label3)' }, ns: 'namespace', want: `(!has(${NS})) && (has(label3))` },
];

for (const c of ENTITY_CASES) {
  test(`entity rule selector: ${c.name}`, () => assert.equal(entityRuleSelector(c.er, c.ns || undefined), c.want));
}

test('namespaced policy selector', () => {
  assert.equal(namespacedPolicySelector(undefined, 'ns1'), `${NS} == 'ns1'`);
  assert.equal(namespacedPolicySelector("app == 'x'", 'ns1'), `(app == 'x') && ${NS} == 'ns1'`);
  assert.equal(namespacedPolicySelector("app == 'x'", 'ns1', "role == 'a'"), `((app == 'x') && ${NS} == 'ns1') && pcsa.role == "a"`);
});

test('global policy selector', () => {
  assert.equal(globalPolicySelector("app == 'x'"), "app == 'x'");
  assert.equal(globalPolicySelector(undefined, 'all()'), `has(${NS})`);
  assert.equal(globalPolicySelector('has(a)', "k == 'v'"), '(has(a)) && pcns.k == "v"');
  assert.equal(globalPolicySelector(undefined, undefined, 'all()'), `has(${SA})`);
  assert.equal(globalPolicySelector('has(a)', "k == 'v'", "r == 'x'"), '((has(a)) && pcns.k == "v") && pcsa.r == "x"');
});
