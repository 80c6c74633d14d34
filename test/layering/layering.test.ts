import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/paths.js';

/**
 * Dependencies point inward: pure modules (api, selector, calc, net, and the renderers of dataplane
 * and routing) must not import I/O modules or Node's I/O built-ins. This test reads every import of
 * every pure source file and fails naming the offending line.
 */

const SRC = join(REPO_ROOT, 'src');
const PURE = [/^api\//, /^selector\//, /^calc\//, /^net\//, /^dataplane\/.*render[^/]*\.ts$/, /^dataplane\/.*\/render\//, /^routing\/.*render[^/]*\.ts$/,
  // flow logging's pure half: records, rule IDs, ulogd field mapping, aggregation, filters, labelling, reports
  /^flows\/(flow-record|rule-id|ulogd-event|ulogd-log|ulogd-config|flow-aggregator|flow-filter|flow-context|flow-recorder|staged-policies|compliance-report|policy-suggest)\.ts$/];
const IO_DIRS = ['datastore/', 'ui/', 'flows/flow-store', 'flows/ulogd-collector', 'flows/bulk-http-sink', 'flows/jsonl-sink', 'ipam/', 'cli/', 'agent/', 'cni/', 'kube/', 'lab/', 'routing/bird', 'dataplane/apply'];
const FORBIDDEN_PACKAGES = [
  'node:child_process', 'child_process', 'node:fs', 'fs', 'node:fs/promises', 'fs/promises', 'node:net', 'net',
  'node:dgram', 'node:http', 'node:https', 'node:worker_threads', 'better-sqlite3', 'etcd3',
];

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listTs(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

export function importsOf(source: string): { spec: string; line: number }[] {
  const found: { spec: string; line: number }[] = [];
  const re = /(?:^|[^\w$.])(?:import|export)\s*(?:type\s+)?(?:[^'"`;]*?\sfrom\s*)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of source.matchAll(re)) {
    const spec = m[1] ?? m[2];
    if (!spec) continue;
    found.push({ spec, line: source.slice(0, m.index).split('\n').length });
  }
  return found;
}

export function violations(relFile: string, source: string): string[] {
  if (!PURE.some((re) => re.test(relFile))) return [];
  const out: string[] = [];
  for (const { spec, line } of importsOf(source)) {
    if (FORBIDDEN_PACKAGES.includes(spec)) {
      out.push(`src/${relFile}:${line} imports ${spec}`);
      continue;
    }
    if (spec.startsWith('.')) {
      const target = relative(SRC, resolve(SRC, dirname(relFile), spec)).replace(/\\/g, '/');
      if (IO_DIRS.some((d) => target.startsWith(d))) out.push(`src/${relFile}:${line} imports src/${target}`);
    }
  }
  return out;
}

test('pure modules import no I/O module', () => {
  const problems = listTs(SRC).flatMap((f) => {
    const rel = relative(SRC, f).replace(/\\/g, '/');
    return violations(rel, readFileSync(f, 'utf8'));
  });
  assert.deepEqual(problems, []);
});

/** `src/net` sits below everything: it may import the domain errors and nothing else. */
export function netViolations(relFile: string, source: string): string[] {
  if (!relFile.startsWith('net/')) return [];
  const allowed = (spec: string): boolean => {
    if (!spec.startsWith('.')) return false;
    const target = relative(SRC, resolve(SRC, dirname(relFile), spec)).replace(/\\/g, '/');
    return target === 'errors.js' || target.startsWith('net/');
  };
  return importsOf(source).filter(({ spec }) => !allowed(spec)).map(({ spec, line }) => `src/${relFile}:${line} imports ${spec}`);
}

test('src/net imports only src/errors.ts (and itself)', () => {
  const problems = listTs(join(SRC, 'net')).flatMap((f) => netViolations(relative(SRC, f).replace(/\\/g, '/'), readFileSync(f, 'utf8')));
  assert.deepEqual(problems, []);
  assert.deepEqual(netViolations('net/x.ts', "import { UsageError } from '../errors.js';\nimport { y } from './y.js';"), []);
  assert.deepEqual(netViolations('net/x.ts', "import { Foo } from '../api/types.js';"), ['src/net/x.ts:1 imports ../api/types.js']);
  assert.deepEqual(netViolations('net/x.ts', "import { isIP } from 'node:net';"), ['src/net/x.ts:1 imports node:net']);
});

test('the layering check catches a violation (it can fail)', () => {
  assert.deepEqual(violations('calc/x.ts', "import { Foo } from '../datastore/y.js';\n"), ['src/calc/x.ts:1 imports src/datastore/y.js']);
  assert.deepEqual(violations('selector/a.ts', "import { execFile } from 'node:child_process';"), ['src/selector/a.ts:1 imports node:child_process']);
  assert.deepEqual(violations('api/a.ts', "const m = await import('node:fs');"), ['src/api/a.ts:1 imports node:fs']);
  assert.deepEqual(violations('api/a.ts', "import type { Datastore } from '../datastore/datastore.js';"), ['src/api/a.ts:1 imports src/datastore/datastore.js']);
  assert.deepEqual(violations('datastore/a.ts', "import 'node:fs';"), [], 'I/O modules may do I/O');
  assert.deepEqual(violations('calc/a.ts', "import { parseSelector } from '../selector/index.js';"), []);
});

/** Top-level folder of a source file (`calc/graph.ts` → `calc`); top-level files are `(root)/<file>`. */
function folderOf(rel: string): string {
  const i = rel.indexOf('/');
  return i < 0 ? `(root)/${rel}` : rel.slice(0, i);
}

/** Folder → folders it imports, each with one example import (`src/a/x.ts:3 imports src/b/y.js`). */
export function folderGraph(files: { rel: string; source: string }[]): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const { rel, source } of files) {
    const from = folderOf(rel);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const { spec, line } of importsOf(source)) {
      if (!spec.startsWith('.')) continue;
      const target = relative(SRC, resolve(SRC, dirname(rel), spec)).replace(/\\/g, '/');
      const to = folderOf(target);
      if (to !== from && !edges.has(to)) edges.set(to, `src/${rel}:${line} imports src/${target}`);
    }
  }
  return graph;
}

