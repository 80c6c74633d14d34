import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { defaultConflist, type ConflistOptions } from './default-conflist.js';

export interface InstallOptions extends ConflistOptions {
  binDir: string;
  confDir: string;
  /** Name of the conflist file (default 10-brindle.conflist). */
  conflistName?: string;
}

export interface InstallResult {
  files: string[];
  bundleBytes: number;
}

/** Packages that cannot be bundled (native addons): the executables load them from this installation. */
const NATIVE = ['better-sqlite3'];

/**
 * `brindle cni install`: bundles the plugin (esbuild, from the compiled entry point next to this
 * file) into one self-contained script, writes it as `brindle` and `brindle-ipam` in the bin dir
 * (one program: it acts on the name it is run as), and writes the default conflist. Each file is
 * written beside its target and renamed over it, so a runtime executing the old plugin meanwhile
 * never sees a half-written one. Native addons are referenced by absolute path.
 */
export async function installCni(o: InstallOptions): Promise<InstallResult> {
  const here = dirname(fileURLToPath(import.meta.url));
  const entry = join(here, 'plugin-entry.js');
  if (!existsSync(entry)) throw new UsageError(`cannot install the CNI plugin: ${entry} is missing (run make build)`);
  const require = createRequire(import.meta.url);
  const esbuild = (await import(require.resolve('esbuild'))) as typeof import('esbuild');
  const natives = new Map(NATIVE.map((n) => [n, require.resolve(n)]));
  const built = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    write: false,
    logLevel: 'silent',
    banner: { js: `#!${process.execPath}\n// Brindle CNI plugin (brindle, brindle-ipam), bundled by brindle cni install.` },
    plugins: [{
      name: 'native-by-path',
      setup(b) {
        b.onResolve({ filter: new RegExp(`^(${NATIVE.join('|')})$`) }, (args) => ({ path: natives.get(args.path)!, external: true }));
        // The gRPC etcd client is never needed by the plugin (it speaks etcd's HTTP gateway).
        b.onResolve({ filter: /^etcd3$/ }, () => ({ errors: [{ text: 'the CNI plugin must not load the gRPC etcd client' }] }));
      },
    }],
  });
  const code = built.outputFiles[0]!.contents;
  mkdirSync(o.binDir, { recursive: true });
  mkdirSync(o.confDir, { recursive: true });
  const files: string[] = [];
  for (const name of ['brindle', 'brindle-ipam']) {
    const target = join(o.binDir, name);
    atomicWrite(target, code, 0o755);
    files.push(target);
  }
  const conflist = join(o.confDir, o.conflistName ?? '10-brindle.conflist');
  atomicWrite(conflist, JSON.stringify(defaultConflist(o), null, 2) + '\n', 0o644);
  files.push(conflist);
  return { files, bundleBytes: code.length };
}

function atomicWrite(target: string, data: string | Uint8Array, mode: number): void {
  const tmp = `${target}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, target);
}
