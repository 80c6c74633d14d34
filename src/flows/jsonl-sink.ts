import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { flowToJson, type FlowRecord } from './flow-record.js';
import type { FlowSink } from './flow-sink.js';

/** Appends each record as one JSON object per line (the `brindle flows -o json` shape) to a file. */
export class JsonLinesSink implements FlowSink {
  readonly name: string;
  private made = false;
  constructor(private readonly path: string) {
    this.name = `jsonl:${path}`;
  }

  async write(records: readonly FlowRecord[]): Promise<void> {
    if (!this.made) {
      await mkdir(dirname(this.path), { recursive: true });
      this.made = true;
    }
    await appendFile(this.path, records.map((r) => JSON.stringify(flowToJson(r)) + '\n').join(''));
  }

  async close(): Promise<void> {}
}
