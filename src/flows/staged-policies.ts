import type { Resource } from '../api/types.js';

/** Staged kinds and the kinds they stage. */
const ENFORCED_KIND: Record<string, string> = { StagedNetworkPolicy: 'NetworkPolicy', StagedGlobalNetworkPolicy: 'GlobalNetworkPolicy' };

/**
 * The resources as they would be if every staged policy were enforced: a staged policy with
 * `stagedAction: Set` (the default) becomes its enforced kind under the same name, replacing an
 * enforced policy of that name (Calico's staged semantics: "what if this replaced it"); one with
 * `Delete` removes the enforced policy it names. Used to compute what staged policies would do with
 * a flow and, in `policy preview --staged`, to preview them. Returns the keys of the policies that
 * came from staged ones (`<tier>/<namespace or _>/<name>`). Staged Kubernetes policies are left
 * out (not converted). Pure.
 */
export function enforceStaged(resources: readonly Resource[]): { resources: Resource[]; stagedKeys: Set<string> } {
  const id = (kind: string, r: Resource): string => `${kind}|${r.metadata.namespace ?? ''}|${r.metadata.name}`;
  const out = new Map<string, Resource>();
  const staged: Resource[] = [];
  for (const r of resources) {
    if (ENFORCED_KIND[r.kind]) staged.push(r);
    else out.set(id(r.kind, r), r);
  }
  const stagedKeys = new Set<string>();
  for (const r of staged) {
    const kind = ENFORCED_KIND[r.kind]!;
    const spec = { ...((r.spec ?? {}) as Record<string, unknown>) };
    const action = spec['stagedAction'] ?? 'Set';
    delete spec['stagedAction'];
    if (action === 'Delete') {
      out.delete(id(kind, r));
      continue;
    }
    if (action !== 'Set') continue;
    out.set(id(kind, r), { ...r, kind, spec });
    stagedKeys.add(`${(spec['tier'] as string | undefined) ?? 'default'}/${r.metadata.namespace ?? '_'}/${r.metadata.name}`);
  }
  return { resources: [...out.values()], stagedKeys };
}
