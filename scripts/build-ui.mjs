// Builds the web console (src/ui/app, Preact + TypeScript/JSX) into dist/ui with esbuild: one
// bundled, minified app.js (no CDN, nothing fetched at run time), its CSS and index.html.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'ui');
mkdirSync(join(out, 'assets'), { recursive: true });
await build({
  entryPoints: [join(root, 'src', 'ui', 'app', 'main.tsx')],
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'esm',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outfile: join(out, 'assets', 'app.js'),
  logLevel: 'warning',
});
copyFileSync(join(root, 'src', 'ui', 'app', 'app.css'), join(out, 'assets', 'app.css'));
copyFileSync(join(root, 'src', 'ui', 'app', 'index.html'), join(out, 'index.html'));
