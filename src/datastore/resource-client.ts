import { randomUUID } from 'node:crypto';
import { builtinResource, builtinResources } from '../api/builtins.js';
import { blockPrefix } from '../api/keys.js';
import { cidrOverlaps, formatCidr, tryParseCidr, type Cidr } from '../net/cidr.js';
import { KINDS, kindInfo, lookupKind, parseResourceKey, resourceKey, resourcePrefix, RESOURCE_KEY_ROOT, type KindInfo } from '../api/kinds.js';
import { inSchemaOrder } from '../api/field-order.js';
import { checkResourceSize } from '../api/resource-size.js';
import { describeResource, prepareResource } from '../api/prepare.js';
import type { IPPool, IPPoolSpec, Resource } from '../api/types.js';
import { AlreadyExistsError, ConflictError, isAlreadyExists, isConflict, isNotFound, NotFoundError, UsageError, ValidationError, type ValidationIssue } from '../errors.js';
import type { Datastore, KeyValue } from './datastore.js';
import {
  BatchWriteError,
  combineValidationErrors,
  prepareDocuments,
  previewDeleteIssues,
  subjectOf,
  tiersFirst,
  tiersLast,
  withOrigin,
  type BatchDocument,
  type DeleteTarget,
  type PreparedDocument,
  type WriteMode,
} from './resource-batch.js';
import { decodeResource, encodeResource } from './resource-codec.js';

export { BatchWriteError, type BatchDocument, type DeleteTarget, type PreparedDocument, type WriteMode } from './resource-batch.js';

const POLICY_KINDS = new Set(['NetworkPolicy', 'GlobalNetworkPolicy', 'StagedNetworkPolicy', 'StagedGlobalNetworkPolicy']);
const APPLY_ATTEMPTS = 5;
const BUILTIN_SPEC_FIXED = 'the spec of a built-in resource cannot be changed';

export interface ResourceClientOptions {
  /**
   * Called after an IPPool is deleted (by `delete` or `deleteBatch`). Calico's pool delete makes
   * every node give up the pool's blocks; IPAM does that, and sits above this client, so it is
   * injected: `ipamResourceClient(ds)` (src/ipam/ipam-resource-client.ts) wires it. Without it,
   * deleting a pool leaves its blocks affine to their nodes.
   */
  onPoolDeleted?: (pool: IPPool) => Promise<void>;
}

/**
 * The one client for v3 resources over a Datastore, used by the CLI, IPAM, the policy tools and
 * controllers. Every write is validated and defaulted (`prepareResource`), checked against what is
 * stored (tier exists, pools don't overlap, immutable fields unchanged, built-ins stay fixed, at
 * most MAX_RESOURCE_BYTES) and written with compare-and-swap. Built-in tiers and the default-allow
 * profile are always readable. It does not watch; consumers watch the Datastore directly.
 *
 * Batches (what `brindle apply|create|replace|delete -f` and `policy preview` do) have their own
 * rules, which live here so every caller gets them: `prepareBatch` + `checkBatch` validate a whole
 * batch before anything is written, `applyBatch` writes tiers first, `checkDeleteBatch` +
 * `deleteBatch` refuse built-ins and tiers still in use and delete tiers last.
 */
export class ResourceClient {
  constructor(
    private readonly ds: Datastore,
    private readonly options: ResourceClientOptions = {},
  ) {}

  async get(kind: string, name: string, namespace?: string): Promise<Resource | null> {
    const info = this.kind(kind);
    const kv = await this.ds.get(resourceKey(info, name, namespace));
    if (kv) return decodeResource(kv);
    return builtinResource(info.kind, name) ?? null;
  }

  async list(kind: string, namespace?: string): Promise<{ items: Resource[]; revision: number }> {
    const info = this.kind(kind);
    const res = await this.ds.list(resourcePrefix(info, namespace));
    const items = res.items.map((kv) => decodeResource(kv));
    return { items: withBuiltins(info.kind, items), revision: res.revision };
  }

