import { namespaceDoc, netpol, podDoc, podIp, Reachability, type Doc } from './k8s-netpol-model.js';

/**
 * The Kubernetes e2e network-policy cases (kubernetes/kubernetes
 * test/e2e/network/netpol/network_policy.go), re-expressed as documents and truth tables. Each case
 * names the upstream `It(...)` it comes from; policies and expectations are transcribed from it, on
 * the full 3×3 pod model (the older upstream layout), so a few expectations name pods the newer
 * upstream omits (e.g. z/a) with the value the same rule gives them. `policyTypes` is written out as
 * the API server would default it. The endPort case follows KEP-2079's e2e test.
 */

export interface Probe {
  protocol: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  reach: Reachability;
}

export interface Step {
  apply?: Doc[];
  delete?: Doc[];
  probes: Probe[];
}

export interface NetpolCase {
  name: string;
  upstream: string;
  steps: Step[];
}

const R = () => new Reachability();
const tcp = (port: number, reach: Reachability): Probe => ({ protocol: 'TCP', port, reach });
const udp = (port: number, reach: Reachability): Probe => ({ protocol: 'UDP', port, reach });
const sctp = (port: number, reach: Reachability): Probe => ({ protocol: 'SCTP', port, reach });
const podSel = (labels: Record<string, string>) => ({ matchLabels: labels });
const nsName = (ns: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': ns } });
const nsNotIn = (...values: string[]) => ({ matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values }] });
const ING = ['Ingress'];
const EGR = ['Egress'];
const BOTH = ['Ingress', 'Egress'];
const onA = { matchLabels: { pod: 'a' } };
const denyIngressX = netpol('x', 'deny-ingress', { podSelector: {}, policyTypes: ING });

