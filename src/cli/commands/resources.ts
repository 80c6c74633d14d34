import type { Command } from 'commander';
import { lookupKind, type KindInfo } from '../../api/kinds.js';

import { K8S_POLICY_PREFIX, NAMESPACE_PROFILE_PREFIX, type Resource } from '../../api/types.js';
import { prepareDocuments } from '../../datastore/resource-batch.js';
import { BatchWriteError, ResourceClient, type DeleteTarget, type PreparedDocument, type WriteMode } from '../../datastore/resource-client.js';
import { ipamResourceClient } from '../../ipam/ipam-resource-client.js';
import { isNotFound, NotFoundError, UsageError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { readManifests, type ManifestDocument } from '../resources/manifest-reader.js';
import { applyMergePatch } from '../resources/merge-patch.js';
import { formatResources, parseOutputFormat } from '../resources/output-format.js';

/**
 * `brindle apply|create|replace|delete|get|patch|label|validate`: calicoctl's resource commands.
 * Writes are all-or-nothing up to the datastore: every document is parsed, validated and checked
 * against stored resources (tiers, pool overlaps) before the first write; each write is a
 * compare-and-swap through the ResourceClient.
 */
export function register(program: Command, ctx: CliContext): void {
  const files = (c: Command): Command =>
    c
      .option('-f, --filename <path>', 'file, directory or "-" (stdin) with YAML/JSON documents (repeatable)', collect, [])
      .option('-R, --recursive', 'read directories recursively')
      .option('-n, --namespace <ns>', 'namespace for namespaced resources that do not name one');

  files(program.command('apply').description('create or update resources from files'))
    .action(async (o: FileOptions) => writeAll(ctx, o, 'apply'));
  files(program.command('create').description('create resources from files (fails if one exists)'))
    .option('--skip-exists', 'skip resources that already exist instead of failing')
    .action(async (o: FileOptions) => writeAll(ctx, o, 'create'));
  files(program.command('replace').description('replace existing resources from files (compare-and-swap on resourceVersion if given)'))
    .action(async (o: FileOptions) => writeAll(ctx, o, 'replace'));
  files(program.command('validate').description('validate resources from files without writing them'))
    .action(async (o: FileOptions) => {
      const docs = prepareBatch(readAll(o, await stdinText(ctx, o)), o.namespace);
      ctx.out(`Successfully validated ${docs.length} resource(s)`);
    });

  files(program.command('delete').description('delete resources: KIND NAME… or -f FILE').argument('[kind]').argument('[names...]'))
    .option('-s, --skip-not-exists', 'do not fail for resources that do not exist')
    .action(async (kind: string | undefined, names: string[], o: FileOptions & { skipNotExists?: boolean }) => deleteCmd(ctx, kind, names, o));

  program
    .command('get')
    .description('show resources: KIND [NAME…]')
    .argument('<kind>', 'kind, plural or short name (ippools, gnp, pol, …)')
    .argument('[names...]')
    .option('-o, --output <format>', 'ps (table), wide, yaml or json', 'ps')
    .option('-n, --namespace <ns>', 'namespace (namespaced kinds; default "default")')
    .option('-A, --all-namespaces', 'list namespaced resources of every namespace')
    .action(async (kind: string, names: string[], o: { output: string; namespace?: string; allNamespaces?: boolean }) => {
      const info = resolveKind(kind);
      const format = parseOutputFormat(o.output);
      const client = new ResourceClient(await ctx.datastore('read'));
      const ns = info.namespaced ? (o.allNamespaces ? undefined : o.namespace ?? 'default') : undefined;
      let items: Resource[];
      if (names.length > 0) {
        if (info.namespaced && ns === undefined) throw new UsageError('a resource name cannot be combined with --all-namespaces');
        items = [];
        for (const name of names) {
          const r = await client.get(info.kind, name, ns);
          if (!r) throw await notFound(client, info.kind, name, ns, `resource does not exist: ${info.kind}(${ns ? `${ns}/` : ''}${name})`);
          items.push(r);
        }
      } else {
        items = (await client.list(info.kind, ns)).items;
        // calicoctl lists tiers in evaluation order (the order they apply in), not by name
        if (info.kind === 'Tier') items = byTierOrder(items);
      }
      // calicoctl shows a node without its own AS number with the cluster's, from BGPConfiguration default
      const clusterASNumber = info.kind === 'Node' && format === 'wide' ? ((await client.get('BGPConfiguration', 'default'))?.spec as { asNumber?: string | number } | undefined)?.asNumber ?? 64512 : undefined;
      ctx.io.stdout.write(formatResources(items, format, { kind: info.kind, single: names.length === 1, withNamespace: info.namespaced && !!o.allNamespaces, ...(clusterASNumber !== undefined ? { clusterASNumber } : {}) }));
    });

  program
    .command('patch')
    .description('patch one resource with a JSON merge patch')
    .argument('<kind>')
    .argument('<name>')
    .requiredOption('-p, --patch <json>', 'JSON merge patch, e.g. \'{"spec":{"natOutgoing":true}}\'')
    .option('-t, --type <type>', 'patch type (only "merge" is supported)', 'merge')
    .option('-n, --namespace <ns>', 'namespace (namespaced kinds; default "default")')
    .action(async (kind: string, name: string, o: { patch: string; type: string; namespace?: string }) => {
      if (o.type !== 'merge' && o.type !== 'strategic') throw new UsageError(`unsupported patch type "${o.type}": only merge is supported`);
      let patch: unknown;
      try {
        patch = JSON.parse(o.patch);
      } catch (err) {
        throw new UsageError(`--patch is not valid JSON: ${(err as Error).message}`);
      }
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
        throw new UsageError(`--patch must be a JSON object (a merge patch), e.g. '{"spec":{"natOutgoing":true}}'`);
      }
      const info = resolveKind(kind);
      const client = new ResourceClient(await ctx.datastore('write'));
      const current = await mustGet(client, info, name, o.namespace);
      const patched = applyMergePatch(current, patch) as Resource;
      // A patch changes one resource in place: it cannot turn it into another one.
      const moved = [
        ...(['apiVersion', 'kind'] as const).filter((f) => patched[f] !== current[f]),
        ...(['name', 'namespace'] as const).filter((f) => patched.metadata?.[f] !== current.metadata[f]).map((f) => `metadata.${f}`),
      ];
      if (moved.length > 0) throw new UsageError(`${moved.join(', ')} cannot be changed by patch (${info.kind} ${describeName(current)}); create a new resource instead`);
      patched.metadata = { ...patched.metadata, resourceVersion: current.metadata.resourceVersion! };
      await writeExisting(client, patched, current);
      ctx.out(`Successfully patched 1 '${info.kind}' resource`);
    });

  program
    .command('label')
    .description('add, change or remove a label: KIND NAME key=value | key --remove')
    .argument('<kind>')
    .argument('<name>')
    .argument('<label>', 'key=value to set, or key with --remove')
    .option('--overwrite', 'replace the value of an existing label')
    .option('--remove', 'remove the label')
    .option('-n, --namespace <ns>', 'namespace (namespaced kinds; default "default")')
    .action(async (kind: string, name: string, label: string, o: { overwrite?: boolean; remove?: boolean; namespace?: string }) => {
      const info = resolveKind(kind);
      const eq = label.indexOf('=');
      const key = eq < 0 ? label : label.slice(0, eq);
      const value = eq < 0 ? undefined : label.slice(eq + 1);
      if (o.remove ? value !== undefined : value === undefined) {
        throw new UsageError(o.remove ? 'with --remove give only the label key' : `label "${label}" must be key=value (or use --remove)`);
      }
      const client = new ResourceClient(await ctx.datastore('write'));
      const current = await mustGet(client, info, name, o.namespace);
      const labels = { ...(current.metadata.labels ?? {}) };
      const what = `${info.kind.toLowerCase()} ${describeName(current)}`;
      if (o.remove) {
        if (!(key in labels)) throw new NotFoundError(`label ${key} is not set on ${what}`);
        delete labels[key];
      } else {
        if (key in labels && labels[key] !== value && !o.overwrite) throw new UsageError(`label ${key} is already set on ${what} (value "${labels[key]}"); use --overwrite`);
        labels[key] = value!;
      }
      await writeExisting(client, { ...current, metadata: { ...current.metadata, labels } }, current);
      ctx.out(o.remove ? `Successfully removed label ${key} from ${what}` : `Successfully set label ${key} on ${what}`);
    });
}