  async listAll(): Promise<{ items: Resource[]; revision: number }> {
    const res = await this.ds.list(RESOURCE_KEY_ROOT);
    const byKind = new Map<string, Resource[]>();
    for (const kv of res.items) {
      const parsed = parseResourceKey(kv.key);
      const info = parsed && KINDS.find((k) => k.plural === parsed.plural && !k.storedAs);
      if (!info) continue;
      const list = byKind.get(info.kind) ?? [];
      list.push(decodeResource(kv));
      byKind.set(info.kind, list);
    }
    const items: Resource[] = [];
    for (const k of KINDS) if (!k.storedAs) items.push(...withBuiltins(k.kind, byKind.get(k.kind) ?? []));
    return { items, revision: res.revision };
  }

  /** Validates and defaults without writing (the first step of every write). */
  prepare(doc: unknown, namespace?: string): Resource {
    return prepareResource(doc, namespace !== undefined ? { namespace } : {});
  }

  /**
   * Checks what depends on other resources for a batch about to be written, as if the whole batch
   * were stored: referenced tiers exist, pools don't overlap; with `updates` (apply, replace), stored
   * pools keep their immutable fields and built-ins their spec. Returns the issues per batch index.
   */
  async checkReferences(batch: Resource[], opts: { updates?: boolean } = {}): Promise<{ index: number; issues: ValidationIssue[] }[]> {
    // Only what the batch's kinds depend on is read (a WorkloadEndpoint written by the CNI plugin needs neither).
    const needsTiers = batch.some((r) => POLICY_KINDS.has(r.kind));
    const tiers = new Set(needsTiers ? (await this.list('Tier')).items.map((t) => t.metadata.name) : []);
    for (const r of batch) if (r.kind === 'Tier') tiers.add(r.metadata.name);
    const pools = batch.some((r) => r.kind === 'IPPool') ? (await this.list('IPPool')).items : [];
    // Allocation blocks outlive the pool they were carved from: read them when a pool is created.
    const blocks = batch.some((r) => r.kind === 'IPPool' && !pools.some((p) => p.metadata.name === r.metadata.name)) ? await this.allocationBlocks() : [];
    const out: { index: number; issues: ValidationIssue[] }[] = [];
    batch.forEach((r, index) => {
      const issues: ValidationIssue[] = [];
      if (POLICY_KINDS.has(r.kind)) {
        const tier = (r.spec as { tier?: string }).tier ?? 'default';
        if (!tiers.has(tier)) issues.push({ path: 'spec.tier', message: `tier "${tier}" does not exist; create the Tier first` });
      }
      // Overlap is checked when a pool is created, as Calico does: a stored pool can always be
      // updated (its CIDR is immutable), so overlapping pools left by an interrupted split can be disabled.
      // For a batch that will update stored pools, immutable fields are checked here too (not only
      // when writing each one), so a batch changing a pool's CIDR writes nothing at all.
      const storedPool = r.kind === 'IPPool' ? pools.find((p) => p.metadata.name === r.metadata.name) : undefined;
      if (storedPool && opts.updates) issues.push(...immutableFieldIssues(storedPool, r));
      const builtin = opts.updates ? builtinResource(r.kind, r.metadata.name) : undefined;
      if (builtin && JSON.stringify(sortKeys(builtin.spec)) !== JSON.stringify(sortKeys(r.spec))) issues.push({ path: 'spec', message: BUILTIN_SPEC_FIXED });
      if (r.kind === 'IPPool' && !storedPool) {
        const others = [...pools.filter((p) => !batch.some((b) => b.kind === 'IPPool' && b.metadata.name === p.metadata.name)), ...batch.filter((b, i) => i !== index && b.kind === 'IPPool')];
        issues.push(...poolOverlapIssues(r, others));
        issues.push(...blockSizeIssues(r, blocks));
      }
      if (issues.length > 0) out.push({ index, issues });
    });
    return out;
  }

