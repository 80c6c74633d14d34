import { describeResource, prepareResource } from '../api/prepare.js';
import type { Resource } from '../api/types.js';
import { PREVIEW_ANNOTATION } from '../calc/preview.js';
import { BrindleError, UsageError, ValidationError, type ErrorCode } from '../errors.js';

/**
 * The types and pure rules of batch writes (`ResourceClient.applyBatch`, `deleteBatch`): how a
 * batch is prepared, ordered and reported. The CLI (`apply`, `create`, `replace`, `delete -f`,
 * `policy preview`) and controllers share them through the ResourceClient.
 */

/** One input document of a batch, with where it came from (`file.yaml[2]`) for messages. */
export interface BatchDocument {
  doc: unknown;
  /** Prefix of every message about this document; none for documents built in code. */
  origin?: string;
}

/** A validated, defaulted resource of a batch. */
export interface PreparedDocument {
  resource: Resource;
  origin?: string;
}

export type WriteMode = 'apply' | 'create' | 'replace';

/** What a delete batch deletes: a resource by identity. */
export interface DeleteTarget {
  kind: string;
  name: string;
  namespace?: string;
  origin?: string;
}

/**
 * A batch write that failed after writing some of its resources (writes are one at a time, each a
 * compare-and-swap; the checks before the first write make this rare). Same `code` as the failure
 * it wraps, so exit codes and `isNotFound`… still apply; `done` resources were written.
 */
export class BatchWriteError extends BrindleError {
  constructor(
    cause: Error,
    readonly done: number,
    readonly total: number,
  ) {
    super(cause instanceof BrindleError ? cause.code : ('Internal' as ErrorCode), cause.message, { cause });
  }
}


/**
 * Validates and defaults every document of a batch; if any is invalid, throws one ValidationError
 * listing all of them (each line `origin Kind name: path: message`). An empty batch is a UsageError.
 * `namespace` fills namespaced resources that name none, and must agree with those that do.
 */
export function prepareDocuments(docs: BatchDocument[], opts: { namespace?: string } = {}): PreparedDocument[] {
  const out: PreparedDocument[] = [];
  const errors: ValidationError[] = [];
  for (const d of docs) {
    try {
      checkNamespace(d, opts.namespace);
      const resource = prepareResource(d.doc, { ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}), ...(d.origin !== undefined ? { subjectPrefix: d.origin } : {}) });
      out.push({ resource, ...(d.origin !== undefined ? { origin: d.origin } : {}) });
    } catch (err) {
      if (err instanceof ValidationError) errors.push(err);
      else throw err;
    }
  }
  if (errors.length > 0) throw combineValidationErrors(errors);
  if (out.length === 0) throw new UsageError('no resources found in the given files');
  return out;
}

function checkNamespace(d: BatchDocument, namespace: string | undefined): void {
  const meta = (d.doc as { metadata?: { namespace?: unknown } } | null)?.metadata;
  if (namespace !== undefined && typeof meta?.namespace === 'string' && meta.namespace !== namespace) {
    throw new ValidationError(subjectOf(d.origin, d.doc), [{ path: 'metadata.namespace', message: `namespace "${meta.namespace}" does not match --namespace "${namespace}"` }]);
  }
}

/** `file.yaml[0] IPPool a`, or `IPPool a` without an origin. */
export function subjectOf(origin: string | undefined, doc: unknown): string {
  return origin ? `${origin} ${describeResource(doc)}` : describeResource(doc);
}

/** One ValidationError whose message lists every problem of every error, one `Error:` line each. */
export function combineValidationErrors(errors: ValidationError[]): ValidationError {
  if (errors.length === 1) return errors[0]!;
  const first = errors[0]!;
  const combined = new ValidationError(first.subject, errors.flatMap((e) => e.issues));
  combined.message = errors.flatMap((e) => e.message.split('\n')).join('\nError: ');
  return combined;
}

/** Writes go tiers first, so the policies of the same batch find their tier. */
export function tiersFirst<T extends { resource: Resource }>(items: T[]): T[] {
  return [...items].sort((a, b) => Number(b.resource.kind === 'Tier') - Number(a.resource.kind === 'Tier'));
}

/** Deletes go tiers last, after the policies of the same batch that use them. */
export function tiersLast(targets: DeleteTarget[]): DeleteTarget[] {
  return [...targets].sort((a, b) => Number(a.kind === 'Tier') - Number(b.kind === 'Tier'));
}

/** Documents marked `brindle.io/preview: delete`: a write would do the opposite of what preview showed. */
export function previewDeleteIssues(items: PreparedDocument[], mode: WriteMode): ValidationError[] {
  return items
    .filter((p) => p.resource.metadata.annotations?.[PREVIEW_ANNOTATION] === 'delete')
    .map((p) => new ValidationError(subjectOf(p.origin, p.resource), [{ path: `metadata.annotations["${PREVIEW_ANNOTATION}"]`, message: `marked "delete" for policy preview, which ${mode} does not carry out: run "${deleteCommand(p.resource)}", or remove the annotation` }]));
}

function deleteCommand(r: Resource): string {
  return `brindle delete ${r.kind.toLowerCase()} ${r.metadata.name}${r.metadata.namespace !== undefined ? ` -n ${r.metadata.namespace}` : ''}`;
}

/** Prefixes an error's message with the document it is about (once). */
export function withOrigin<E extends Error>(err: E, origin: string | undefined): E {
  if (origin && !err.message.startsWith(origin)) err.message = `${origin} ${err.message}`;
  return err;
}
