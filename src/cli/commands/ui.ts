import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../errors.js';
import { defaultFlowStorePath, SqliteFlowStore } from '../../flows/flow-store.js';
import { UiServer } from '../../ui/ui-server.js';
import type { CliContext } from '../context.js';

/** The built front end: dist/ui, next to dist/src. */
const ASSETS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'ui');

/** `brindle ui`: the local web console (runs until interrupted). */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('ui')
    .description('serve the web console: live workload graph, flows, policy explain/preview, node status (loopback by default)')
    .option('--listen <addr>', 'HOST:PORT to listen on (port 0 picks a free one)', '127.0.0.1:9099')
    .option('--flow-store <path>', 'SQLite file of flow records (default: the embedded datastore file)')
    .option('--run-dir <dir>', "node agents' run directory (status sockets)")
    .action(async (o: { listen: string; flowStore?: string; runDir?: string }) => {
      const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(o.listen);
      if (!m || Number(m[2]) > 65535) throw new UsageError(`--listen must be HOST:PORT, got "${o.listen}"`);
      if (!existsSync(join(ASSETS, 'index.html'))) throw new Error(`the console is not built (${ASSETS}/index.html missing): run \`npm run build\``);
      const store = new SqliteFlowStore(o.flowStore ?? defaultFlowStorePath(ctx.datastoreUrl));
      const server = new UiServer({ datastore: await ctx.datastore('read'), store, assetsDir: ASSETS, ...(o.runDir ? { runDir: o.runDir } : {}) });
      try {
        const a = await server.listen(m[1]!.replace(/^\[|\]$/g, ''), Number(m[2]));
        ctx.out(`Brindle console on http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}/`);
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            resolve();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
      } finally {
        await server.close();
        await store.close();
      }
    });
}
