import { UsageError } from '../errors.js';
import type { Datastore } from './datastore.js';
import { MemoryDatastore } from './memory.js';

export interface DatastoreOptions {
  /** TLS material for etcd (file paths). */
  etcdCa?: string;
  etcdCert?: string;
  etcdKey?: string;
  /**
   * Whether opening may create the store (a SQLite file and its directories). Default true;
   * read-only commands pass false, so a mistyped path is an error instead of a new empty store.
   */
  create?: boolean;
}

export const DEFAULT_DATASTORE_URL = 'sqlite:/var/lib/brindle/brindle.db';

/**
 * Opens a datastore from its URL:
 * - `sqlite:/path/file.db` — embedded, shared safely by several processes on one host;
 * - `etcd://host:port[,host:port…]` — an etcd v3 cluster;
 * - `memory:` — in-process only (tests).
 */
export async function openDatastore(url: string, options: DatastoreOptions = {}): Promise<Datastore> {
  if (url === 'memory:' || url.startsWith('memory:')) return new MemoryDatastore(url);
  if (url.startsWith('sqlite:')) {
    const { SqliteDatastore } = await import('./sqlite.js');
    return SqliteDatastore.open(url, options);
  }
  if (url.startsWith('etcd://') || url.startsWith('etcds://')) {
    const { EtcdDatastore } = await import('./etcd.js');
    return EtcdDatastore.open(url, options);
  }
  throw new UsageError(`unsupported datastore URL "${url}": use sqlite:/path/file.db, etcd://host:port[,host:port…] or memory:`);
}
