import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseManifest, readManifests } from '../../src/cli/resources/manifest-reader.js';
import { applyMergePatch } from '../../src/cli/resources/merge-patch.js';
import { columnsFor, renderTable } from '../../src/cli/resources/table-columns.js';
import { UsageError, ValidationError } from '../../src/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'brindle-manifests-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('parseManifest', () => {
  test('multi-document YAML, empty documents skipped, origins counted per document', () => {
    const docs = parseManifest('a: 1\n---\n---\nb: 2\n...\n', 'x.yaml');
    assert.deepEqual(docs, [{ origin: 'x.yaml[0]', doc: { a: 1 } }, { origin: 'x.yaml[2]', doc: { b: 2 } }]);
  });

  test('kind: List and *List expand to their items', () => {
    const docs = parseManifest('kind: List\nitems: [{a: 1}, {b: 2}]\n---\nkind: IPPoolList\napiVersion: projectcalico.org/v3\nitems: [{c: 3}]\n', 'l.yaml');
    assert.deepEqual(docs.map((d) => d.origin), ['l.yaml[0].items[0]', 'l.yaml[0].items[1]', 'l.yaml[1].items[0]']);
  });

  test('JSON is read as YAML', () => {
    assert.deepEqual(parseManifest('{"kind": "Tier", "metadata": {"name": "t"}}', 'j.json')[0]!.doc, { kind: 'Tier', metadata: { name: 't' } });
  });

  test('malformed YAML names the document and the line', () => {
    assert.throws(() => parseManifest('a: 1\n---\nb: [1, 2\nc: 3\n', 'bad.yaml'), (e) => e instanceof ValidationError && /^bad\.yaml\[1\]: malformed YAML at line \d+/.test(e.message));
    assert.throws(() => parseManifest('a: 1\na: 2\n', 'dup.yaml'), (e) => e instanceof ValidationError && /dup\.yaml\[0\]: malformed YAML/.test(e.message));
  });

  test('<< merge keys are merged, as calicoctl and kubectl read them; port ranges stay strings', () => {
    const [d] = parseManifest('rules:\n  - &web {action: Allow, protocol: TCP, ports: [80, 1000:2000]}\n  - <<: *web\n    source: {nets: [10.0.0.0/8]}\n', 'm.yaml');
    const web = { action: 'Allow', protocol: 'TCP', ports: [80, '1000:2000'] };
    assert.deepEqual(d!.doc, { rules: [web, { ...web, source: { nets: ['10.0.0.0/8'] } }] });
  });

  test('timestamps and version-like strings stay strings (YAML 1.2 core schema)', () => {
    assert.deepEqual(parseManifest('t: 2026-11-21T23:50:50.556Z\nv: 1.10\n', 's.yaml')[0]!.doc, { t: '2026-11-21T23:50:50.556Z', v: 1.1 });
  });
});

describe('readManifests', () => {
  test('directories: manifest files in name order, sub-directories only with recursion', () => {
    mkdirSync(join(tmp, 'd', 'sub'), { recursive: true });
    writeFileSync(join(tmp, 'd', 'b.yaml'), 'n: b\n');
    writeFileSync(join(tmp, 'd', 'a.yml'), 'n: a\n');
    writeFileSync(join(tmp, 'd', 'c.json'), '{"n": "c"}');
    writeFileSync(join(tmp, 'd', 'notes.txt'), 'n: ignored\n');
    writeFileSync(join(tmp, 'd', 'sub', 'z.yaml'), 'n: z\n');
    const names = (recursive: boolean): unknown[] => readManifests([join(tmp, 'd')], { recursive, readStdin: () => '' }).map((d) => (d.doc as { n: string }).n);
    assert.deepEqual(names(false), ['a', 'b', 'c']);
    assert.deepEqual(names(true), ['a', 'b', 'c', 'z']);
  });

  test('stdin and missing files', () => {
    assert.deepEqual(readManifests(['-'], { recursive: false, readStdin: () => 'x: 1\n' }), [{ origin: '-[0]', doc: { x: 1 } }]);
    assert.throws(() => readManifests([join(tmp, 'nope.yaml')], { recursive: false, readStdin: () => '' }), (e) => e instanceof UsageError && /no such file/.test(e.message));
  });
});

describe('applyMergePatch (RFC 7386)', () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  cases.forEach(([target, patch, expected], i) => test(`RFC 7386 appendix A case ${i + 1}`, () => assert.deepEqual(applyMergePatch(target, patch), expected)));
});

describe('table rendering', () => {
  test('columns padded by three spaces, last column not padded, missing values empty', () => {
    const items = [
      { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'a-long-name' }, spec: { cidr: '10.0.0.0/8', nodeSelector: 'all()' } },
      { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'b' }, spec: { cidr: 'fd00::/48' } },
    ];
    assert.equal(renderTable(columnsFor('IPPool', false, false), items), 'NAME          CIDR         SELECTOR\na-long-name   10.0.0.0/8   all()\nb             fd00::/48\n');
    assert.deepEqual(columnsFor('NetworkPolicy', false, true).map((c) => c.header), ['NAMESPACE', 'NAME', 'TIER']);
  });
});
