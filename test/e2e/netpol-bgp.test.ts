import { netpolSuite } from './netpol-suite.js';

// The Kubernetes netpol e2e cases on a 3-node lab routed by BIRD (full iBGP mesh).
await netpolSuite('bgp');
