import { isK8sDocument } from '../api/k8s-conversion.js';
import { CALICO_API_VERSION, kindInfo } from '../api/kinds.js';
import { prepareResource } from '../api/prepare.js';
import { K8S_POLICY_PREFIX, NAMESPACE_PROFILE_PREFIX, type Resource } from '../api/types.js';
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

/**
 * What a document of the applied files previews as: `delete` when annotated
 * `brindle.io/preview: delete`, else `apply`. Any other annotation value is a ValidationError.
 */
export function previewAction(doc: unknown, subject: string): 'apply' | 'delete' {
  const marked = (doc as { metadata?: { annotations?: Record<string, unknown> } } | null)?.metadata?.annotations?.[PREVIEW_ANNOTATION];
  if (marked !== undefined && marked !== 'delete' && marked !== 'apply') {
    throw invalid(subject, `metadata.annotations.${PREVIEW_ANNOTATION}`, `must be "delete" or "apply", got "${String(marked)}"`);
  }
  return marked === 'delete' ? 'delete' : 'apply';
}

/** Documents → stored-form resources with their action. Throws ValidationError naming the document. */
export function prepareDocuments(docs: unknown[], action: 'apply' | 'delete'): PreviewChange[] {
  return docs.map((doc, i) => {
    const effective = previewAction(doc, `document ${i + 1}`) === 'delete' ? 'delete' : action;
    const resource = effective === 'apply' ? prepareResource(doc, { subjectPrefix: `document ${i + 1}:` }) : deletedIdentity(doc, `document ${i + 1}`);
    return { action: effective, resource };
  });
}

/**
 * The stored identity (kind, name, namespace) of a document previewed as deleted: only those are
 * read. A Kubernetes NetworkPolicy or Namespace maps to the name it is stored under.
 */
export function deletedIdentity(doc: unknown, subject: string): Resource {
  if (!doc || typeof doc !== 'object') throw invalid(subject, '', 'not an object');
  const d = doc as Partial<Resource> & { apiVersion?: string };
  if (typeof d.kind !== 'string' || !d.metadata || typeof d.metadata.name !== 'string' || d.metadata.name === '') {
    throw invalid(subject, typeof d.kind !== 'string' ? 'kind' : 'metadata.name', 'is required');
  }
  let kind = d.kind;
  let name = d.metadata.name;
  if (isK8sDocument(d)) {
    kind = d.kind === 'NetworkPolicy' ? 'NetworkPolicy' : 'Profile';
    name = (d.kind === 'NetworkPolicy' ? K8S_POLICY_PREFIX : NAMESPACE_PROFILE_PREFIX) + name;
  }
  const info = kindInfo(kind);
  if (!info || info.storedAs) throw invalid(subject, 'kind', `unknown kind "${d.kind}" (apiVersion ${d.apiVersion ?? 'missing'})`);
  const namespace = info.namespaced ? d.metadata.namespace ?? 'default' : undefined;
  return { apiVersion: d.apiVersion ?? CALICO_API_VERSION, kind, metadata: { name, ...(namespace !== undefined ? { namespace } : {}) }, spec: {} };
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
