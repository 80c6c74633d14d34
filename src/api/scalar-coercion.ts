import { k8sInputKind } from './k8s-input.js';
import { kindInfo } from './kinds.js';
import { K8S_SPEC_SCHEMAS, METADATA, SPEC_SCHEMAS, type FieldType } from './schema.js';
import { isPlainObject } from './shape-check.js';

/**
 * Turns numbers and booleans written where the schema wants a string into strings, as calicoctl's
 * YAML decoder (sigs.k8s.io/yaml with a typed target) does: `labels: {version: 1}` is the label
 * value "1", `containerID: 1234` the string "1234". Everything else is left as written, so a
 * wrong type elsewhere is still reported by validation. Returns a new value; the input is unchanged.
 */
export function coerceDocumentScalars(doc: unknown): unknown {
  if (!isPlainObject(doc) || typeof doc['kind'] !== 'string') return doc;
  const k8sKind = k8sInputKind(doc);
  const k8s = k8sKind !== undefined;
  const kind = k8sKind ?? doc['kind'];
  if (!kindInfo(kind)) return doc;
  const specType = (k8s ? K8S_SPEC_SCHEMAS : SPEC_SCHEMAS)[kind];
  const out: Record<string, unknown> = { ...doc };
  if ('metadata' in doc) out['metadata'] = coerceScalars(doc['metadata'], METADATA);
  if ('spec' in doc && specType) out['spec'] = coerceScalars(doc['spec'], specType);
  return out;
}

/** `coerceDocumentScalars` for one value of a known field type. */
export function coerceScalars(value: unknown, type: FieldType): unknown {
  switch (type.t) {
    case 'string':
    case 'enum':
      return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
    case 'array':
      return Array.isArray(value) ? value.map((v) => coerceScalars(v, type.of)) : value;
    case 'map':
      return isPlainObject(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, coerceScalars(v, type.of)])) : value;
    case 'object':
      if (!isPlainObject(value)) return value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, type.fields[k] ? coerceScalars(v, type.fields[k]) : v]));
    default:
      return value;
  }
}
