import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { MAX_RESOURCE_BYTES } from '../../api/resource-size.js';
import { UsageError, ValidationError } from '../../errors.js';

/** One document read from a manifest, with where it came from (for messages). */
export interface ManifestDocument {
  /** `file.yaml[2]`, `-[0]` for stdin, `file.yaml[1].items[3]` for an entry of a `kind: List`. */
  origin: string;
  doc: unknown;
}

const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];

/**
 * Reads manifests the way calicoctl does: `-f FILE`, `-f DIR` (its .yaml/.yml/.json files, sorted;
 * with `recursive` also sub-directories), or `-f -` for stdin. Files hold one or more YAML or
 * JSON documents; a `kind: List` (or `*List`) document contributes its `items`. Empty documents
 * are skipped. Malformed YAML is a ValidationError naming the file, document and line.
 */
export function readManifests(paths: string[], opts: { recursive: boolean; readStdin: () => string }): ManifestDocument[] {
  const out: ManifestDocument[] = [];
  for (const p of paths) {
    if (p === '-') {
      out.push(...parseManifest(opts.readStdin(), '-'));
      continue;
    }
    for (const file of manifestFiles(p, opts.recursive)) out.push(...parseManifest(readFile(file), file));
  }
  return out;
}

function manifestFiles(path: string, recursive: boolean): string[] {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  if (!st.isDirectory()) return [path];
  const files: string[] = [];
  for (const name of readdirSync(path).sort()) {
    const full = join(path, name);
    const s = statSync(full);
    if (s.isDirectory()) {
      if (recursive) files.push(...manifestFiles(full, true));
    } else if (MANIFEST_EXTENSIONS.some((e) => name.endsWith(e))) {
      files.push(full);
    }
  }
  return files;
}

function readFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/**
 * The largest single document of a manifest, as text, that is parsed at all. A resource may be at
 * most 1 MiB (MAX_RESOURCE_BYTES); a `kind: List` document may hold many, so this is generous, but
 * parsing a 50 MB document would take a minute and gigabytes before its resources were refused.
 */
export const MAX_MANIFEST_DOCUMENT_BYTES = 16 * 1024 * 1024;

/** Parses the text of one manifest into documents (exported for tests and stdin). */
export function parseManifest(text: string, source: string): ManifestDocument[] {
  const name = source === '-' ? '-' : basename(source);
  if (text.length > MAX_MANIFEST_DOCUMENT_BYTES / 3) checkDocumentSizes(text, name);
  // `<<` merge keys as Go's YAML (calicoctl, kubectl) reads them; everything else YAML 1.2 (`1000:2000` stays a string)
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true, merge: true });
  if (!Array.isArray(docs)) return [];
  const out: ManifestDocument[] = [];
  docs.forEach((d, i) => {
    const origin = `${name}[${i}]`;
    if (d.errors.length > 0) {
      const e = d.errors[0]!;
      const line = e.linePos?.[0]?.line;
      const what = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      throw new ValidationError(origin, [{ path: '', message: `malformed YAML${line ? ` at line ${line}` : ''}: ${what}` }]);
    }
    const value: unknown = d.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    if (isList(value)) {
      (value['items'] as unknown[]).forEach((item, j) => out.push({ origin: `${origin}.items[${j}]`, doc: item }));
      return;
    }
    out.push({ origin, doc: value });
  });
  return out;
}

function isList(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const kind = (v as Record<string, unknown>)['kind'];
  return typeof kind === 'string' && (kind === 'List' || kind.endsWith('List')) && Array.isArray((v as Record<string, unknown>)['items']);
}

/** Refuses, before parsing, a document (text between `---` lines) over MAX_MANIFEST_DOCUMENT_BYTES. */
function checkDocumentSizes(text: string, name: string): void {
  let index = 0;
  for (const chunk of text.split(/^---(?=[ \t]|\r?$)/m)) {
    const bytes = Buffer.byteLength(chunk, 'utf8');
    if (bytes > MAX_MANIFEST_DOCUMENT_BYTES) {
      const mib = (n: number): string => (n / 1048576).toFixed(n % 1048576 === 0 ? 0 : 1);
      throw new ValidationError(`${name}[${index}]`, [{ path: '', message: `the document is ${mib(bytes)} MiB, over the ${mib(MAX_MANIFEST_DOCUMENT_BYTES)} MiB limit of a manifest document (a resource may be at most ${mib(MAX_RESOURCE_BYTES)} MiB); split it into several resources` }]);
    }
    if (chunk.trim() !== '') index++;
  }
}
