import type { Datastore } from '../datastore/datastore.js';
import { BrindleError } from '../errors.js';
import { CniCode, CniError } from './cni-spec.js';
import type { NetConf } from './net-conf.js';

/**
 * Opens the datastore a network configuration names, loading only that backend: SQLite, or etcd
 * through its HTTP gateway (EtcdHttpDatastore), whose start-up costs a few milliseconds where the
 * gRPC client costs hundreds — the plugin runs once per container.
 */
export async function openPluginDatastore(conf: NetConf): Promise<Datastore> {
  try {
    if (conf.datastore.startsWith('sqlite:')) {
      const { SqliteDatastore } = await import('../datastore/sqlite.js');
      return keepOpenUntilExit(await SqliteDatastore.open(conf.datastore));
    }
    const { EtcdHttpDatastore } = await import('../datastore/etcd-http.js');
    return await EtcdHttpDatastore.open(conf.datastore, { etcdCa: conf.etcdCaFile, etcdCert: conf.etcdCertFile, etcdKey: conf.etcdKeyFile });
  } catch (err) {
    throw toCniError(err, `cannot open datastore ${conf.datastore}`);
  }
}

/**
 * The plugin process exits as soon as its command is done. Closing the last connection to the
 * SQLite file checkpoints its write-ahead log (an fsync, ~20 ms) on every container start; leaving
 * the connection to the exit is what a crash does, which WAL mode is built for: every committed
 * write is already durable, and SQLite's own auto-checkpoint keeps the log bounded.
 */
function keepOpenUntilExit(ds: Datastore): Datastore {
  return {
    url: ds.url,
    get: (key) => ds.get(key),
    list: (prefix) => ds.list(prefix),
    create: (key, value) => ds.create(key, value),
    update: (key, value, rev) => ds.update(key, value, rev),
    delete: (key, rev) => ds.delete(key, rev),
    watch: (prefix, from, handlers) => ds.watch(prefix, from, handlers),
    close: async () => undefined,
  };
}

/** Maps Brindle's domain errors to CNI error codes, keeping the message a person can act on. */
export function toCniError(err: unknown, context?: string): CniError {
  if (err instanceof CniError) return err;
  const msg = (err as Error)?.message ?? String(err);
  const text = context ? `${context}: ${msg}` : msg;
  if (err instanceof BrindleError) {
    switch (err.code) {
      case 'Unavailable':
      case 'Conflict':
        return new CniError(CniCode.TryAgainLater, text, undefined, { cause: err });
      case 'Exhausted':
        return new CniError(CniCode.AddressesExhausted, text, undefined, { cause: err });
      case 'Validation':
      case 'Usage':
        return new CniError(CniCode.InvalidConfig, text, undefined, { cause: err });
      default:
        return new CniError(CniCode.Internal, text, undefined, { cause: err });
    }
  }
  return new CniError(CniCode.Internal, text, (err as Error)?.stack, { cause: err });
}