  async create(doc: Resource): Promise<Resource> {
    const r = this.prepare(doc);
    const info = this.kind(r.kind);
    const subject = describeResource(r);
    if (builtinResource(r.kind, r.metadata.name)) throw new AlreadyExistsError(`${subject} already exists (it is built in)`);
    await this.checkDependencies(r, subject);
    const stored: Resource = { ...r, metadata: { ...r.metadata, uid: r.metadata.uid ?? randomUUID(), creationTimestamp: r.metadata.creationTimestamp ?? new Date().toISOString() } };
    try {
      const value = encodeResource(inSchemaOrder(stored));
      checkResourceSize(subject, value);
      const kv = await this.ds.create(resourceKey(info, r.metadata.name, r.metadata.namespace), value);
      return decodeResource(kv);
    } catch (err) {
      if (isAlreadyExists(err)) throw new AlreadyExistsError(`${subject} already exists`, { cause: err });
      throw err;
    }
  }

  async update(doc: Resource): Promise<Resource> {
    const r = this.prepare(doc);
    const info = this.kind(r.kind);
    const subject = describeResource(r);
    const key = resourceKey(info, r.metadata.name, r.metadata.namespace);
    const current = await this.ds.get(key);
    if (!current) {
      if (builtinResource(r.kind, r.metadata.name)) return this.storeBuiltin(r, subject);
      throw new NotFoundError(`${subject} does not exist`);
    }
    return this.write(r, subject, current, r.metadata.resourceVersion);
  }

  async apply(doc: Resource): Promise<Resource> {
    const r = this.prepare(doc);
    const info = this.kind(r.kind);
    const subject = describeResource(r);
    const key = resourceKey(info, r.metadata.name, r.metadata.namespace);
    for (let attempt = 1; ; attempt++) {
      const current = await this.ds.get(key);
      try {
        if (current) return await this.write(r, subject, current, r.metadata.resourceVersion);
        if (builtinResource(r.kind, r.metadata.name)) return await this.storeBuiltin(r, subject);
        return await this.create(r);
      } catch (err) {
        // Lost a race with another writer: re-read and try again, unless the caller pinned a version.
        const raced = isConflict(err) || isAlreadyExists(err) || isNotFound(err);
        if (!raced || r.metadata.resourceVersion !== undefined || attempt >= APPLY_ATTEMPTS) throw err;
      }
    }
  }

  async delete(kind: string, name: string, namespace?: string, resourceVersion?: string): Promise<Resource> {
    const info = this.kind(kind);
    const subject = info.namespaced ? `${info.kind} ${namespace ?? 'default'}/${name}` : `${info.kind} ${name}`;
    if (builtinResource(info.kind, name)) throw new ValidationError(subject, [{ path: '', message: 'built-in resources cannot be deleted' }]);
    const key = resourceKey(info, name, namespace);
    const current = await this.ds.get(key);
    if (!current) throw new NotFoundError(`${subject} does not exist`);
    if (info.kind === 'Tier') {
      const users = (await this.tierPolicies(name)).map((p) => describeResource(p));
      if (users.length > 0) throw new ValidationError(subject, [{ path: '', message: tierInUseMessage(users) }]);
    }
    const expected = resourceVersion !== undefined ? Number(resourceVersion) : current.modRevision;
    if (resourceVersion !== undefined && expected !== current.modRevision) throw staleError(subject, resourceVersion, current.modRevision);
    try {
      await this.ds.delete(key, expected);
    } catch (err) {
      if (isConflict(err)) throw staleError(subject, String(expected), undefined, err);
      if (isNotFound(err)) throw new NotFoundError(`${subject} does not exist`, { cause: err });
      throw err;
    }
    const deleted = decodeResource(current);
    if (deleted.kind === 'IPPool' && this.options.onPoolDeleted) await this.options.onPoolDeleted(deleted as IPPool);
    return deleted;
  }

  // ---------------------------------------------------------------- batches

  /**
   * Validates and defaults every document (ValidationError listing all problems, each named by
   * its origin) without reading the datastore. `namespace` fills namespaced resources that name none.
   */
  prepareBatch(docs: BatchDocument[], opts: { namespace?: string } = {}): PreparedDocument[] {
    return prepareDocuments(docs, opts);
  }

