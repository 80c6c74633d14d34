/**
 * The SQLite datastore's tables. `kv` holds current values; `log` is the change history that
 * watchers tail (value NULL marks a delete); `meta` holds the current revision and the compaction
 * point (history at or below it is gone). Every statement is idempotent so any process may run it.
 */
export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  create_rev INTEGER NOT NULL,
  mod_rev INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log (
  rev INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  value TEXT,
  create_rev INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;
