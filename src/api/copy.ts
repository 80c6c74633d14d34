/**
 * Deep copy of plain JSON-like data (objects, arrays, primitives), as decoded from YAML or JSON.
 * Much cheaper than `structuredClone` for the small documents resources are. Keys whose value is
 * `undefined` are dropped, as JSON would.
 */
export function deepCopy<T>(v: T): T {
  if (Array.isArray(v)) return v.map(deepCopy) as T;
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = deepCopy(x);
    }
    return out as T;
  }
  return v;
}
