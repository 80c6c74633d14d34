import { MAX_RESOURCE_BYTES } from '../api/resource-size.js';
import { ValidationError } from '../errors.js';

/**
 * Brindle's one size limit, the same on every backend (SQLite, etcd, memory).
 *
 * - A resource may be at most MAX_RESOURCE_BYTES (1 MiB) as stored (its JSON). The ResourceClient
 *   refuses a larger one before validating or writing it, naming the resource and the limit.
 * - A datastore value (any key: resources, IPAM blocks, handles) may be at most MAX_VALUE_BYTES.
 *   Every backend refuses a larger one before sending it, so etcd's own limit (its default request
 *   size is 1.5 MiB, `--max-request-bytes`) is never reached and no raw gRPC error reaches a user.
 */
export { MAX_RESOURCE_BYTES };
export const MAX_VALUE_BYTES = 1024 * 1024 + 256 * 1024;

/** Throws ValidationError when a value is over MAX_VALUE_BYTES. Cheap: a string's length bounds its UTF-8 size from below. */
export function checkValueSize(key: string, value: string): void {
  if (value.length * 3 <= MAX_VALUE_BYTES) return;
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_VALUE_BYTES) {
    throw new ValidationError(key, [{ path: '', message: `the value is ${bytes} bytes, over the datastore limit of ${MAX_VALUE_BYTES} bytes per key` }]);
  }
}
