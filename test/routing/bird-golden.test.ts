import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { buildBirdConfig } from '../../src/routing/config-builder.js';
import { renderBirdConfig } from '../../src/routing/render.js';
import { assertGolden } from '../helpers/golden.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { stateFromInput, type GoldenInput } from './bird-input.js';

/**
 * Golden bird.cfg files: each testdata/bird/<case>/input.yaml (a node name, resources, this node's
 * block affinities, secrets) must render exactly expected.cfg, and BIRD itself must accept the
 * text (`bird -p -c`), so a golden file can never hold a configuration BIRD would refuse.
 */

const DIR = join(REPO_ROOT, 'testdata', 'bird');
const hasBird = spawnSync('bird', ['--version']).status === 0;

for (const name of readdirSync(DIR).sort()) {
  test(`bird.cfg golden: ${name}`, () => {
    const input = parse(readFileSync(join(DIR, name, 'input.yaml'), 'utf8')) as GoldenInput;
    const state = stateFromInput(input);
    const cfg = buildBirdConfig(state, input.node, { secrets: (n, k) => input.secrets?.[`${n}/${k}`] });
    assert.ok(cfg, `node ${input.node} has BGP settings`);
    const text = renderBirdConfig(cfg);
    assertGolden(`bird/${name}/expected.cfg`, text);
    if (hasBird) {
      const tmp = mkdtempSync(join(tmpdir(), 'brindle-bird-'));
      try {
        writeFileSync(join(tmp, 'bird.cfg'), text);
        const r = spawnSync('bird', ['-p', '-c', join(tmp, 'bird.cfg')], { encoding: 'utf8' });
        assert.equal(r.status, 0, `bird -p rejects the ${name} configuration: ${r.stderr}`);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
  });
}
