import { netpolSuite } from './netpol-suite.js';

// The Kubernetes netpol e2e cases with all nine pods on one node: policy on the kernel without
// routing between nodes (every flow is workload → node → workload).
await netpolSuite('bgp', 1);