  /**
   * Checks a prepared batch against what is stored, as if the whole batch were written: tiers
   * exist (or are in the batch), pools don't overlap, built-ins keep their spec, stored pools their
   * immutable fields (`mode` apply/replace). Throws one ValidationError listing every problem.
   */
  async checkBatch(items: PreparedDocument[], opts: { mode: WriteMode }): Promise<void> {
    const found = await this.checkReferences(items.map((p) => p.resource), { updates: opts.mode !== 'create' });
    if (found.length > 0) throw combineValidationErrors(found.map(({ index, issues }) => new ValidationError(subjectOf(items[index]!.origin, items[index]!.resource), issues)));
  }

  /**
   * Writes a batch all-or-nothing up to the datastore: every document is validated and checked
   * (`prepareBatch`, `checkBatch`, and no document marked `brindle.io/preview: delete`) before the
   * first write; then tiers are written first, each resource with compare-and-swap. `mode`:
   * apply (create or update), create (AlreadyExists unless `skipExists`), replace (must exist).
   * A failure after some writes is a BatchWriteError saying how many were written.
   */
  async applyBatch(docs: BatchDocument[], opts: { mode: WriteMode; namespace?: string; skipExists?: boolean }): Promise<{ written: Resource[]; skipped: Resource[] }> {
    const items = this.prepareBatch(docs, opts.namespace !== undefined ? { namespace: opts.namespace } : {});
    const marked = previewDeleteIssues(items, opts.mode);
    if (marked.length > 0) throw combineValidationErrors(marked);
    await this.checkBatch(items, { mode: opts.mode });
    const written: Resource[] = [];
    const skipped: Resource[] = [];
    for (const { resource, origin } of tiersFirst(items)) {
      try {
        if (opts.mode === 'apply') written.push(await this.apply(resource));
        else if (opts.mode === 'replace') written.push(await this.update(resource));
        else {
          try {
            written.push(await this.create(resource));
          } catch (err) {
            if (!(opts.skipExists && isAlreadyExists(err))) throw err;
            skipped.push(resource);
          }
        }
      } catch (err) {
        const e = withOrigin(err as Error, origin);
        throw written.length > 0 ? new BatchWriteError(e, written.length, items.length) : e;
      }
    }
    return { written, skipped };
  }

  /**
   * Checks a delete batch before anything is deleted: built-ins cannot be deleted, and a tier can
   * only go if every policy still in it is deleted by the same batch. Returns the targets in delete
   * order (tiers last). Throws one ValidationError listing every problem.
   */
  async checkDeleteBatch(targets: DeleteTarget[]): Promise<DeleteTarget[]> {
    const normalised = targets.map((t) => {
      const info = this.kind(t.kind);
      return { ...t, kind: info.kind, ...(info.namespaced ? { namespace: t.namespace ?? 'default' } : {}) };
    });
    const builtins = normalised.filter((t) => builtinResource(t.kind, t.name));
    if (builtins.length > 0) {
      throw combineValidationErrors(builtins.map((t) => new ValidationError(`${t.origin ? `${t.origin} ` : ''}${t.kind} ${t.name}`, [{ path: '', message: 'built-in resources cannot be deleted' }])));
    }
    const inUse: ValidationError[] = [];
    for (const t of normalised.filter((x) => x.kind === 'Tier')) {
      const users = (await this.tierPolicies(t.name)).filter((p) => !normalised.some((x) => x.kind === p.kind && x.name === p.metadata.name && x.namespace === p.metadata.namespace));
      if (users.length > 0) inUse.push(new ValidationError(`${t.origin ? `${t.origin} ` : ''}Tier ${t.name}`, [{ path: '', message: tierInUseMessage(users.map((p) => describeResource(p))) }]));
    }
    if (inUse.length > 0) throw combineValidationErrors(inUse);
    return tiersLast(normalised);
  }

