import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
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


/**
 * `brindle cni install`: bundles the plugin (esbuild, from the compiled entry point next to this
 * file) into one self-contained script, writes it as `brindle` and `brindle-ipam` in the bin dir
 * (one program: it acts on the name it is run as), and writes the default conflist. Each file is
 * written beside its target and renamed over it, so a runtime executing the old plugin meanwhile
 * never sees a half-written one. Start-up cost is what matters (one process per container), so the
 * bundle loads SQLite's addon by absolute path (not through `bindings`' search of the
 * filesystem), and uses crypto-lite.ts instead of `node:crypto`.
 */
export async function installCni(o: InstallOptions): Promise<InstallResult> {
  const here = dirname(fileURLToPath(import.meta.url));
  const entry = join(here, 'plugin-entry.js');
  if (!existsSync(entry)) throw new UsageError(`cannot install the CNI plugin: ${entry} is missing (run make build)`);
  const require = createRequire(import.meta.url);
  const esbuild = (await import(require.resolve('esbuild'))) as typeof import('esbuild');
  const addon = join(dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
  const cryptoLite = join(here, 'crypto-lite.js');
  const built = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: process.env.BRINDLE_CNI_NO_MINIFY ? false : true,
    write: false,
    logLevel: 'silent',
    plugins: [{
      name: 'brindle-cni',
      setup(b) {
        b.onResolve({ filter: /^bindings$/ }, () => ({ path: 'bindings', namespace: 'brindle-addon' }));
        b.onLoad({ filter: /.*/, namespace: 'brindle-addon' }, () => ({ contents: `module.exports = () => require(${JSON.stringify(addon)});`, loader: 'js' }));
        b.onResolve({ filter: /\.node$/ }, (args) => ({ path: args.path, external: true }));
        b.onResolve({ filter: /^(node:)?crypto$/ }, (args) => (args.importer === cryptoLite ? undefined : { path: cryptoLite }));
        // The gRPC etcd client is never needed by the plugin (it speaks etcd's HTTP gateway).
        b.onResolve({ filter: /^etcd3$/ }, () => ({ errors: [{ text: 'the CNI plugin must not load the gRPC etcd client' }] }));
      },
    }],
  });
  const code = launcher(built.outputFiles[0]!.text);
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

/**
 * The executable: a few lines that compile the bundle (held as a string) through V8's code cache
 * in `<bin-dir>/.brindle-<hash>.cache`, written after the first run (atomically; skipped when the
 * directory is read-only). With the cache, compiling the bundle costs ~2 ms instead of ~10 ms
 * plus the lazy compilation of every function the command runs. The hash names the bundle, so a
 * reinstall never reads a stale cache (V8 would reject it anyway).
 */
function launcher(bundle: string): string {
  const hash = createHash('sha256').update(bundle).digest('hex').slice(0, 12);
  return [
    `#!${process.execPath}`,
    '// Brindle CNI plugin (brindle, brindle-ipam), written by brindle cni install.',
    "'use strict';",
    `const BUNDLE = ${JSON.stringify(`(function (exports, require, module, __filename, __dirname) {${bundle}\n})`)};`,
    "const fs = require('fs'), vm = require('vm'), path = require('path');",
    `const cacheFile = path.join(path.dirname(fs.realpathSync(__filename)), '.brindle-${hash}.cache');`,
    'let cached;',
    'try { cached = fs.readFileSync(cacheFile); } catch {}',
    'const script = new vm.Script(BUNDLE, { filename: __filename, cachedData: cached });',
    'if (!cached || script.cachedDataRejected) {',
    "  process.once('exit', () => {",
    "    try { const tmp = cacheFile + '.' + process.pid; fs.writeFileSync(tmp, script.createCachedData()); fs.renameSync(tmp, cacheFile); } catch {}",
    '  });',
    '}',
    'script.runInThisContext()(exports, require, module, __filename, __dirname);',
    '',
  ].join('\n');
}

function atomicWrite(target: string, data: string | Uint8Array, mode: number): void {
  const tmp = `${target}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, target);
}
