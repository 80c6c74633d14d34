import type { ValidationIssue } from '../errors.js';
import type { FieldType } from './schema.js';

/** The message of an unknown-field issue (it does not stop semantic validation, a wrong type does). */
export const UNKNOWN_FIELD = 'unknown field';

/**
 * Checks a decoded JSON/YAML value against a FieldType: unknown fields and wrong JSON types are
 * reported with their path (`spec.ingress[0].destination.portz: unknown field`). It does not look
 * at values beyond their type; null is treated as absent (as Go's decoder does).
 */
export function checkShape(value: unknown, type: FieldType, path: string, issues: ValidationIssue[]): void {
  if (value === null || value === undefined) return;
  switch (type.t) {
    case 'any':
      return;
    case 'string':
      if (typeof value !== 'string') issues.push({ path, message: `must be a string, got ${describe(value)}` });
      return;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) issues.push({ path, message: `must be a number, got ${describe(value)}` });
      return;
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) issues.push({ path, message: `must be an integer, got ${describe(value)}` });
      return;
    case 'bool':
      if (typeof value !== 'boolean') issues.push({ path, message: `must be true or false, got ${describe(value)}` });
      return;
    case 'intOrString':
      if (!(typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value)))) {
        issues.push({ path, message: `must be an integer or a string, got ${describe(value)}` });
      }
      return;
    case 'enum':
      if (typeof value !== 'string' || !type.values.includes(value)) {
        issues.push({ path, message: `must be one of ${type.values.join(', ')}, got ${describe(value)}` });
      }
      return;
    case 'array':
      if (!Array.isArray(value)) {
        issues.push({ path, message: `must be a list, got ${describe(value)}` });
        return;
      }
      value.forEach((v, i) => checkShape(v, type.of, `${path}[${i}]`, issues));
      return;
    case 'map':
      if (!isPlainObject(value)) {
        issues.push({ path, message: `must be a map, got ${describe(value)}` });
        return;
      }
      for (const [k, v] of Object.entries(value)) checkShape(v, type.of, joinPath(path, k), issues);
      return;
    case 'object':
      if (!isPlainObject(value)) {
        issues.push({ path, message: `must be an object, got ${describe(value)}` });
        return;
      }
      for (const [k, v] of Object.entries(value)) {
        const ft = type.fields[k];
        if (ft) checkShape(v, ft, joinPath(path, k), issues);
        else if (!type.open) issues.push({ path: joinPath(path, k), message: UNKNOWN_FIELD });
      }
      return;
  }
}

export function joinPath(path: string, key: string): string {
  const k = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : JSON.stringify(key);
  return path === '' ? k : /^[A-Za-z_]/.test(k) ? `${path}.${k}` : `${path}[${k}]`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return String(v);
}