  /**
   * Deletes a batch after `checkDeleteBatch`, one resource at a time, tiers last; a deleted pool's
   * blocks are given up (`onPoolDeleted`). With `skipNotExists`, targets already gone are skipped.
   * A failure after some deletes is a BatchWriteError saying how many were deleted.
   */
  async deleteBatch(targets: DeleteTarget[], opts: { skipNotExists?: boolean } = {}): Promise<{ deleted: Resource[]; missing: DeleteTarget[] }> {
    const ordered = await this.checkDeleteBatch(targets);
    const deleted: Resource[] = [];
    const missing: DeleteTarget[] = [];
    for (const t of ordered) {
      try {
        deleted.push(await this.delete(t.kind, t.name, t.namespace));
      } catch (err) {
        if (opts.skipNotExists && isNotFound(err)) {
          missing.push(t);
          continue;
        }
        const e = withOrigin(err as Error, t.origin);
        throw deleted.length > 0 ? new BatchWriteError(e, deleted.length, ordered.length) : e;
      }
    }
    return { deleted, missing };
  }

  /** The policies (of every policy kind) in a tier: a tier can be deleted only when there are none. */
  async tierPolicies(tier: string): Promise<Resource[]> {
    const out: Resource[] = [];
    for (const k of POLICY_KINDS) for (const p of (await this.list(k)).items) if ((p.spec as { tier?: string }).tier === tier) out.push(p);
    return out;
  }

  // ---------------------------------------------------------------- internals

  private kind(kind: string): KindInfo {
    const info = kindInfo(kind) ?? lookupKind(kind);
    if (!info) throw new UsageError(`unknown resource kind "${kind}"`);
    if (info.storedAs) return kindInfo(info.storedAs)!;
    return info;
  }

  private async write(r: Resource, subject: string, current: KeyValue, resourceVersion: string | undefined): Promise<Resource> {
    const existing = decodeResource(current);
    if (resourceVersion !== undefined && Number(resourceVersion) !== current.modRevision) throw staleError(subject, resourceVersion, current.modRevision);
    const issues = immutableFieldIssues(existing, r);
    if (issues.length > 0) throw new ValidationError(subject, issues);
    await this.checkDependencies(r, subject);
    const meta = { ...r.metadata, uid: r.metadata.uid ?? existing.metadata.uid, creationTimestamp: r.metadata.creationTimestamp ?? existing.metadata.creationTimestamp };
    if (meta.uid === undefined) delete meta.uid;
    if (meta.creationTimestamp === undefined) delete meta.creationTimestamp;
    const value = encodeResource(inSchemaOrder({ ...r, metadata: meta }));
    checkResourceSize(subject, value);
    // Writing what is already stored changes nothing: skip it so watchers see no spurious event.
    if (value === current.value) return existing;
    try {
      const kv = await this.ds.update(current.key, value, current.modRevision);
      return decodeResource(kv);
    } catch (err) {
      if (isConflict(err)) throw staleError(subject, resourceVersion ?? String(current.modRevision), undefined, err);
      if (isNotFound(err)) throw new NotFoundError(`${subject} was deleted while being updated`, { cause: err });
      throw err;
    }
  }

  /** A built-in resource being written for the first time: allowed only with its fixed spec. */
  private async storeBuiltin(r: Resource, subject: string): Promise<Resource> {
    const builtin = builtinResource(r.kind, r.metadata.name)!;
    if (JSON.stringify(sortKeys(builtin.spec)) !== JSON.stringify(sortKeys(r.spec))) {
      throw new ValidationError(subject, [{ path: 'spec', message: BUILTIN_SPEC_FIXED }]);
    }
    // Nothing to record beyond the built-in itself: leave it unstored (no write, no event).
    if (!r.metadata.labels && !r.metadata.annotations) return builtin;
    const kv = await this.ds.create(resourceKey(this.kind(r.kind), r.metadata.name), encodeResource(inSchemaOrder(r)));
    return decodeResource(kv);
  }

  /** The CIDRs of every IPAM allocation block (both families). */
  private async allocationBlocks(): Promise<Cidr[]> {
    const out: Cidr[] = [];
    for (const family of [4, 6] as const) {
      for (const kv of (await this.ds.list(blockPrefix(family))).items) {
        const cidr = tryParseCidr((JSON.parse(kv.value) as { cidr?: string }).cidr ?? '');
        if (cidr) out.push(cidr);
      }
    }
    return out;
  }