interface FileOptions {
  filename: string[];
  recursive?: boolean;
  namespace?: string;
  skipExists?: boolean;
}

const PAST: Record<WriteMode | 'delete', string> = { apply: 'applied', create: 'created', replace: 'replaced', delete: 'deleted' };

/** apply, create, replace: the batch rules are the ResourceClient's (`applyBatch`); this reads files and reports. */
async function writeAll(ctx: CliContext, o: FileOptions, mode: WriteMode): Promise<void> {
  const docs = readAll(o, await stdinText(ctx, o));
  const client = ipamResourceClient(await ctx.datastore('write'));
  try {
    const { written, skipped } = await client.applyBatch(docs, { mode, ...(o.namespace !== undefined ? { namespace: o.namespace } : {}), skipExists: !!o.skipExists });
    ctx.out(`Successfully ${PAST[mode]} ${written.length + skipped.length} resource(s)`);
  } catch (err) {
    if (err instanceof BatchWriteError) ctx.err(`Partial success: ${PAST[mode]} the first ${err.done} out of ${err.total} resources:`);
    throw err;
  }
}

async function deleteCmd(ctx: CliContext, kind: string | undefined, names: string[], o: FileOptions & { skipNotExists?: boolean }): Promise<void> {
  const targets: DeleteTarget[] = [];
  if (o.filename.length > 0) {
    if (kind !== undefined) throw new UsageError('give either KIND NAME… or -f FILE, not both');
    for (const { resource, origin } of prepareBatch(readAll(o, await stdinText(ctx, o)), o.namespace)) {
      targets.push({ kind: resource.kind, name: resource.metadata.name, ...(origin !== undefined ? { origin } : {}), ...(resource.metadata.namespace !== undefined ? { namespace: resource.metadata.namespace } : {}) });
    }
  } else {
    if (kind === undefined || names.length === 0) throw new UsageError('delete needs KIND and at least one NAME, or -f FILE');
    const info = resolveKind(kind);
    for (const name of names) targets.push({ kind: info.kind, name, ...(info.namespaced ? { namespace: o.namespace ?? 'default' } : {}) });
  }
  const client = ipamResourceClient(await ctx.datastore('write'));
  try {
    const { deleted } = await client.deleteBatch(targets, { skipNotExists: !!o.skipNotExists });
    ctx.out(`Successfully deleted ${deleted.length} resource(s)`);
  } catch (err) {
    const cause = err instanceof BatchWriteError ? (err.cause as Error) : err;
    // KIND NAME of a Kubernetes object: point at the name it is stored under
    const single = targets.length === 1 && !targets[0]!.origin ? targets[0]! : undefined;
    if (single && isNotFound(cause)) throw await notFound(client, single.kind, single.name, single.namespace, (cause as Error).message);
    if (err instanceof BatchWriteError) ctx.err(`Partial success: deleted the first ${err.done} out of ${err.total} resources:`);
    throw err;
  }
}

