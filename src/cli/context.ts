import type { Datastore } from '../datastore/datastore.js';
import { DEFAULT_DATASTORE_URL, openDatastore, type DatastoreOptions } from '../datastore/open.js';

/** Where a command writes and reads; tests substitute buffers. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
}

/**
 * What every command gets: its I/O and a lazily opened datastore built from the global flags.
 * Commands must call `datastore()` only when they need it, so `--help` and pure commands
 * (`selector eval`) work with no datastore at all. A command says whether it writes: only a
 * `'write'` open may create a SQLite file; a read-only command on a missing file fails naming it.
 */
export class CliContext {
  private store: Promise<Datastore> | undefined;
  datastoreUrl: string;
  datastoreOptions: DatastoreOptions = {};
  /** Exit code of a command that succeeded but has something to say (`lab exec`, `lab matrix --expect`). */
  exitCode = 0;

  constructor(
    readonly io: CliIO,
    readonly env: Readonly<Record<string, string | undefined>>,
  ) {
    this.datastoreUrl = env['BRINDLE_DATASTORE'] || DEFAULT_DATASTORE_URL;
  }

  datastore(access: 'read' | 'write'): Promise<Datastore> {
    this.store ??= openDatastore(this.datastoreUrl, { ...this.datastoreOptions, create: access === 'write' });
    return this.store;
  }

  out(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }

  err(text: string): void {
    this.io.stderr.write(text.endsWith('\n') ? text : text + '\n');
  }

  async dispose(): Promise<void> {
    if (this.store) {
      const s = this.store;
      this.store = undefined;
      try {
        await (await s).close();
      } catch {
        // the open itself failed; its error was already reported
      }
    }
  }
}
