import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Datastore } from '../../src/datastore/datastore.js';
import { openDatastore } from '../../src/datastore/open.js';
import { KubeControllers, type KubeControllersOptions } from '../../src/kube/kube-controllers.js';
import { KUBE_RESOURCES, loadKubeConfig } from '../../src/kube/kube-resources.js';
import { FakeKubeApi, type FakeKubeApiOptions, type FakeResourceType } from '../../src/kube/testing/fake-kube-api.js';

/**
 * A fake Kubernetes API server serving every resource the controllers watch, a kubeconfig file
 * pointing at it, and a SQLite datastore, all under one temporary directory; `controllers()`
 * starts a KubeControllers over them (the real @kubernetes/client-node underneath).
 */

export const FAKE_TYPES: FakeResourceType[] = Object.values(KUBE_RESOURCES).map((r) => ({ apiVersion: r.apiVersion, kind: r.kind, plural: r.plural, namespaced: r.namespaced }));

export class KubeHarness {
  readonly logs: string[] = [];
  private readonly running = new Set<KubeControllers>();

  private constructor(
    readonly api: FakeKubeApi,
    readonly dir: string,
    readonly kubeconfigPath: string,
    readonly datastoreUrl: string,
    readonly ds: Datastore,
  ) {}

  static async start(opts: FakeKubeApiOptions = {}): Promise<KubeHarness> {
    const api = await FakeKubeApi.start(FAKE_TYPES, { bookmarkIntervalMs: 200, listChunkItems: 2, ...opts });
    const dir = mkdtempSync(join(tmpdir(), 'brindle-kube-'));
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, api.kubeconfig());
    const url = `sqlite:${join(dir, 'brindle.db')}`;
    return new KubeHarness(api, dir, kubeconfigPath, url, await openDatastore(url));
  }

  async controllers(opts: KubeControllersOptions = {}): Promise<KubeControllers> {
    const kc = new KubeControllers(loadKubeConfig(this.kubeconfigPath), this.ds, {
      reflector: { pageSize: 3, backoff: { initialMs: 20, maxMs: 300 } },
      gc: { gracePeriodMs: 0, intervalMs: 3_600_000 },
      log: (m) => this.logs.push(m),
      ...opts,
    });
    this.running.add(kc);
    kc.start();
    await kc.synced();
    return kc;
  }

  async stop(kc: KubeControllers): Promise<void> {
    this.running.delete(kc);
    await kc.dispose();
  }

  async close(): Promise<void> {
    for (const kc of this.running) await kc.dispose().catch(() => undefined);
    await this.api.close();
    await this.ds.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls `check` every 20 ms until it returns true (or throws after `timeoutMs`, naming `what`). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
