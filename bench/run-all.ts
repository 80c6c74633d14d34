/**
 * Runs every benchmark in bench/ (each a module exporting `run(): Promise<BenchRow[]>`) and prints
 * one table. Benchmarks measure side by side in one run and report ratios; they are not tests.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow } from './table.js';
import { formatTable } from './table.js';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];
const files = readdirSync(here).filter((f) => f.endsWith('.bench.js') && (!only || f.includes(only))).sort();
const rows: BenchRow[] = [];
for (const f of files) {
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { run: () => Promise<BenchRow[]> };
  process.stderr.write(`running ${f}…\n`);
  const got = await mod.run();
  rows.push(...got);
  process.stdout.write(formatTable(got) + '\n\n');
}
process.stdout.write('All benchmarks\n' + formatTable(rows) + '\n');
