import { ValidationError } from '../errors.js';
import { deepCopy } from './copy.js';
import { applyDefaults } from './defaults.js';
import { inSchemaOrder } from './field-order.js';
import { convertK8sNetworkPolicy, convertNamespace, isK8sDocument, type K8sNamespace, type K8sNetworkPolicy } from './k8s-conversion.js';
import { kindInfo } from './kinds.js';
import { checkResourceSize } from './resource-size.js';
import { SERVER_METADATA } from './schema.js';
import { coerceDocumentScalars } from './scalar-coercion.js';
import type { Resource } from './types.js';
import { validateResource } from './validate.js';

/**
 * Turns one input document into the resource Brindle stores: numbers and booleans in string fields
 * become strings (as calicoctl reads YAML), validate what was written, convert
 * Kubernetes objects to their Calico kinds, fill the namespace and defaults, validate again.
 * Throws ValidationError (every issue, with paths) naming the document; a document over
 * MAX_RESOURCE_BYTES is refused first. Pure.
 */
export function prepareResource(doc: unknown, opts: { namespace?: string; subjectPrefix?: string } = {}): Resource {
  // Before anything else: validating a 50 MB document would take a minute and gigabytes.
  checkResourceSize(opts.subjectPrefix ? `${opts.subjectPrefix} ${describeResource(doc)}` : describeResource(doc), JSON.stringify(doc) ?? '');
  const raw = coerceDocumentScalars(deepCopy(doc)) as Record<string, any>;
  const k8sNamespaced = isObj(raw) && isK8sDocument(raw) && raw['kind'] === 'NetworkPolicy';
  const info = isObj(raw) && typeof raw['kind'] === 'string' ? kindInfo(raw['kind']) : undefined;
  if (isObj(raw) && isObj(raw['metadata']) && (info?.namespaced || k8sNamespaced) && raw['metadata']['namespace'] === undefined) {
    raw['metadata']['namespace'] = opts.namespace ?? 'default';
  }
  const subject = (r: unknown): string => (opts.subjectPrefix ? `${opts.subjectPrefix} ${describeResource(r)}` : describeResource(r));
  const first = validateResource(raw);
  if (first.length > 0) throw new ValidationError(subject(raw), first);
  // What only a server sets (status, managedFields, …) is read but not kept, as an API server does.
  delete raw['status'];
  for (const f of SERVER_METADATA) delete raw['metadata'][f];
  let resource = raw as Resource;
  if (isK8sDocument(raw)) {
    resource = raw['kind'] === 'Namespace' ? convertNamespace(raw as K8sNamespace) : convertK8sNetworkPolicy(raw as K8sNetworkPolicy);
  }
  const defaulted = applyDefaults(resource);
  const second = validateResource(defaulted);
  if (second.length > 0) throw new ValidationError(subject(defaulted), second);
  return inSchemaOrder(defaulted);
}

/** `NetworkPolicy ns/name`, `IPPool name`, or as much as the document says. */
export function describeResource(doc: unknown): string {
  if (!isObj(doc)) return 'document';
  const kind = typeof doc['kind'] === 'string' ? doc['kind'] : 'resource';
  const meta = isObj(doc['metadata']) ? doc['metadata'] : {};
  const name = typeof meta['name'] === 'string' && meta['name'] !== '' ? meta['name'] : '(no name)';
  return typeof meta['namespace'] === 'string' ? `${kind} ${meta['namespace']}/${name}` : `${kind} ${name}`;
}

function isObj(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