/** Validates and defaults every document; if any is invalid, reports all of them and writes nothing. */
function prepareBatch(docs: ManifestDocument[], namespace: string | undefined): PreparedDocument[] {
  return prepareDocuments(docs, namespace !== undefined ? { namespace } : {});
}

function readAll(o: FileOptions, stdin: string): ManifestDocument[] {
  if (o.filename.length === 0) throw new UsageError('-f FILE is required (a file, a directory or - for stdin)');
  return readManifests(o.filename, { recursive: !!o.recursive, readStdin: () => stdin });
}

async function stdinText(ctx: CliContext, o: FileOptions): Promise<string> {
  if (!o.filename.includes('-')) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function resolveKind(kind: string): KindInfo {
  const info = lookupKind(kind);
  if (!info) throw new UsageError(`unknown resource kind "${kind}"`);
  if (info.storedAs) throw new UsageError(`${info.kind} resources are stored as ${info.storedAs}: use "${info.storedAs.toLowerCase()}" instead`);
  return info;
}

async function mustGet(client: ResourceClient, info: KindInfo, name: string, namespace: string | undefined): Promise<Resource> {
  const ns = info.namespaced ? namespace ?? 'default' : undefined;
  const r = await client.get(info.kind, name, ns);
  if (!r) throw await notFound(client, info.kind, name, ns, `resource does not exist: ${info.kind}(${ns ? `${ns}/` : ''}${name})`);
  return r;
}

/** A NotFoundError that points at the stored form of a Kubernetes NetworkPolicy or Namespace of that name. */
async function notFound(client: ResourceClient, kind: string, name: string, namespace: string | undefined, message: string): Promise<NotFoundError> {
  const prefix = kind === 'NetworkPolicy' ? K8S_POLICY_PREFIX : kind === 'Profile' ? NAMESPACE_PROFILE_PREFIX : undefined;
  const alias = prefix !== undefined && !name.startsWith(prefix) ? prefix + name : undefined;
  if (alias === undefined || !(await client.get(kind, alias, namespace))) return new NotFoundError(message);
  const what = kind === 'NetworkPolicy' ? 'Kubernetes NetworkPolicy' : 'Kubernetes Namespace';
  return new NotFoundError(`${message}; the ${what} "${name}" is stored as ${kind} "${alias}": use that name`);
}

/** Writes a modified copy of a resource just read: CAS on its revision; built-ins not yet stored are applied. */
async function writeExisting(client: ResourceClient, next: Resource, current: Resource): Promise<void> {
  if (current.metadata.resourceVersion === undefined) {
    const { resourceVersion: _rv, ...metadata } = next.metadata;
    await client.apply({ ...next, metadata });
  } else {
    await client.update({ ...next, metadata: { ...next.metadata, resourceVersion: current.metadata.resourceVersion } });
  }
}

function byTierOrder(tiers: Resource[]): Resource[] {
  const order = (t: Resource): number => (t.spec as { order?: number }).order ?? Number.POSITIVE_INFINITY;
  return [...tiers].sort((a, b) => order(a) - order(b) || (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
}

function describeName(r: Resource): string {
  return r.metadata.namespace ? `${r.metadata.namespace}/${r.metadata.name}` : r.metadata.name;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
