import type { Command } from 'commander';
import { ValidationError } from '../../errors.js';
import { parseSelector, SelectorParseError, type Selector } from '../../selector/index.js';
import type { CliContext } from '../context.js';

/**
 * Registers `brindle selector eval|canonical`: Calico's selector language on the command line.
 * Needs no datastore. A selector that does not parse exits 2 with the selector and a caret under
 * the problem.
 */
export function register(program: Command, ctx: CliContext): void {
  const sel = program.command('selector').description("evaluate and normalise Calico selectors (e.g. app == 'web' && has(tier))");

  sel
    .command('eval')
    .description('print true if the labels match the selector, false if not')
    .argument('<selector>', 'selector expression, quoted for the shell')
    .option('--labels <json>', 'labels as a JSON object of strings, e.g. \'{"app":"web"}\'', '{}')
    .action((text: string, opts: { labels: string }) => {
      const selector = parseOrThrow(text);
      const labels = parseLabels(opts.labels);
      ctx.out(selector.evaluate(labels) ? 'true' : 'false');
    });

  sel
    .command('canonical')
    .description("print the selector's canonical form (Calico's Selector.String())")
    .argument('<selector>', 'selector expression, quoted for the shell')
    .option('--id', 'print the unique ID (s:<base64url SHA-224>) instead')
    .action((text: string, opts: { id?: boolean }) => {
      const selector = parseOrThrow(text);
      ctx.out(opts.id ? selector.uniqueId : selector.canonical);
    });
}

function parseOrThrow(text: string): Selector {
  try {
    return parseSelector(text);
  } catch (err) {
    if (!(err instanceof SelectorParseError)) throw err;
    const pointer = err.pointer().split('\n').map((l) => `  ${l}`).join('\n');
    throw new ValidationError('selector', [{ path: '', message: `${err.describe()}\n${pointer}` }], { cause: err });
  }
}

function parseLabels(json: string): Map<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new ValidationError('--labels', [{ path: '', message: `not valid JSON: ${(err as Error).message}` }]);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError('--labels', [{ path: '', message: 'must be a JSON object mapping label names to string values' }]);
  }
  const issues = Object.entries(value)
    .filter(([, v]) => typeof v !== 'string')
    .map(([k, v]) => ({ path: k, message: `label values must be strings, got ${JSON.stringify(v)}` }));
  if (issues.length > 0) throw new ValidationError('--labels', issues);
  return new Map(Object.entries(value as Record<string, string>));
}