export const CASES: NetpolCase[] = [
  {
    name: 'default-deny-ingress',
    upstream: "should support a 'default-deny-ingress' policy",
    steps: [{ apply: [denyIngressX], probes: [tcp(80, R().expectPeer({}, { namespace: 'x' }, false))] }],
  },
  {
    name: 'default-deny-all',
    upstream: "should support a 'default-deny-all' policy",
    steps: [{
      apply: [netpol('x', 'deny-all', { podSelector: {}, policyTypes: BOTH })],
      probes: [tcp(80, R().expectPeer({}, { namespace: 'x' }, false).expectPeer({ namespace: 'x' }, {}, false))],
    }],
  },
  {
    name: 'pod-selector-same-namespace',
    upstream: 'should enforce policy to allow traffic from pods within server namespace based on PodSelector',
    steps: [{
      apply: [netpol('x', 'x-a-allows-x-b', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ podSelector: podSel({ pod: 'b' }) }] }] })],
      probes: [tcp(80, R().expectAllIngress('x/a', false).expect('x/b', 'x/a', true))],
    }],
  },
  {
    name: 'ingress-for-a-target',
    upstream: 'should enforce policy to allow ingress traffic for a target',
    steps: [{
      apply: [
        netpol('x', 'deny-all', { podSelector: {}, policyTypes: ING }),
        netpol('x', 'allow-all-to-a', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ podSelector: {}, namespaceSelector: {} }] }] }),
      ],
      probes: [tcp(80, R().expectPeer({}, { namespace: 'x' }, false).expectAllIngress('x/a', true))],
    }],
  },
  {
    name: 'from-all-namespaces',
    upstream: 'should enforce policy to allow ingress traffic from pods in all namespaces',
    steps: [{
      apply: [netpol('x', 'allow-from-another-ns', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ namespaceSelector: { matchLabels: {} } }] }] })],
      probes: [tcp(80, R())],
    }],
  },
  {
    name: 'namespace-selector',
    upstream: 'should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector',
    steps: [{
      apply: [netpol('x', 'allow-client-a-via-ns-selector', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ namespaceSelector: nsName('y') }] }] })],
      probes: [tcp(80, R().expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false))],
    }],
  },
  {
    name: 'pod-selector-match-expressions',
    upstream: 'should enforce policy based on PodSelector with MatchExpressions',
    steps: [{
      apply: [netpol('x', 'x-a-allows-x-b', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b'] }] } }] }] })],
      probes: [tcp(80, R().expectAllIngress('x/a', false).expect('x/b', 'x/a', true))],
    }],
  },
  {
    name: 'namespace-selector-match-expressions',
    upstream: 'should enforce policy based on NamespaceSelector with MatchExpressions',
    steps: [{
      apply: [netpol('x', 'allow-ns-y-match-selector', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['y'] }] } }] }] })],
      probes: [tcp(80, R().expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false))],
    }],
  },
  {
    name: 'pod-or-namespace-selector',
    upstream: 'should enforce policy based on PodSelector or NamespaceSelector',
    steps: [{
      apply: [netpol('x', 'allow-ns-y-match-selector', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ namespaceSelector: nsNotIn('x') }, { podSelector: podSel({ pod: 'b' }) }] }] })],
      probes: [tcp(80, R().expect('x/a', 'x/a', false).expect('x/c', 'x/a', false))],
    }],
  },
  {
    name: 'pod-and-namespace-selector',
    upstream: 'should enforce policy based on PodSelector and NamespaceSelector',
    steps: [{
      apply: [netpol('x', 'allow-ns-y-podselector-and-nsselector', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ namespaceSelector: nsNotIn('x'), podSelector: podSel({ pod: 'b' }) }] }] })],
      probes: [tcp(80, R().expectAllIngress('x/a', false).expect('y/b', 'x/a', true).expect('z/b', 'x/a', true))],
    }],
  },
  {
    name: 'multiple-pod-and-namespace-selectors',
    upstream: 'should enforce policy based on Multiple PodSelectors and NamespaceSelectors',
    steps: [{
      apply: [netpol('x', 'allow-ns-y-z-pod-b-c', {
        podSelector: onA, policyTypes: ING,
        ingress: [{ from: [{ namespaceSelector: nsNotIn('x'), podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b', 'c'] }] } }] }],
      })],
      probes: [tcp(80, R().expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expect('y/a', 'x/a', false).expect('z/a', 'x/a', false))],
    }],
  },
  {
    name: 'any-pod-selectors',
    upstream: 'should enforce policy based on any PodSelectors',
    steps: [{
      apply: [netpol('x', 'allow-ns-x-pod-b-c', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ podSelector: podSel({ pod: 'b' }) }, { podSelector: podSel({ pod: 'c' }) }] }] })],
      probes: [tcp(80, R().expectAllIngress('x/a', false).expect('x/b', 'x/a', true).expect('x/c', 'x/a', true))],
    }],
  },
  {
    name: 'pod-in-other-namespace',
    upstream: 'should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector',
    steps: [{
      apply: [netpol('x', 'allow-ns-y-pod-a-via-namespace-pod-selector', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ namespaceSelector: nsName('y'), podSelector: podSel({ pod: 'a' }) }] }] })],
      probes: [tcp(80, R().expectAllIngress('x/a', false).expect('y/a', 'x/a', true)), udp(80, R().expectAllIngress('x/a', false).expect('y/a', 'x/a', true)), sctp(80, R().expectAllIngress('x/a', false).expect('y/a', 'x/a', true))],
    }],
  },
  {
    name: 'stacked-policies-by-port',
    upstream: 'should enforce multiple, stacked policies with overlapping podSelectors (and: should enforce policy based on Ports)',
    steps: [
      {
        apply: [netpol('x', 'allow-client-a-via-ns-selector', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ namespaceSelector: nsName('y') }], ports: [{ port: 81, protocol: 'TCP' }] }] })],
        probes: [
          tcp(81, R().expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'y' }, { namespace: 'x', pod: 'a' }, true).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false)),
          tcp(80, R().expectAllIngress('x/a', false)),
        ],
      },
      {
        apply: [netpol('x', 'allow-client-a-via-ns-selector-80', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ namespaceSelector: nsName('y') }], ports: [{ port: 80, protocol: 'TCP' }] }] })],
        probes: [tcp(80, R().expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false))],
      },
    ],
  },
  {
    name: 'allow-all',
    upstream: 'should support allow-all policy',
    steps: [{ apply: [netpol('x', 'allow-all', { podSelector: {}, policyTypes: ING, ingress: [{}] })], probes: [tcp(80, R()), tcp(81, R())] }],
  },
  {
    name: 'named-port-ingress',
    upstream: 'should allow ingress access on one named port',
    steps: [{
      apply: [netpol('x', 'allow-all', { podSelector: {}, policyTypes: ING, ingress: [{ ports: [{ port: 'serve-81-tcp' }] }] })],
      probes: [tcp(81, R()), tcp(80, R().expectPeer({}, { namespace: 'x' }, false))],
    }],
  },
  {
    name: 'named-port-from-namespace',
    upstream: 'should allow ingress access from namespace on one named port',
    steps: [{
      apply: [netpol('x', 'allow-client-a-via-ns-selector-80', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ namespaceSelector: nsName('y') }], ports: [{ port: 'serve-80-tcp', protocol: 'TCP' }] }] })],
      probes: [
        tcp(80, R().expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false)),
        tcp(81, R().expectAllIngress('x/a', false)),
      ],
    }],
  },
  {
    name: 'named-port-egress',
    upstream: 'should allow egress access on one named port',
    steps: [{
      apply: [netpol('x', 'allow-egress', { podSelector: {}, policyTypes: EGR, egress: [{ ports: [{ port: 'serve-80-tcp' }] }] })],
      probes: [tcp(80, R()), tcp(81, R().expectPeer({ namespace: 'x' }, {}, false))],
    }],
  },
  {
    name: 'updated-policy',
    upstream: 'should enforce updated policy',
    steps: [
      { apply: [netpol('x', 'allow-all-mutate-to-deny-all', { podSelector: {}, policyTypes: ING, ingress: [{}] })], probes: [tcp(81, R())] },
      { apply: [netpol('x', 'allow-all-mutate-to-deny-all', { podSelector: {}, policyTypes: ING, ingress: [] })], probes: [tcp(81, R().expectPeer({}, { namespace: 'x' }, false))] },
    ],
  },
  {
    name: 'updated-namespace-labels',
    upstream: 'should allow ingress access from updated namespace',
    steps: [
      {
        apply: [netpol('x', 'allow-client-a-via-ns-selector', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns2: 'updated' } } }] }] })],
        probes: [tcp(80, R().expectAllIngress('x/a', false))],
      },
      { apply: [namespaceDoc('y', { ns2: 'updated' })], probes: [tcp(80, R().expectAllIngress('x/a', false).expectPeer({ namespace: 'y' }, {}, true))] },
    ],
  },
  {
    name: 'updated-pod-labels',
    upstream: 'should allow ingress access from updated pod',
    steps: [
      {
        apply: [netpol('x', 'allow-client-a-via-pod-selector', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ podSelector: podSel({ pod: 'b', pod2: 'updated' }) }] }] })],
        probes: [tcp(80, R().expectAllIngress('x/a', false))],
      },
      { apply: [podDoc('x/b', { pod2: 'updated' })], probes: [tcp(80, R().expectAllIngress('x/a', false).expect('x/b', 'x/a', true))] },
    ],
  },
  {
    name: 'deny-ingress-from-other-namespaces',
    upstream: 'should deny ingress from pods on other namespaces',
    steps: [{
      apply: [netpol('x', 'deny-empty-policy', { podSelector: {}, policyTypes: ING, ingress: [{ from: [{ podSelector: { matchLabels: {} } }] }] })],
      probes: [tcp(80, R().expectPeer({ namespace: 'y' }, { namespace: 'x' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x' }, false))],
    }],
  },
  {
    name: 'deny-ingress-to-updated-pod',
    upstream: 'should deny ingress access to updated pod',
    steps: [
      { apply: [netpol('x', 'deny-ingress-via-label-selector', { podSelector: podSel({ target: 'isolated' }), policyTypes: ING })], probes: [tcp(80, R())] },
      { apply: [podDoc('x/a', { target: 'isolated' })], probes: [tcp(80, R().expectAllIngress('x/a', false))] },
    ],
  },
  {
    name: 'deny-egress-pod-selector',
    upstream: 'should deny egress from pods based on PodSelector',
    steps: [{ apply: [netpol('x', 'deny-egress-pod-a', { podSelector: onA, policyTypes: EGR })], probes: [tcp(80, R().expectAllEgress('x/a', false))] }],
  },
  {
    name: 'deny-egress-namespace',
    upstream: 'should deny egress from all pods in a namespace',
    steps: [{ apply: [netpol('x', 'deny-egress-ns-x', { podSelector: {}, policyTypes: EGR })], probes: [tcp(80, R().expectPeer({ namespace: 'x' }, {}, false))] }],
  },
  {
    name: 'ingress-and-egress-together',
    upstream: 'should work with Ingress, Egress specified together',
    steps: [{
      apply: [netpol('x', 'allow-client-a-via-pod-selector', {
        podSelector: onA, policyTypes: ['Egress', 'Ingress'],
        ingress: [{ from: [{ podSelector: podSel({ pod: 'b' }) }] }],
        egress: [{ ports: [{ port: 80 }] }],
      })],
      probes: [
        tcp(80, R().expectAllIngress('x/a', false).expect('x/b', 'x/a', true)),
        tcp(81, R().expectAllIngress('x/a', false).expectAllEgress('x/a', false).expect('x/b', 'x/a', true)),
      ],
    }],
  },
  {
    name: 'egress-denied-client-side',
    upstream: 'should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)',
    steps: [{
      apply: [
        netpol('x', 'allow-to-ns-y-pod-a', { podSelector: onA, policyTypes: EGR, egress: [{ to: [{ namespaceSelector: nsName('y'), podSelector: podSel({ pod: 'a' }) }] }] }),
        netpol('y', 'allow-from-xa-on-ya-match-selector', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ namespaceSelector: nsName('x'), podSelector: podSel({ pod: 'a' }) }] }] }),
        netpol('y', 'allow-from-xa-on-yb-match-selector', { podSelector: podSel({ pod: 'b' }), policyTypes: ING, ingress: [{ from: [{ namespaceSelector: nsName('x'), podSelector: podSel({ pod: 'a' }) }] }] }),
      ],
      probes: [tcp(80, R()
        .expectPeer({ namespace: 'x', pod: 'a' }, {}, false)
        .expectPeer({}, { namespace: 'y', pod: 'a' }, false)
        .expectPeer({ namespace: 'x', pod: 'a' }, { namespace: 'y', pod: 'a' }, true)
        .expectPeer({}, { namespace: 'y', pod: 'b' }, false))],
    }],
  },
  {
    name: 'egress-to-pod-in-other-namespace',
    upstream: 'should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector',
    steps: [{
      apply: [netpol('x', 'allow-to-ns-y-pod-a', { podSelector: onA, policyTypes: EGR, egress: [{ to: [{ namespaceSelector: nsName('y'), podSelector: podSel({ pod: 'a' }) }] }] })],
      probes: [tcp(80, R().expectAllEgress('x/a', false).expect('x/a', 'y/a', true))],
    }],
  },
  {
    name: 'any-port-on-protocol',
    upstream: 'should enforce ingress policy allowing any port traffic to a server on a specific protocol',
    steps: [{
      apply: [netpol('x', 'allow-ingress-by-proto', { podSelector: onA, policyTypes: ING, ingress: [{ ports: [{ protocol: 'TCP' }] }] })],
      probes: [tcp(80, R()), udp(80, R().expectPeer({}, { namespace: 'x', pod: 'a' }, false))],
    }],
  },
  {
    name: 'ingress-allow-all-precedence',
    upstream: 'should enforce multiple ingress policies with ingress allow-all policy taking precedence',
    steps: [
      { apply: [netpol('x', 'allow-ingress-port-80', { podSelector: {}, policyTypes: ING, ingress: [{ ports: [{ port: 80 }] }] })], probes: [tcp(81, R().expectPeer({}, { namespace: 'x' }, false))] },
      { apply: [netpol('x', 'allow-ingress', { podSelector: {}, policyTypes: ING, ingress: [{}] })], probes: [tcp(81, R())] },
    ],
  },
  {
    name: 'egress-allow-all-precedence',
    upstream: 'should enforce multiple egress policies with egress allow-all policy taking precedence',
    steps: [
      { apply: [netpol('x', 'allow-egress-port-80', { podSelector: {}, policyTypes: EGR, egress: [{ ports: [{ port: 80 }] }] })], probes: [tcp(81, R().expectPeer({ namespace: 'x' }, {}, false))] },
      { apply: [netpol('x', 'allow-egress', { podSelector: {}, policyTypes: EGR, egress: [{}] })], probes: [tcp(81, R())] },
    ],
  },
  {
    name: 'policy-deleted',
    upstream: 'should stop enforcing policies after they are deleted',
    steps: [
      {
        apply: [netpol('x', 'deny-all', { podSelector: {}, policyTypes: BOTH })],
        probes: [tcp(80, R().expectPeer({ namespace: 'x' }, {}, false).expectPeer({}, { namespace: 'x' }, false))],
      },
      { delete: [netpol('x', 'deny-all', { podSelector: {}, policyTypes: BOTH })], probes: [tcp(80, R())] },
    ],
  },
  {
    name: 'egress-cidr',
    upstream: 'should allow egress access to server in CIDR block',
    steps: [{
      apply: [netpol('x', 'allow-client-a-via-cidr-egress-rule', { podSelector: onA, policyTypes: EGR, egress: [{ to: [{ ipBlock: { cidr: `${podIp('y/b')}/32` } }] }] })],
      probes: [tcp(80, R().expectAllEgress('x/a', false).expect('x/a', 'y/b', true))],
    }],
  },
  {
    name: 'egress-cidr-except',
    upstream: 'should enforce except clause while egress access to server in CIDR block',
    steps: [{
      apply: [netpol('x', 'allow-client-a-via-cidr-egress-rule', { podSelector: onA, policyTypes: EGR, egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/4', except: [`${podIp('x/b')}/32`] } }] }] })],
      probes: [tcp(80, R().expect('x/a', 'x/b', false))],
    }],
  },
  {
    name: 'cidr-and-except-overlap',
    upstream: 'should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed',
    steps: [
      {
        apply: [netpol('x', 'allow-client-a-via-cidr-egress-rule', { podSelector: onA, policyTypes: EGR, egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/4', except: [`${podIp('x/b')}/32`] } }] }] })],
        probes: [tcp(80, R().expect('x/a', 'x/b', false))],
      },
      {
        apply: [netpol('x', 'allow-client-a-via-cidr-egress-rule', { podSelector: onA, policyTypes: EGR, egress: [{ to: [{ ipBlock: { cidr: `${podIp('x/b')}/32` } }] }] })],
        probes: [tcp(80, R().expectAllEgress('x/a', false).expect('x/a', 'x/b', true))],
      },
    ],
  },
  {
    name: 'ingress-and-egress-independent',
    upstream: 'should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector',
    steps: [
      { apply: [netpol('x', 'allow-egress-for-target', { podSelector: onA, policyTypes: EGR, egress: [{}] })], probes: [tcp(80, R())] },
      { apply: [netpol('x', 'deny-ingress-via-label-selector', { podSelector: onA, policyTypes: ING })], probes: [tcp(80, R().expectAllIngress('x/a', false))] },
    ],
  },
  {
    name: 'sctp-is-not-tcp',
    upstream: "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP",
    steps: [{
      apply: [denyIngressX, netpol('x', 'allow-only-sctp-ingress-on-port-81', { podSelector: onA, policyTypes: ING, ingress: [{ ports: [{ port: 81, protocol: 'SCTP' }] }] })],
      probes: [tcp(81, R().expectPeer({}, { namespace: 'x' }, false)), sctp(81, R().expectPeer({}, { namespace: 'x' }, false).expectAllIngress('x/a', true))],
    }],
  },
  {
    name: 'sctp-policy-isolates',
    upstream: "should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't support SCTP",
    steps: [{
      apply: [netpol('x', 'allow-only-sctp-ingress-on-port-80', { podSelector: onA, policyTypes: ING, ingress: [{ ports: [{ port: 80, protocol: 'SCTP' }] }] })],
      probes: [tcp(81, R().expectAllIngress('x/a', false))],
    }],
  },
  {
    name: 'udp-policy-not-tcp',
    upstream: 'should not allow access by TCP when a policy specifies only UDP',
    steps: [{
      apply: [netpol('x', 'allow-only-udp-ingress-on-port-81', { podSelector: onA, policyTypes: ING, ingress: [{ ports: [{ port: 81, protocol: 'UDP' }] }] })],
      probes: [tcp(81, R().expectAllIngress('x/a', false)), udp(81, R())],
    }],
  },
  {
    name: 'default-ns-label-match-labels',
    upstream: 'should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label',
    steps: [{
      apply: [netpol('x', 'allow-client-a-via-ns-selector-for-immutable-ns-label', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ namespaceSelector: nsName('y') }] }] })],
      probes: [tcp(80, R().expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false))],
    }],
  },
  {
    name: 'default-ns-label-not-in-egress',
    upstream: 'should enforce policy based on NamespaceSelector with MatchExpressions using default ns label',
    steps: [{
      apply: [netpol('x', 'allow-ns-y-match-selector-for-immutable-ns-label', { podSelector: onA, policyTypes: EGR, egress: [{ to: [{ namespaceSelector: nsNotIn('y') }] }] })],
      probes: [tcp(80, R().expectPeer({ namespace: 'x', pod: 'a' }, { namespace: 'y' }, false))],
    }],
  },
  {
    name: 'udp-default-deny-and-ports',
    upstream: "NetworkPolicy between server and client using UDP: should support a 'default-deny-ingress' policy; should enforce policy based on Ports",
    steps: [
      { apply: [netpol('x', 'deny-all', { podSelector: {}, policyTypes: ING })], probes: [udp(80, R().expectPeer({}, { namespace: 'x' }, false))] },
      {
        delete: [netpol('x', 'deny-all', { podSelector: {}, policyTypes: ING })],
        apply: [netpol('x', 'allow-ingress-on-port-81-ns-x', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ namespaceSelector: nsName('y') }], ports: [{ port: 81, protocol: 'UDP' }] }] })],
        probes: [udp(81, R().expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false)), tcp(81, R().expectAllIngress('x/a', false))],
      },
    ],
  },
  {
    name: 'sctp-ports',
    upstream: 'NetworkPolicy between server and client using SCTP: should enforce policy based on Ports',
    steps: [{
      apply: [netpol('x', 'allow-ingress-on-port-81-ns-x', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ namespaceSelector: nsName('y') }], ports: [{ port: 81, protocol: 'SCTP' }] }] })],
      probes: [sctp(81, R().expectPeer({ namespace: 'x' }, { namespace: 'x', pod: 'a' }, false).expectPeer({ namespace: 'z' }, { namespace: 'x', pod: 'a' }, false))],
    }],
  },
  {
    name: 'port-range-endport',
    upstream: 'KEP-2079 (endPort): ingress allowed on a TCP port range from one namespace',
    steps: [{
      apply: [netpol('x', 'allow-port-range-from-y', { podSelector: onA, policyTypes: ING, ingress: [{ from: [{ namespaceSelector: nsName('y') }], ports: [{ protocol: 'TCP', port: 80, endPort: 81 }] }] })],
      probes: [
        tcp(80, R().expectAllIngress('x/a', false).expectPeer({ namespace: 'y' }, { namespace: 'x', pod: 'a' }, true)),
        tcp(81, R().expectAllIngress('x/a', false).expectPeer({ namespace: 'y' }, { namespace: 'x', pod: 'a' }, true)),
        udp(80, R().expectAllIngress('x/a', false)),
      ],
    }],
  },
];
