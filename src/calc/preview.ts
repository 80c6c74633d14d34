import { k8sStoredIdentity } from '../api/k8s-input.js';
import { kindInfo } from '../api/kinds.js';
import { prepareResource } from '../api/prepare.js';
import type { Resource } from '../api/types.js';
import { ValidationError } from '../errors.js';

function invalid(subject: string, path: string, message: string): ValidationError {
  return new ValidationError(subject, [{ path, message }]);
}

/**
 * The input side of `brindle policy preview`: turns manifest documents into the resources they
 * would become once stored (validated, Kubernetes NetworkPolicy and Namespace converted, defaults
 * applied: the same `prepareResource` as `brindle apply`),
 * each marked as an apply or a delete, and overlays them on the current resources. Pure: the
 * caller reads files and the datastore; nothing here writes anything.
 *
 * Deletion is expressed either by passing documents through `--delete FILE`, or by annotating a
 * document in the applied file with `brindle.io/preview: delete`.
 */

export const PREVIEW_ANNOTATION = 'brindle.io/preview';

export interface PreviewChange {
  action: 'apply' | 'delete';
  resource: Resource;
}

/** Documents → stored-form resources with their action. Throws ValidationError naming the document. */
export function prepareDocuments(docs: unknown[], action: 'apply' | 'delete'): PreviewChange[] {
  return docs.map((doc, i) => {
    if (!doc || typeof doc !== 'object') throw invalid(`document ${i + 1}`, '', 'not an object');
    const d = doc as Partial<Resource> & { apiVersion?: string };
    if (typeof d.kind !== 'string' || !d.metadata || typeof d.metadata.name !== 'string' || d.metadata.name === '') {
      throw invalid(`document ${i + 1}`, typeof d.kind !== 'string' ? 'kind' : 'metadata.name', 'is required');
    }
    const marked = d.metadata.annotations?.[PREVIEW_ANNOTATION];
    if (marked !== undefined && marked !== 'delete' && marked !== 'apply') {
      throw invalid(`${d.kind} ${d.metadata.name}`, `metadata.annotations.${PREVIEW_ANNOTATION}`, `must be "delete" or "apply", got "${marked}"`);
    }
    const effective = marked === 'delete' ? 'delete' : action;
    return { action: effective, resource: toStored(d as Resource, i, effective) };
  });
}

/** Apply: the full write path's validation, conversion and defaults. Delete: only the identity is needed. */
function toStored(d: Resource, i: number, action: 'apply' | 'delete'): Resource {
  if (action === 'apply') return prepareResource(d, { subjectPrefix: `document ${i + 1}:` });
  let kind = d.kind;
  let name = d.metadata.name;
  const stored = k8sStoredIdentity(d);
  if (stored) ({ kind, name } = stored);
  const info = kindInfo(kind);
  if (!info || info.storedAs) throw invalid(`document ${i + 1}`, 'kind', `unknown kind "${d.kind}" (apiVersion ${d.apiVersion ?? 'missing'})`);
  const namespace = info.namespaced ? d.metadata.namespace ?? 'default' : undefined;
  return { apiVersion: d.apiVersion, kind, metadata: { name, ...(namespace !== undefined ? { namespace } : {}) }, spec: {} };
}

function identity(r: Resource): string {
  return `${r.kind}|${r.metadata.namespace ?? ''}|${r.metadata.name}`;
}

/** Current resources with the changes applied in order (later documents win). */
export function overlayResources(current: Resource[], changes: PreviewChange[]): Resource[] {
  const byId = new Map(current.map((r) => [identity(r), r]));
  for (const c of changes) {
    if (c.action === 'delete') byId.delete(identity(c.resource));
    else byId.set(identity(c.resource), c.resource);
  }
  return [...byId.values()];
}
