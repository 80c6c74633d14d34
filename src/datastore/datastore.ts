/**
 * The one interface every datastore backend implements (embedded SQLite, etcd v3, in-memory).
 *
 * Model (the same as etcd v3): a flat, ordered key space of string values. Every successful write
 * (create, update, delete) bumps one global revision by exactly one; each key carries the revision
 * at which it was created and last modified. Readers list at a revision and then watch from it.
 *
 * Errors are typed (see `src/errors.ts`): NotFoundError, AlreadyExistsError, ConflictError
 * (compare-and-swap lost), CompactedError (watch history gone: re-list), UnavailableError (backend
 * unreachable; the message names the endpoint).
 */

export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the write that created this key (since its last deletion). */
  createRevision: number;
  /** Revision of the last write to this key. Used as the expected revision for compare-and-swap. */
  modRevision: number;
}

export interface ListResult {
  /** Items under the prefix, sorted by key (byte order). */
  items: KeyValue[];
  /** The store revision the list was taken at; watch from here to see every later change. */
  revision: number;
}

export type WatchEvent =
  | { type: 'put'; kv: KeyValue }
  | { type: 'delete'; key: string; /** revision of the delete */ modRevision: number };

/**
 * The connection state of a live watch. `disconnected`: the backend lost its stream (member
 * killed, no leader, database locked) and is retrying by itself; when it is `connected` again,
 * events resume after the last one delivered, so nothing is lost or repeated. Reported only on
 * change; a watch starts connected as far as the caller is concerned.
 */
export type WatchStatus = { state: 'connected' } | { state: 'disconnected'; cause: Error };

export interface WatchHandlers {
  /** Events in revision order, never repeated, never skipped. One call may carry several events. */
  onEvents(events: WatchEvent[]): void;
  /**
   * A terminal error. CompactedError means history after the requested revision is gone: list
   * again and watch from the new revision. Transient disconnects are retried inside the backend
   * and reported through `onStatus`, not here.
   */
  onError(err: Error): void;
  /** Disconnects and reconnects of a watch the backend keeps retrying (see WatchStatus). */
  onStatus?(status: WatchStatus): void;
}

export interface Watch {
  /** Stops the watch; no handler is called after dispose returns. */
  dispose(): void;
}

export interface Datastore {
  /** The URL this store was opened from, for messages (`sqlite:/var/lib/brindle/brindle.db`). */
  readonly url: string;
  get(key: string): Promise<KeyValue | null>;
  list(prefix: string): Promise<ListResult>;
  /** Creates the key; AlreadyExistsError if present. */
  create(key: string, value: string): Promise<KeyValue>;
  /** Replaces the value if the key's modRevision equals `expectedRevision`; ConflictError if not, NotFoundError if absent. */
  update(key: string, value: string, expectedRevision: number): Promise<KeyValue>;
  /** Deletes the key (if `expectedRevision` is given, only at that modRevision). NotFoundError if absent. */
  delete(key: string, expectedRevision?: number): Promise<void>;
  /** Delivers every change under `prefix` with revision > `fromRevision`, in order. */
  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watch;
  /** Releases connections and file handles. */
  close(): Promise<void>;
}
