import { Command, CommanderError } from 'commander';
import { exitCodeFor, UsageError } from '../errors.js';
import { CliContext, type CliIO } from './context.js';
import { register as registerCni } from './commands/cni.js';
import { register as registerAgent } from './commands/agent.js';
import { register as registerFlows } from './commands/flows.js';
import { register as registerIpam } from './commands/ipam.js';
import { register as registerKubeControllers } from './commands/kube-controllers.js';
import { register as registerLab } from './commands/lab.js';
import { register as registerNode } from './commands/node.js';
import { register as registerPolicy } from './commands/policy.js';
import { register as registerReport } from './commands/report.js';
import { register as registerResources } from './commands/resources.js';
import { register as registerSelector } from './commands/selector.js';
import { register as registerUi } from './commands/ui.js';
import { VERSION } from '../version.js';

/**
 * Entry point of the `brindle` command. Returns the exit code: 0 ok, 1 operational error,
 * 2 usage or validation error. Only this function (through bin/brindle.js) reads argv and env.
 */
export async function main(argv: string[], env: Readonly<Record<string, string | undefined>>, io?: CliIO): Promise<number> {
  const ctx = new CliContext(io ?? { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }, env);
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; everything else commander reports is a usage error
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    ctx.err(`Error: ${err instanceof Error ? err.message : String(err)}`);
    if (env['BRINDLE_DEBUG'] && err instanceof Error && err.stack) ctx.err(err.stack);
    return exitCodeFor(err);
  } finally {
    await ctx.dispose();
  }
}

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('brindle');
  program
    .description('Brindle: Layer-3 networking and network policy for containers, VMs and bare-metal hosts (Calico-compatible resources)')
    .version(VERSION, '-v, --version')
    .option('--datastore <url>', 'datastore URL: sqlite:/path/file.db | etcd://host:port[,host:port…] (env BRINDLE_DATASTORE)')
    .option('--etcd-ca <file>', 'CA certificate for etcd TLS')
    .option('--etcd-cert <file>', 'client certificate for etcd TLS')
    .option('--etcd-key <file>', 'client key for etcd TLS')
    .exitOverride()
    .configureOutput(output(ctx))
    .showHelpAfterError('(run with --help for usage)')
    .hook('preAction', (thisCommand) => {
      const opts = thisCommand.optsWithGlobals() as Record<string, string | undefined>;
      if (opts['datastore']) ctx.datastoreUrl = opts['datastore'];
      ctx.datastoreOptions = { etcdCa: opts['etcdCa'], etcdCert: opts['etcdCert'], etcdKey: opts['etcdKey'] };
    });
  registerResources(program, ctx);
  registerSelector(program, ctx);
  registerIpam(program, ctx);
  registerPolicy(program, ctx);
  registerCni(program, ctx);
  registerNode(program, ctx);
  registerAgent(program, ctx);
  registerFlows(program, ctx);
  registerReport(program, ctx);
  registerUi(program, ctx);
  registerKubeControllers(program, ctx);
  registerLab(program, ctx);
  // Subcommands inherit exit override and output settings.
  for (const sub of allCommands(program)) {
    sub.exitOverride();
    sub.configureOutput(output(ctx));
  }
  return program;
}

/** Where commander writes; its own errors get the `Error: ` prefix every other error has. */
function output(ctx: CliContext): { writeOut(s: string): void; writeErr(s: string): void; outputError(s: string, write: (s: string) => void): void } {
  return {
    writeOut: (s) => ctx.io.stdout.write(s),
    writeErr: (s) => ctx.io.stderr.write(s),
    outputError: (s, write) => write(s.replace(/^error: /, 'Error: ')),
  };
}

function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

export { UsageError };
