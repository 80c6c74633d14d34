/**
 * States ported from Felix's `calc/states_for_test.go` (tier order, policy order, two local
 * endpoints with overlapping IPs, an empty IP set), re-expressed as v3 resources. Felix's
 * endpoints list profiles that do not exist, so those are active fail-closed here as there.
 */
import type { Resource } from '../../src/api/types.js';
import { gnp, sel, tier, wep, type Expected } from './state-builders.js';
import type { State } from './states.js';

const EP1 = wep('felix', 'loc-ep-1', { id: 'loc-ep-1', a: 'a', b: 'b' }, {
  ips: ['10.0.0.1/32', '10.0.0.2/32', 'fc00:fe11::1/128', 'fc00:fe11::2/128'], profiles: ['prof-1', 'prof-2', 'prof-missing'],
});
const EP2 = wep('felix', 'loc-ep-2', { id: 'loc-ep-2', a: 'a' }, {
  ips: ['10.0.0.2/32', '10.0.0.3/32', 'fc00:fe11::2/128', 'fc00:fe11::3/128'], profiles: ['prof-2', 'prof-3'],
});
const EP1_IPS = ['10.0.0.1/32', '10.0.0.2/32', 'fc00:fe11::1/128', 'fc00:fe11::2/128'];
const EP2_IPS = ['10.0.0.2/32', '10.0.0.3/32', 'fc00:fe11::2/128', 'fc00:fe11::3/128'];
const ALL_ID = sel('all()');
const B_ID = sel('b == "b"');

/** Felix's `policy1_order20`: selects a == 'a'; inbound from all(), outbound from b == 'b'. */
function policy1(name: string, tierName: string, order = 20): Resource {
  return gnp(name, {
    tier: tierName, order, selector: "a == 'a'",
    ingress: [{ action: 'Allow', source: { selector: 'all()' } }], egress: [{ action: 'Allow', source: { selector: "b == 'b'" } }],
  });
}

const both = (tierName: string, keys: string[]) => `${tierName}(Deny):i[${keys.join(',')}]e[${keys.join(',')}]`;
const EP1_ID = 'wep:felix/loc-ep-1';
const EP2_ID = 'wep:felix/loc-ep-2';

function tierOrderState(orders: [number, number, number], expected: [string, string, string]): State {
  const resources: Resource[] = [EP1];
  for (const [i, o] of orders.entries()) resources.push(tier(`tier-${i + 1}`, o), policy1(`tier-${i + 1}-pol`, `tier-${i + 1}`));
  const e: Expected = {
    policies: ['tier-1/_/tier-1-pol', 'tier-2/_/tier-2-pol', 'tier-3/_/tier-3-pol'],
    profiles: ['prof-1!', 'prof-2!', 'prof-missing!'],
    ipSets: { [ALL_ID]: EP1_IPS, [B_ID]: EP1_IPS },
    endpoints: { [EP1_ID]: expected.map((t) => both(t, [`${t}/_/${t}-pol`])).join(' ') },
  };
  return { name: `felix: tier order ${orders.join(',')} → ${expected.join(',')}`, resources, expected: e };
}

function policyOrderState(orders: [number, number, number], expected: [string, string, string]): State {
  const resources: Resource[] = [EP1, tier('tier-1', 20)];
  for (const [i, o] of orders.entries()) resources.push(policy1(`pol-${i + 1}`, 'tier-1', o));
  return {
    name: `felix: policy order ${orders.join(',')} → ${expected.join(',')}`,
    resources,
    expected: {
      policies: ['tier-1/_/pol-1', 'tier-1/_/pol-2', 'tier-1/_/pol-3'],
      profiles: ['prof-1!', 'prof-2!', 'prof-missing!'],
      ipSets: { [ALL_ID]: EP1_IPS, [B_ID]: EP1_IPS },
      endpoints: { [EP1_ID]: both('tier-1', expected.map((p) => `tier-1/_/${p}`)) },
    },
  };
}

const WITH_POLICY_AND_TIER = [tier('tier-1', 20), policy1('pol-1', 'tier-1')];

export const FELIX_STATES: State[] = [
  tierOrderState([10, 20, 30], ['tier-1', 'tier-2', 'tier-3']),
  tierOrderState([30, 20, 10], ['tier-3', 'tier-2', 'tier-1']),
  tierOrderState([10, 10, 10], ['tier-1', 'tier-2', 'tier-3']),
  tierOrderState([20, 20, 10], ['tier-3', 'tier-1', 'tier-2']),
  policyOrderState([10, 20, 30], ['pol-1', 'pol-2', 'pol-3']),
  policyOrderState([30, 20, 10], ['pol-3', 'pol-2', 'pol-1']),
  policyOrderState([10, 10, 10], ['pol-1', 'pol-2', 'pol-3']),
  {
    name: 'felix: ep1 local, policy with non-default tier',
    resources: [...WITH_POLICY_AND_TIER, EP1],
    expected: {
      policies: ['tier-1/_/pol-1'], profiles: ['prof-1!', 'prof-2!', 'prof-missing!'],
      ipSets: { [ALL_ID]: EP1_IPS, [B_ID]: EP1_IPS }, endpoints: { [EP1_ID]: both('tier-1', ['tier-1/_/pol-1']) },
    },
  },
  {
    name: 'felix: ep2 local, policy (empty b == "b" set)',
    resources: [...WITH_POLICY_AND_TIER, EP2],
    expected: {
      policies: ['tier-1/_/pol-1'], profiles: ['prof-2!', 'prof-3!'],
      ipSets: { [ALL_ID]: EP2_IPS, [B_ID]: [] }, endpoints: { [EP2_ID]: both('tier-1', ['tier-1/_/pol-1']) },
    },
  },
  {
    name: 'felix: 2 local, overlapping IPs & a policy',
    resources: [...WITH_POLICY_AND_TIER, EP1, EP2],
    expected: {
      policies: ['tier-1/_/pol-1'], profiles: ['prof-1!', 'prof-2!', 'prof-3!', 'prof-missing!'],
      ipSets: { [ALL_ID]: [...new Set([...EP1_IPS, ...EP2_IPS])].sort(), [B_ID]: EP1_IPS },
      endpoints: { [EP1_ID]: both('tier-1', ['tier-1/_/pol-1']), [EP2_ID]: both('tier-1', ['tier-1/_/pol-1']) },
    },
  },
];
