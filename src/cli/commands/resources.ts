import type { Command } from 'commander';
import { builtinResource } from '../../api/builtins.js';
import { lookupKind, type KindInfo } from '../../api/kinds.js';
import { PREVIEW_ANNOTATION } from '../../calc/preview.js';
import { describeResource, prepareResource } from '../../api/prepare.js';
import { K8S_POLICY_PREFIX, NAMESPACE_PROFILE_PREFIX, type IPPool, type Resource } from '../../api/types.js';
import { ResourceClient, tierInUseMessage } from '../../datastore/resource-client.js';
import { IpamClient } from '../../ipam/ipam-client.js';
import { BrindleError, isAlreadyExists, isNotFound, NotFoundError, UsageError, ValidationError } from '../../errors.js';
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
      const docs = prepareAll(readAll(o, await stdinText(ctx, o)), o.namespace);
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

type WriteMode = 'apply' | 'create' | 'replace';
const PAST: Record<WriteMode | 'delete', string> = { apply: 'applied', create: 'created', replace: 'replaced', delete: 'deleted' };

async function writeAll(ctx: CliContext, o: FileOptions, mode: WriteMode): Promise<void> {
  const docs = readAll(o, await stdinText(ctx, o));
  const prepared = prepareAll(docs, o.namespace);
  const marked = prepared.filter((p) => p.resource.metadata.annotations?.[PREVIEW_ANNOTATION] === 'delete');
  if (marked.length > 0) {
    // `policy preview` showed these as deleted; writing them would do the opposite.
    throw combine(marked.map((p) => new ValidationError(`${p.origin} ${describeResource(p.resource)}`, [{ path: `metadata.annotations["${PREVIEW_ANNOTATION}"]`, message: `marked "delete" for policy preview, which ${mode} does not carry out: run "${deleteCommand(p.resource)}", or remove the annotation` }])));
  }
  const client = new ResourceClient(await ctx.datastore('write'));
  const refIssues = await client.checkReferences(prepared.map((p) => p.resource), { updates: mode !== 'create' });
  if (refIssues.length > 0) {
    throw combine(refIssues.map(({ index, issues }) => new ValidationError(`${prepared[index]!.origin} ${describeResource(prepared[index]!.resource)}`, issues)));
  }
  // The batch was checked as a whole: write its tiers before the policies that may use them.
  const ordered = [...prepared].sort((a, b) => Number(b.resource.kind === 'Tier') - Number(a.resource.kind === 'Tier'));
  let done = 0;
  for (const { resource, origin } of ordered) {
    try {
      if (mode === 'apply') await client.apply(resource);
      else if (mode === 'replace') await client.update(resource);
      else {
        try {
          await client.create(resource);
        } catch (err) {
          if (!(o.skipExists && isAlreadyExists(err))) throw err;
        }
      }
      done++;
    } catch (err) {
      if (done > 0) ctx.err(`Partial success: ${PAST[mode]} the first ${done} out of ${prepared.length} resources:`);
      throw err instanceof BrindleError ? withOrigin(err, origin) : err;
    }
  }
  ctx.out(`Successfully ${PAST[mode]} ${done} resource(s)`);
}