/** Every folder cycle (a → … → a), each once, as the chain of example imports that closes it. */
export function folderCycles(graph: Map<string, Map<string, string>>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const start of [...graph.keys()].sort()) {
    // Shortest path back to `start` (BFS), so each reported cycle is a minimal one.
    const prev = new Map<string, string>();
    const queue = [start];
    let closing: string | undefined;
    while (queue.length > 0 && closing === undefined) {
      const cur = queue.shift()!;
      for (const next of [...(graph.get(cur)?.keys() ?? [])].sort()) {
        if (next === start) {
          closing = cur;
          break;
        }
        if (prev.has(next)) continue;
        prev.set(next, cur);
        queue.push(next);
      }
    }
    if (closing === undefined) continue;
    const path = [start];
    for (let f = closing; f !== start; f = prev.get(f)!) path.splice(1, 0, f);
    const id = [...path].sort().join(',');
    if (seen.has(id)) continue;
    seen.add(id);
    const hops = path.map((f, i) => graph.get(f)!.get(path[(i + 1) % path.length]!)!);
    out.push(`${[...path, start].join(' → ')}: ${hops.join('; ')}`);
  }
  return out;
}

test('no folder import cycles (src/X imports src/Y and src/Y imports src/X, directly or through others)', () => {
  const files = listTs(SRC).map((f) => ({ rel: relative(SRC, f).replace(/\\/g, '/'), source: readFileSync(f, 'utf8') }));
  assert.deepEqual(folderCycles(folderGraph(files)), []);
});

test('the folder-cycle check catches direct and transitive cycles (it can fail)', () => {
  const direct = folderGraph([
    { rel: 'a/x.ts', source: "import { y } from '../b/y.js';" },
    { rel: 'b/y.ts', source: "import type { X } from '../a/x.js';" },
  ]);
  assert.deepEqual(folderCycles(direct), ['a → b → a: src/a/x.ts:1 imports src/b/y.js; src/b/y.ts:1 imports src/a/x.js']);
  const transitive = folderGraph([
    { rel: 'a/x.ts', source: "import { y } from '../b/y.js';" },
    { rel: 'b/y.ts', source: "import { z } from '../c/z.js';" },
    { rel: 'c/z.ts', source: "export { x } from '../a/x.js';" },
    { rel: 'c/w.ts', source: "import { q } from './q.js';" },
  ]);
  assert.equal(folderCycles(transitive).length, 1);
  assert.match(folderCycles(transitive)[0]!, /^a → b → c → a: /);
  assert.deepEqual(folderCycles(folderGraph([{ rel: 'a/x.ts', source: "import { y } from '../b/y.js';" }, { rel: 'b/y.ts', source: '' }])), []);
});
