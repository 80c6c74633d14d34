import type { Resource } from '../api/types.js';
import type { KeyValue } from './datastore.js';

/**
 * How resources are stored: the JSON of the defaulted resource without `resourceVersion`, under
 * `resourceKey(kind, name, namespace)`. On read, `metadata.resourceVersion` is the key's modRevision.
 */
export function encodeResource(r: Resource): string {
  const { resourceVersion: _rv, ...metadata } = r.metadata;
  return JSON.stringify({ apiVersion: r.apiVersion, kind: r.kind, metadata, spec: r.spec });
}

export function decodeResource<R extends Resource = Resource>(kv: KeyValue): R {
  const r = JSON.parse(kv.value) as R;
  r.metadata.resourceVersion = String(kv.modRevision);
  return r;
}
