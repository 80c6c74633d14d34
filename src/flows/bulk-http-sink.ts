import { flowToJson, type FlowRecord } from './flow-record.js';
import type { FlowSink } from './flow-sink.js';

/**
 * Ships records to Elasticsearch or OpenSearch with the `_bulk` API: NDJSON, one `{"index":{}}`
 * action line then the document, into `<index>-YYYY.MM.DD` (by the record's end). A response with
 * `errors: true` or a non-2xx status rejects, so the buffered sink in front retries the batch.
 * Every request is bounded by `timeoutMs`.
 */
export class BulkHttpSink implements FlowSink {
  readonly name: string;
  private readonly url: string;

  constructor(baseUrl: string, private readonly index = 'brindle-flows', private readonly timeoutMs = 5_000, private readonly headers: Record<string, string> = {}) {
    const u = new URL(baseUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`bulk sink URL must be http(s), got ${baseUrl}`);
    this.url = baseUrl.replace(/\/+$/, '') + '/_bulk';
    this.name = `bulk:${this.url}`;
  }

  async write(records: readonly FlowRecord[]): Promise<void> {
    const body = records
      .map((r) => {
        const doc = { '@timestamp': new Date(r.end).toISOString(), ...flowToJson(r) };
        return `${JSON.stringify({ index: { _index: `${this.index}-${new Date(r.end).toISOString().slice(0, 10).replace(/-/g, '.')}` } })}\n${JSON.stringify(doc)}\n`;
      })
      .join('');
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', ...this.headers },
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${this.url}: HTTP ${res.status}: ${text.slice(0, 200)}`);
    try {
      const j = JSON.parse(text) as { errors?: boolean; items?: { index?: { error?: { reason?: string } } }[] };
      if (j.errors) throw new Error(`${this.url}: bulk request had errors: ${j.items?.find((i) => i.index?.error)?.index?.error?.reason ?? 'unknown'}`);
    } catch (err) {
      if (err instanceof SyntaxError) throw new Error(`${this.url}: not a bulk response: ${text.slice(0, 200)}`);
      throw err;
    }
  }

  async close(): Promise<void> {}
}
