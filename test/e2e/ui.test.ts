import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { FlowRecord } from '../../src/flows/flow-record.js';
import { SqliteFlowStore } from '../../src/flows/flow-store.js';
import { TOPOLOGY } from '../flows/topology.js';
import { BRINDLE_BIN, REPO_ROOT } from '../helpers/paths.js';

/**
 * The web console end to end in Debian's Chromium, driven by playwright-core: `brindle ui` on a
 * SQLite datastore seeded with the flow topology and recorded flows; the pages load, the graph shows
 * the workloads and coloured edges, the flow table filters, a flow can be explained and a manifest
 * previewed. Screenshots go to test-artifacts/ui/ (gitignored).
 */

const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p));
const SHOTS = join(REPO_ROOT, 'test-artifacts', 'ui');
let dir = '';
let ui: ChildProcess | undefined;
let browser: Browser | undefined;
let page: Page;
let url = '';

const now = Date.now();
const client = { ip: '10.99.0.1', kind: 'workload', namespace: 'prod', name: 'client', labels: { app: 'client' } } as const;
const db = { ip: '10.99.0.2', kind: 'workload', namespace: 'prod', name: 'db', labels: { app: 'db', pci: 'true' } } as const;
const outside = { ip: '198.51.100.7', kind: 'networkset', name: 'outside', labels: { zone: 'internet' } } as const;
const RECORDS: FlowRecord[] = [
  { node: 'node-a', src: client, dst: db, protocol: 'TCP', srcPort: 40001, dstPort: 5001, direction: 'ingress', verdict: 'allowed', policy: { kind: 'policy', tier: 'default', namespace: 'prod', name: 'allow-web', ruleIndex: 0 }, packets: 12, bytes: 40_000, start: now - 60_000, end: now - 59_000 },
  { node: 'node-a', src: client, dst: db, protocol: 'TCP', srcPort: 40002, dstPort: 5002, direction: 'ingress', verdict: 'denied', policy: { kind: 'end-of-tier', tier: 'default' }, packets: 3, bytes: 180, start: now - 30_000, end: now - 28_000 },
  { node: 'node-a', src: outside, dst: db, protocol: 'UDP', srcPort: 53, dstPort: 9999, direction: 'ingress', verdict: 'denied', policy: { kind: 'end-of-tier', tier: 'default' }, packets: 1, bytes: 60, start: now - 20_000, end: now - 20_000 },
];

/** Bounded waits allow for a loaded CI machine: the table refreshes after a filter change and on a 2 s poll. */
async function waitRows(n: number): Promise<void> {
  await page.waitForFunction(`document.querySelectorAll('#flows tbody tr').length === ${n}`, undefined, { timeout: 30_000 });
}

async function rows(): Promise<number> {
  return page.locator('#flows tbody tr').count();
}

describe('brindle ui in Chromium (playwright-core)', { skip: CHROMIUM ? undefined : 'Chromium is not installed (apt-get install chromium)', timeout: 120_000 }, () => {
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    if (!existsSync(join(REPO_ROOT, 'dist', 'ui', 'index.html'))) assert.equal(spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build-ui.mjs')]).status, 0);
    dir = mkdtempSync(join(tmpdir(), 'brindle-ui-'));
    const env = { ...process.env, BRINDLE_DATASTORE: `sqlite:${join(dir, 'brindle.db')}` };
    assert.equal(spawnSync(process.execPath, [BRINDLE_BIN, 'apply', '-f', TOPOLOGY], { env }).status, 0);
    const store = new SqliteFlowStore(join(dir, 'brindle.db'));
    store.writeSync(RECORDS);
    await store.close();
    ui = spawn(process.execPath, [BRINDLE_BIN, 'ui', '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`brindle ui did not start: ${out}`)), 20_000);
      ui!.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
      ui!.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    });
    browser = await chromium.launch({ executablePath: CHROMIUM!, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });
  after(async () => {
    await browser?.close();
    if (ui?.pid && ui.exitCode === null) process.kill(ui.pid, 'SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the console loads and the graph shows the workloads with edges coloured by verdict', async () => {
    await page.goto(url);
    assert.equal(await page.title(), 'Brindle console');
    await page.waitForSelector('[data-node-id="prod/db"]', { timeout: 30_000 });
    const ids = await page.locator('#graph .node').evaluateAll((els) => els.map((e) => e.getAttribute('data-node-id')).sort());
    assert.deepEqual(ids, ['outside', 'prod/client', 'prod/db', 'prod/web']);
    assert.equal(await page.getAttribute('[data-edge="prod/client>prod/db"]', 'data-verdict'), 'mixed');
    assert.equal(await page.getAttribute('[data-edge="outside>prod/db"]', 'data-verdict'), 'denied');
    await page.screenshot({ path: join(SHOTS, '1-graph.png') });
  });

  test('the flow table filters by verdict and source', async () => {
    await page.click('#tab-flows');
    await page.waitForSelector('#flows tbody tr');
    assert.equal(await rows(), 3);
    await page.selectOption('#filter-verdict', 'denied');
    await waitRows(2);
    await page.fill('#filter-from', 'prod/client');
    await page.press('#filter-from', 'Enter');
    await page.locator('#filter-from').dispatchEvent('change');
    await waitRows(1);
    assert.match(await page.locator('#flows tbody tr .policy').innerText(), /end of tier default/);
    await page.screenshot({ path: join(SHOTS, '2-flows-filtered.png') });
    await page.selectOption('#filter-verdict', '');
    await page.fill('#filter-from', '');
    await page.locator('#filter-from').dispatchEvent('change');
    await waitRows(3);
  });

  test('explain from a flow runs policy explain for it', async () => {
    await page.locator('#flows tbody tr', { hasText: 'allowed' }).locator('button.explain').click();
    const text = await page.locator('#explain-result').innerText({ timeout: 30_000 });
    assert.match(text, /allow-web/);
    assert.match(text, /ALLOW|allow/);
    assert.equal(await page.inputValue('#explain-from'), 'prod/client');
    assert.equal(await page.inputValue('#explain-port'), '5001');
    await page.screenshot({ path: join(SHOTS, '3-explain.png') });
  });

  test('preview of a pasted manifest shows the cells it would change', async () => {
    await page.fill('#preview-manifest', `apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: { name: isolate-web, namespace: prod }
spec:
  selector: app == "web"
  types: [Ingress]
`);
    await page.click('#preview-run');
    const text = await page.locator('#preview-result').innerText({ timeout: 30_000 });
    assert.match(text, /prod\/client → prod\/web: allowed → denied/);
    await page.screenshot({ path: join(SHOTS, '4-preview.png') });
    await page.click('#tab-status');
    assert.match(await page.locator('#status').innerText({ timeout: 30_000 }), /3 flow records stored/);
    await page.screenshot({ path: join(SHOTS, '5-status.png') });
  });
});
