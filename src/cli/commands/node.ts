import type { Command } from 'commander';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UnavailableError, UsageError } from '../../errors.js';
import { BirdSocketClient } from '../../routing/bird-socket.js';
import { readBirdStatus } from '../../routing/bird-status.js';
import { bgpRoutes, formatNodeStatus } from '../../routing/node-status.js';
import type { CliContext } from '../context.js';

/** Where a node agent keeps its run directory unless told otherwise (BIRD's bird.cfg and bird.ctl live there). */
export const DEFAULT_RUN_ROOT = '/run/brindle/nodes';

/**
 * Registers `brindle node status`: the BGP sessions and BGP-learned routes of one node, read from
 * its BIRD's control socket (`<run-dir>/bird.ctl`), as calicoctl node status prints them. Needs no
 * datastore. Exit 1 when BIRD cannot be reached.
 */
export function register(program: Command, ctx: CliContext): void {
  const node = program.command('node').description('inspect a node: BGP sessions and routes');
  node
    .command('status')
    .description("show this node's BGP sessions (peer, type, state, since, info) and the routes learned over BGP")
    .option('--node <name>', 'node name (default: env BRINDLE_NODENAME, else the host name)')
    .option('--run-dir <dir>', `the node agent's run directory (default ${DEFAULT_RUN_ROOT}/<node>)`)
    .option('-o, --output <format>', 'text or json', 'text')
    .option('--no-routes', 'leave out the routes')
    .action(async (opts: { node?: string; runDir?: string; output: string; routes: boolean }) => {
      if (opts.output !== 'text' && opts.output !== 'json') throw new UsageError(`unknown output format "${opts.output}" (text or json)`);
      const name = opts.node ?? ctx.env['BRINDLE_NODENAME'] ?? hostname();
      const socket = join(opts.runDir ?? join(DEFAULT_RUN_ROOT, name), 'bird.ctl');
      let status;
      try {
        status = await readBirdStatus(new BirdSocketClient(socket), { routes: opts.routes });
      } catch (err) {
        if (err instanceof UnavailableError) throw new UnavailableError(`BIRD is not running on node ${name} (${err.message})`, { cause: err });
        throw err;
      }
      if (opts.output === 'json') {
        ctx.out(JSON.stringify({ node: name, sessions: status.sessions, routes: opts.routes ? bgpRoutes(status) : undefined }, null, 2));
      } else {
        ctx.out(formatNodeStatus(name, status, { routes: opts.routes }));
      }
    });
}