  private async checkDependencies(r: Resource, subject: string): Promise<void> {
    const found = await this.checkReferences([r]);
    if (found.length > 0) throw new ValidationError(subject, found[0]!.issues);
  }
}

function immutableFieldIssues(existing: Resource, next: Resource): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (next.kind === 'IPPool') {
    const a = existing.spec as IPPoolSpec;
    const b = next.spec as IPPoolSpec;
    if (a.cidr !== b.cidr) issues.push({ path: 'spec.cidr', message: `cidr cannot be changed (was ${a.cidr}); create a new pool instead` });
    if (a.blockSize !== b.blockSize) issues.push({ path: 'spec.blockSize', message: `blockSize cannot be changed (was ${a.blockSize})` });
    if ((a.allowedUses ?? []).includes('LoadBalancer') && !(b.allowedUses ?? []).includes('LoadBalancer')) {
      issues.push({ path: 'spec.allowedUses', message: 'a LoadBalancer pool cannot be changed to another use' });
    }
  }
  const builtin = builtinResource(next.kind, next.metadata.name);
  if (builtin && next.kind === 'Profile' && JSON.stringify(sortKeys(builtin.spec)) !== JSON.stringify(sortKeys(next.spec))) {
    issues.push({ path: 'spec', message: BUILTIN_SPEC_FIXED });
  }
  return issues;
}

/**
 * A new pool over existing blocks of another size (left by a deleted pool) would have blocks of its
 * own carved over them, handing out their addresses a second time: refused, as Calico does.
 */
function blockSizeIssues(pool: Resource, blocks: Cidr[]): ValidationIssue[] {
  const spec = pool.spec as IPPoolSpec;
  const cidr = tryParseCidr(spec.cidr);
  if (!cidr) return [];
  const blockSize = spec.blockSize ?? (cidr.family === 4 ? 26 : 122);
  const clash = blocks.find((b) => b.family === cidr.family && b.prefix !== blockSize && cidrOverlaps(b, cidr));
  if (!clash) return [];
  return [{ path: 'spec.blockSize', message: `blockSize ${blockSize} conflicts with allocation block ${formatCidr(clash)}, which a deleted pool left in this range (blocks outlive their pool); use blockSize ${clash.prefix}` }];
}

/** Why a tier cannot be deleted, naming up to three of its policies. */
export function tierInUseMessage(users: string[]): string {
  return `tier is still used by ${users.slice(0, 3).join(', ')}${users.length > 3 ? ` and ${users.length - 3} more` : ''}`;
}

function poolOverlapIssues(pool: Resource, others: Resource[]): ValidationIssue[] {
  const cidr = tryParseCidr((pool.spec as IPPoolSpec).cidr);
  if (!cidr) return [];
  const issues: ValidationIssue[] = [];
  for (const o of others) {
    if (o.metadata.name === pool.metadata.name) continue;
    const oc = tryParseCidr((o.spec as IPPoolSpec).cidr);
    if (oc && cidrOverlaps(cidr, oc)) issues.push({ path: 'spec.cidr', message: `IP pool ${(pool.spec as IPPoolSpec).cidr} overlaps IP pool "${o.metadata.name}" (${(o.spec as IPPoolSpec).cidr})` });
  }
  return issues;
}

function staleError(subject: string, given: string, current: number | undefined, cause?: unknown): ConflictError {
  const now = current !== undefined ? ` (current ${current})` : '';
  return new ConflictError(`${subject} was modified by someone else: resourceVersion ${given} is stale${now}; get it again and retry`, cause ? { cause } : undefined);
}

function withBuiltins(kind: string, stored: Resource[]): Resource[] {
  const builtins = builtinResources(kind).filter((b) => !stored.some((s) => s.metadata.name === b.metadata.name));
  if (builtins.length === 0) return stored;
  // Byte order, like the datastore's (and no localeCompare: its first call costs ~8 ms of ICU set-up).
  return [...stored, ...builtins].sort((a, b) => cmp(a.metadata.namespace ?? '', b.metadata.namespace ?? '') || cmp(a.metadata.name, b.metadata.name));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}
