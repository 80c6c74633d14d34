/**
 * The field schema of every kind: which fields exist and what JSON type each holds. Used by
 * `checkShape` to reject unknown fields and wrong types with the field's path. Semantic rules
 * (ranges, formats, cross-field constraints) are not here; they live in the validators.
 */

export type FieldType =
  | { t: 'string' }
  | { t: 'number' }
  | { t: 'int' }
  | { t: 'bool' }
  | { t: 'intOrString' }
  | { t: 'any' }
  | { t: 'enum'; values: readonly string[] }
  | { t: 'array'; of: FieldType }
  | { t: 'map'; of: FieldType }
  | { t: 'object'; fields: Readonly<Record<string, FieldType>>; open?: boolean };

const str: FieldType = { t: 'string' };
const num: FieldType = { t: 'number' };
const int: FieldType = { t: 'int' };
const bool: FieldType = { t: 'bool' };
const intOrStr: FieldType = { t: 'intOrString' };
const any: FieldType = { t: 'any' };
const strs: FieldType = { t: 'array', of: str };
const strMap: FieldType = { t: 'map', of: str };
const enumOf = (...values: string[]): FieldType => ({ t: 'enum', values });
const arr = (of: FieldType): FieldType => ({ t: 'array', of });
const obj = (fields: Record<string, FieldType>, open = false): FieldType => ({ t: 'object', fields, open });

/** Field order here is the order resources are stored and printed in (as calicoctl prints them). */
export const METADATA: FieldType = obj({
  name: str,
  namespace: str,
  uid: str,
  resourceVersion: str,
  generation: int,
  creationTimestamp: str,
  labels: strMap,
  annotations: strMap,
  finalizers: strs,
  ownerReferences: arr(any),
  // Set by an API server, present in `kubectl get -o yaml` output: accepted, then dropped (SERVER_METADATA).
  generateName: str,
  selfLink: str,
  deletionTimestamp: str,
  deletionGracePeriodSeconds: int,
  managedFields: arr(any),
});