async function deleteCmd(ctx: CliContext, kind: string | undefined, names: string[], o: FileOptions & { skipNotExists?: boolean }): Promise<void> {
  const targets: { kind: string; name: string; namespace?: string; origin?: string }[] = [];
  if (o.filename.length > 0) {
    if (kind !== undefined) throw new UsageError('give either KIND NAME… or -f FILE, not both');
    for (const { resource, origin } of prepareAll(readAll(o, await stdinText(ctx, o)), o.namespace)) {
      targets.push({ kind: resource.kind, name: resource.metadata.name, origin, ...(resource.metadata.namespace !== undefined ? { namespace: resource.metadata.namespace } : {}) });
    }
  } else {
    if (kind === undefined || names.length === 0) throw new UsageError('delete needs KIND and at least one NAME, or -f FILE');
    const info = resolveKind(kind);
    for (const name of names) targets.push({ kind: info.kind, name, ...(info.namespaced ? { namespace: o.namespace ?? 'default' } : {}) });
  }
  // Built-ins cannot be deleted: refuse before deleting anything else of the batch.
  const builtins = targets.filter((t) => builtinResource(t.kind, t.name));
  if (builtins.length > 0) {
    throw combine(builtins.map((t) => new ValidationError(`${t.origin ? `${t.origin} ` : ''}${t.kind} ${t.name}`, [{ path: '', message: 'built-in resources cannot be deleted' }])));
  }
  const client = new ResourceClient(await ctx.datastore('write'));
  // Tiers go last, after the policies of the same batch, and only if nothing outside the batch uses them.
  targets.sort((a, b) => Number(a.kind === 'Tier') - Number(b.kind === 'Tier'));
  const inUse: ValidationError[] = [];
  for (const t of targets.filter((x) => x.kind === 'Tier')) {
    const users = (await client.tierPolicies(t.name)).filter((p) => !targets.some((x) => x.kind === p.kind && x.name === p.metadata.name && x.namespace === p.metadata.namespace));
    if (users.length > 0) inUse.push(new ValidationError(`${t.origin ? `${t.origin} ` : ''}Tier ${t.name}`, [{ path: '', message: tierInUseMessage(users.map((p) => describeResource(p))) }]));
  }
  if (inUse.length > 0) throw combine(inUse);
  let done = 0;
  for (const t of targets) {
    try {
      const deleted = await client.delete(t.kind, t.name, t.namespace);
      done++;
      // As Calico does: nodes give up the deleted pool's blocks (empty ones are removed).
      if (deleted.kind === 'IPPool') await new IpamClient(await ctx.datastore('write')).releasePoolAffinities((deleted as IPPool).spec.cidr);
    } catch (err) {
      if (o.skipNotExists && isNotFound(err)) continue;
      if (isNotFound(err) && !t.origin) throw await notFound(client, t.kind, t.name, t.namespace, (err as Error).message);
      if (done > 0) ctx.err(`Partial success: deleted the first ${done} out of ${targets.length} resources:`);
      throw err instanceof BrindleError && t.origin ? withOrigin(err, t.origin) : err;
    }
  }
  ctx.out(`Successfully deleted ${done} resource(s)`);
}

/** Validates and defaults every document; if any is invalid, reports all of them and writes nothing. */
function prepareAll(docs: ManifestDocument[], namespace: string | undefined): { resource: Resource; origin: string }[] {
  const out: { resource: Resource; origin: string }[] = [];
  const errors: ValidationError[] = [];
  for (const d of docs) {
    try {
      checkNamespaceFlag(d, namespace);
      out.push({ resource: prepareResource(d.doc, { ...(namespace !== undefined ? { namespace } : {}), subjectPrefix: d.origin }), origin: d.origin });
    } catch (err) {
      if (err instanceof ValidationError) errors.push(err);
      else throw err;
    }
  }
  if (errors.length > 0) throw combine(errors);
  if (out.length === 0) throw new UsageError('no resources found in the given files');
  return out;
}

function checkNamespaceFlag(d: ManifestDocument, namespace: string | undefined): void {
  const meta = (d.doc as { metadata?: { namespace?: unknown } } | null)?.metadata;
  if (namespace !== undefined && typeof meta?.namespace === 'string' && meta.namespace !== namespace) {
    throw new ValidationError(`${d.origin} ${describeResource(d.doc)}`, [{ path: 'metadata.namespace', message: `namespace "${meta.namespace}" does not match --namespace "${namespace}"` }]);
  }
}

/** One ValidationError whose message lists every problem of every document, one `Error:` line each. */
function combine(errors: ValidationError[]): ValidationError {
  const first = errors[0]!;
  const combined = new ValidationError(first.subject, errors.flatMap((e) => e.issues));
  combined.message = errors.flatMap((e) => e.message.split('\n')).join('\nError: ');
  return combined;
}

function withOrigin(err: BrindleError, origin: string): BrindleError {
  if (!err.message.startsWith(origin)) err.message = `${origin} ${err.message}`;
  return err;
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

function deleteCommand(r: Resource): string {
  return `brindle delete ${r.kind.toLowerCase()} ${r.metadata.name}${r.metadata.namespace !== undefined ? ` -n ${r.metadata.namespace}` : ''}`;
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
