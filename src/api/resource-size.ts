import { ValidationError } from '../errors.js';

/**
 * The largest resource Brindle stores: 1 MiB of JSON, on every backend. etcd's default request
 * limit is 1.5 MiB (`--max-request-bytes`); the rest is left for the key and the request's own
 * overhead. A larger resource is refused before it is validated or written (`prepareResource`
 * checks the document, the ResourceClient the stored form), naming the resource and the limit.
 * Split a large network set into several with the same labels instead.
 */
export const MAX_RESOURCE_BYTES = 1024 * 1024;

/** Throws ValidationError (naming `subject`) when `json` is over MAX_RESOURCE_BYTES. */
export function checkResourceSize(subject: string, json: string): void {
  // a string's UTF-16 length bounds its UTF-8 size: most documents need no byte count at all
  if (json.length * 3 <= MAX_RESOURCE_BYTES) return;
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > MAX_RESOURCE_BYTES) {
    throw new ValidationError(subject, [{ path: '', message: `the resource is ${(bytes / 1048576).toFixed(1)} MiB, over the 1 MiB limit per resource; split it into several resources` }]);
  }
}
