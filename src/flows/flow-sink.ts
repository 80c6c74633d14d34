import type { FlowRecord } from './flow-record.js';

/** Somewhere flow records go: the store, a JSON-lines file, an Elasticsearch/OpenSearch index. */
export interface FlowSink {
  readonly name: string;
  /** Ships one batch; rejects when the destination refused it or is unreachable. */
  write(records: readonly FlowRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface FlowSinkStats {
  sent: number;
  dropped: number;
  failures: number;
  buffered: number;
  lastError?: string;
}
