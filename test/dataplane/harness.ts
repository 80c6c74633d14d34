import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { prepareResource } from '../../src/api/prepare.js';
import type { Resource } from '../../src/api/types.js';
import { ManualClock } from '../../src/base/clock.js';
import { CalculationGraph } from '../../src/calc/graph.js';
import { keyOf } from '../../src/calc/snapshot.js';
import { DataplaneDriver } from '../../src/dataplane/driver.js';
import { FakeNftClient } from '../../src/dataplane/nftables/fake-client.js';
import { REPO_ROOT } from '../helpers/paths.js';

export const silentLog = { debug() {}, info() {}, warn() {}, error(m: string, f?: unknown) { if (process.env['DEBUG_DP']) console.error(m, f); } };

export function readResources(file: string): Resource[] {
  const text = readFileSync(join(REPO_ROOT, 'testdata', file), 'utf8');
  return parseAllDocuments(text).map((d) => d.toJS()).filter((d) => d).map((d) => prepareResource(d));
}

/** Calc graph for `node1` → driver → fake nft; `put`/`del` then `settle()` applies one batch. */
export class Harness {
  readonly nft = new FakeNftClient();
  readonly clock = new ManualClock();
  readonly driver = new DataplaneDriver({ nft: this.nft, clock: this.clock, log: silentLog, resyncIntervalMs: 0 });
  readonly graph = new CalculationGraph({ hostname: 'node1' }, this.driver);

  put(...rs: Resource[]): this {
    this.graph.onUpdates(rs.map((r) => ({ key: keyOf(r), value: r })));
    return this;
  }

  del(...rs: Resource[]): this {
    this.graph.onUpdates(rs.map((r) => ({ key: keyOf(r), value: null })));
    return this;
  }

  async start(): Promise<void> {
    this.graph.onInSync();
    await this.driver.flushed();
  }

  async settle(): Promise<void> {
    this.graph.flush();
    await this.driver.flushed();
  }
}
