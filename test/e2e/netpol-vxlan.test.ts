import { netpolSuite } from './netpol-suite.js';

// The Kubernetes netpol e2e cases on a 3-node lab with a VXLAN (Always) pool.
await netpolSuite('vxlan');
