import { stringify } from 'yaml';
import { inSchemaOrder } from '../../api/field-order.js';
import { CALICO_API_VERSION, kubectlName } from '../../api/kinds.js';
import type { Resource } from '../../api/types.js';
import { UsageError } from '../../errors.js';
import { columnsFor, renderTable } from './table-columns.js';

export type OutputFormat = 'ps' | 'wide' | 'yaml' | 'json' | 'name';

export function parseOutputFormat(v: string | undefined): OutputFormat {
  const f = v ?? 'ps';
  if (f === 'ps' || f === 'wide' || f === 'yaml' || f === 'json' || f === 'name') return f;
  throw new UsageError(`unsupported output format "${f}": use ps, wide, yaml, json or name`);
}

/**
 * Renders resources for `brindle get`. YAML and JSON output is valid input for `apply`: one
 * resource is printed as itself, several as a `kind: List` with `items`.
 */
export function formatResources(items: Resource[], format: OutputFormat, opts: { kind: string; single: boolean; withNamespace: boolean; clusterASNumber?: string | number }): string {
  if (format === 'name') return items.map((r) => kubectlName(r.kind, r.metadata.name) + '\n').join('');
  if (format === 'ps' || format === 'wide') return renderTable(columnsFor(opts.kind, format === 'wide', opts.withNamespace, opts.clusterASNumber), items);
  const ordered = items.map((r) => inSchemaOrder(r));
  const value = opts.single && ordered.length === 1 ? ordered[0] : { apiVersion: CALICO_API_VERSION, kind: 'List', items: ordered };
  if (format === 'json') return JSON.stringify(value, null, 2) + '\n';
  return stringify(value, { lineWidth: 0 });
}