/** Metadata fields only an API server sets; prepareResource drops them (as a server would ignore them). */
export const SERVER_METADATA: readonly string[] = ['generateName', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields'];

const icmp = obj({ type: int, code: int });
const entityRule = obj({
  nets: strs,
  selector: str,
  namespaceSelector: str,
  services: obj({ name: str, namespace: str }),
  ports: arr(intOrStr),
  notNets: strs,
  notSelector: str,
  notPorts: arr(intOrStr),
  serviceAccounts: obj({ names: strs, selector: str }),
});
export const RULE: FieldType = obj({
  action: str,
  ipVersion: int,
  protocol: intOrStr,
  icmp,
  notProtocol: intOrStr,
  notICMP: icmp,
  source: entityRule,
  destination: entityRule,
  http: obj({ methods: strs, paths: arr(obj({ exact: str, prefix: str })) }),
  metadata: obj({ annotations: strMap }),
});

const policyFields: Record<string, FieldType> = {
  tier: str,
  order: num,
  selector: str,
  types: strs,
  ingress: arr(RULE),
  egress: arr(RULE),
  serviceAccountSelector: str,
  performanceHints: strs,
};
const globalPolicyFields: Record<string, FieldType> = {
  ...policyFields,
  namespaceSelector: str,
  doNotTrack: bool,
  preDNAT: bool,
  applyOnForward: bool,
};
const stagedAction = enumOf('Set', 'Delete', 'Learn', 'Ignore');
const endpointPort = obj({ name: str, protocol: intOrStr, port: int, hostPort: int, hostIP: str });
const secretRef = obj({ secretKeyRef: obj({ name: str, key: str, optional: bool }) });
const cidrList = arr(obj({ cidr: str }));
const reconciler = obj({ reconcilerPeriod: str });
/** KubeControllersConfiguration `spec.controllers`, as Calico's ControllersConfig (strict, like every other kind). */
const kubeControllers = obj({
  node: obj({
    reconcilerPeriod: str,
    syncLabels: enumOf('Enabled', 'Disabled'),
    hostEndpoint: obj({
      autoCreate: enumOf('Enabled', 'Disabled'),
      createDefaultHostEndpoint: enumOf('Enabled', 'Disabled'),
      templates: arr(obj({ generateName: str, interfaceCIDRs: strs, interfacePattern: str, labels: strMap, nodeSelector: str })),
    }),
    leakGracePeriod: str,
  }),
  policy: reconciler,
  workloadEndpoint: reconciler,
  serviceAccount: reconciler,
  namespace: reconciler,
  loadBalancer: obj({ assignIPs: enumOf('AllServices', 'RequestedServicesOnly') }),
});
const bgpFilterRule = obj({
  cidr: str,
  prefixLength: obj({ min: int, max: int }),
  source: str,
  interface: str,
  matchOperator: str,
  action: str,
  peerType: str,
  communities: obj({ values: strs }),
  asPathPrefix: arr(intOrStr),
  priority: int,
  operations: arr(any),
});

const labelSelector = obj({ matchLabels: strMap, matchExpressions: arr(obj({ key: str, operator: str, values: strs })) });
const k8sPeer = obj({ podSelector: labelSelector, namespaceSelector: labelSelector, ipBlock: obj({ cidr: str, except: strs }) });
const k8sPort = obj({ protocol: str, port: intOrStr, endPort: int });
const k8sPolicyFields: Record<string, FieldType> = {
  podSelector: labelSelector,
  policyTypes: strs,
  ingress: arr(obj({ from: arr(k8sPeer), ports: arr(k8sPort) })),
  egress: arr(obj({ to: arr(k8sPeer), ports: arr(k8sPort) })),
};

/** Spec schema per kind (the Kubernetes kinds are keyed by their Brindle kind name). */
export const SPEC_SCHEMAS: Readonly<Record<string, FieldType>> = {
  NetworkPolicy: obj(policyFields),
  GlobalNetworkPolicy: obj(globalPolicyFields),
  StagedNetworkPolicy: obj({ ...policyFields, stagedAction }),
  StagedGlobalNetworkPolicy: obj({ ...globalPolicyFields, stagedAction }),
  // Stored as written (never enforced, so never converted): a Kubernetes NetworkPolicy spec plus stagedAction.
  StagedKubernetesNetworkPolicy: obj({ stagedAction, ...k8sPolicyFields }),
  Tier: obj({ order: num, defaultAction: str }),
  Profile: obj({ ingress: arr(RULE), egress: arr(RULE), labelsToApply: strMap }),
  WorkloadEndpoint: obj({
    orchestrator: str,
    workload: str,
    node: str,
    containerID: str,
    pod: str,
    endpoint: str,
    serviceAccountName: str,
    ipNetworks: strs,
    ipNATs: arr(obj({ internalIP: str, externalIP: str })),
    ipv4Gateway: str,
    ipv6Gateway: str,
    profiles: strs,
    interfaceName: str,
    mac: str,
    ports: arr(endpointPort),
    allowSpoofedSourcePrefixes: strs,
    qosControls: obj({}, true),
  }),
  HostEndpoint: obj({ node: str, interfaceName: str, expectedIPs: strs, profiles: strs, ports: arr(endpointPort) }),
  NetworkSet: obj({ nets: strs }),
  GlobalNetworkSet: obj({ nets: strs }),
  Node: obj({
    bgp: obj({ asNumber: intOrStr, ipv4Address: str, ipv6Address: str, ipv4IPIPTunnelAddr: str, routeReflectorClusterID: str }),
    ipv4VXLANTunnelAddr: str,
    vxlanTunnelMACAddr: str,
    ipv6VXLANTunnelAddr: str,
    vxlanTunnelMACAddrV6: str,
    orchRefs: arr(obj({ nodeName: str, orchestrator: str })),
    wireguard: obj({ interfaceIPv4Address: str, interfaceIPv6Address: str }),
    addresses: arr(obj({ address: str, type: str })),
    interfaces: arr(obj({ name: str, addresses: strs })),
  }),
  IPPool: obj({
    cidr: str,
    blockSize: int,
    ipipMode: str,
    vxlanMode: str,
    natOutgoing: bool,
    disabled: bool,
    disableBGPExport: bool,
    nodeSelector: str,
    namespaceSelector: str,
    allowedUses: strs,
    assignmentMode: str,
  }),
  IPReservation: obj({ reservedCIDRs: strs }),
  IPAMConfiguration: obj({
    strictAffinity: bool,
    autoAllocateBlocks: bool,
    maxBlocksPerHost: int,
    kubeVirtVMAddressPersistence: enumOf('Enabled', 'Disabled'),
    ipCooldownSeconds: int,
  }),
  BGPConfiguration: obj({
    logSeverityScreen: str,
    nodeToNodeMeshEnabled: bool,
    asNumber: intOrStr,
    serviceClusterIPs: cidrList,
    serviceExternalIPs: cidrList,
    serviceLoadBalancerIPs: cidrList,
    serviceLoadBalancerAggregation: enumOf('Enabled', 'Disabled'),
    listenPort: int,
    nodeMeshPassword: secretRef,
    nodeMeshMaxRestartTime: str,
    bindMode: str,
    communities: arr(obj({ name: str, value: str })),
    prefixAdvertisements: arr(obj({ cidr: str, communities: strs })),
    ignoredInterfaces: strs,
    localWorkloadPeeringIPV4: str,
    localWorkloadPeeringIPV6: str,
    programClusterRoutes: str,
    ipv4NormalRoutePriority: int,
    ipv6NormalRoutePriority: int,
    ipv4ElevatedRoutePriority: int,
    ipv6ElevatedRoutePriority: int,
  }),
  BGPPeer: obj({
    node: str,
    nodeSelector: str,
    peerIP: str,
    peerSelector: str,
    asNumber: intOrStr,
    localASNumber: intOrStr,
    keepOriginalNextHop: bool,
    nextHopMode: str,
    password: secretRef,
    sourceAddress: str,
    maxRestartTime: str,
    keepaliveTime: str,
    numAllowedLocalASNumbers: int,
    ttlSecurity: int,
    reachableBy: str,
    filters: strs,
    localWorkloadSelector: str,
    reversePeering: str,
  }),
  BGPFilter: obj({ exportV4: arr(bgpFilterRule), importV4: arr(bgpFilterRule), exportV6: arr(bgpFilterRule), importV6: arr(bgpFilterRule) }),
  // ~210 Felix options: accepted as an open map; the few Brindle reads are type-checked.
  FelixConfiguration: obj(
    {
      logSeverityScreen: str,
      nodeSelector: str,
      defaultEndpointToHostAction: enumOf('Drop', 'Accept', 'Return'),
      failsafeInboundHostPorts: arr(obj({ protocol: str, port: int, net: str })),
      failsafeOutboundHostPorts: arr(obj({ protocol: str, port: int, net: str })),
      vxlanEnabled: bool,
      vxlanVNI: int,
      vxlanPort: int,
      vxlanMTU: int,
      ipipEnabled: bool,
      bpfEnabled: bool,
      routeRefreshInterval: str,
      iptablesRefreshInterval: str,
      reportingInterval: str,
      healthPort: int,
      prometheusMetricsEnabled: bool,
      prometheusMetricsPort: int,
      nftablesMode: str,
    },
    true,
  ),
  KubeControllersConfiguration: obj({ logSeverityScreen: str, healthChecks: str, etcdV3CompactionPeriod: str, prometheusMetricsPort: int, debugProfilePort: int, controllers: kubeControllers }),
  CalicoNodeStatus: obj({ node: str, classes: strs, updatePeriodSeconds: int }),
  ClusterInformation: obj({ clusterGUID: str, clusterType: str, calicoVersion: str, datastoreReady: bool, variant: str }),
};


/** Kubernetes objects accepted on input (then converted). */
export const K8S_SPEC_SCHEMAS: Readonly<Record<string, FieldType>> = {
  KubernetesNetworkPolicy: obj(k8sPolicyFields),
  Namespace: obj({ finalizers: strs }),
};
