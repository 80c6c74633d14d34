import { METADATA, SPEC_SCHEMAS, type FieldType } from './schema.js';
import type { Resource } from './types.js';

/**
 * Puts a resource's fields in schema order (apiVersion, kind, metadata, spec; inside each, the
 * order the schema declares them, which follows Calico's Go structs), so stored and printed
 * resources read the same however their input was written. Fields the schema does not know (open
 * objects such as FelixConfiguration) follow in their original order. Pure; returns a new object.
 */
export function inSchemaOrder<R extends Resource>(r: R): R {
  const out: Record<string, unknown> = {};
  for (const k of ['apiVersion', 'kind', 'metadata', 'spec']) {
    const v = (r as unknown as Record<string, unknown>)[k];
    if (v === undefined) continue;
    if (k === 'metadata') out[k] = order(v, METADATA);
    else if (k === 'spec') out[k] = SPEC_SCHEMAS[r.kind] ? order(v, SPEC_SCHEMAS[r.kind]!) : v;
    else out[k] = v;
  }
  for (const [k, v] of Object.entries(r)) if (!(k in out)) out[k] = v;
  return out as unknown as R;
}

function order(value: unknown, type: FieldType): unknown {
  if (type.t === 'array' && Array.isArray(value)) return value.map((v) => order(v, type.of));
  if (type.t !== 'object' || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const v = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, ft] of Object.entries(type.fields)) if (v[k] !== undefined) out[k] = order(v[k], ft);
  for (const [k, x] of Object.entries(v)) if (!(k in out) && x !== undefined) out[k] = x;
  return out;
}
