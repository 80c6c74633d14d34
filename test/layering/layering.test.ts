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
  /^flows\/(flow-record|rule-id|ulogd-event|ulogd-config|flow-aggregator|flow-filter|flow-context|flow-recorder|staged-policies|compliance-report|policy-suggest)\.ts$/];
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
