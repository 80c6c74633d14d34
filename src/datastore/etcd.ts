import type { Datastore } from './datastore.js';
import type { DatastoreOptions } from './open.js';

/** PLACEHOLDER: the datastore issue implements this backend. */
export class EtcdDatastore {
  static async open(url: string, _options?: DatastoreOptions): Promise<Datastore> {
    throw new Error(`datastore backend for ${url} is not implemented yet`);
  }
}
