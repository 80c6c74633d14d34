import type { Datastore } from '../datastore/datastore.js';
import { ResourceClient } from '../datastore/resource-client.js';
import { IpamClient } from './ipam-client.js';

/**
 * A ResourceClient whose pool deletes behave as Calico's: every node gives up the deleted pool's
 * blocks (empty ones are removed, used ones lose their owner). The CLI and controllers use this
 * one; a bare `new ResourceClient(ds)` leaves IPAM alone.
 */
export function ipamResourceClient(ds: Datastore): ResourceClient {
  return new ResourceClient(ds, {
    onPoolDeleted: async (pool) => {
      await new IpamClient(ds).releasePoolAffinities(pool.spec.cidr);
    },
  });
}
