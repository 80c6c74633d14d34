import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { CliContext } from '../context.js';

/**
 * Registers `brindle cni install`: puts the `brindle` and `brindle-ipam` CNI executables in the
 * bin dir and a default conflist in the conf dir (Calico's install-cni, as one command).
 */
export function register(program: Command, ctx: CliContext): void {
  const cni = program.command('cni').description('the CNI plugin: install the brindle and brindle-ipam executables and a network configuration');
  cni
    .command('install')
    .description('write brindle and brindle-ipam into the CNI bin dir and 10-brindle.conflist into the conf dir')
    .option('--bin-dir <dir>', 'CNI plugin directory', '/opt/cni/bin')
    .option('--conf-dir <dir>', 'CNI network configuration directory', '/etc/cni/net.d')
    .option('--node <name>', 'node name written into the configuration (default: the host name at ADD time)')
    .option('--mtu <n>', 'MTU of workload interfaces', '1500')
    .option('--ipv6', 'assign an IPv6 address too')
    .option('--network <name>', 'network name', 'k8s-pod-network')
    .action(async (o: { binDir: string; confDir: string; node?: string; mtu: string; ipv6?: boolean; network: string }) => {
      const mtu = Number(o.mtu);
      if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new UsageError(`--mtu must be an integer from 68 to 65535, not "${o.mtu}"`);
      if (o.node !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(o.node)) throw new UsageError(`--node "${o.node}" is not a valid node name`);
      if (!/^(sqlite:.+|etcds?:\/\/.+)$/.test(ctx.datastoreUrl)) throw new UsageError(`--datastore "${ctx.datastoreUrl}" cannot be used by the CNI plugin: use sqlite:/path/file.db or etcd://host:port[,host:port…]`);
      const { installCni } = await import('../../cni/installer.js');
      // The plugin runs with the runtime's working directory: a relative SQLite path is made absolute here.
      const datastore = ctx.datastoreUrl.startsWith('sqlite:') ? `sqlite:${resolve(ctx.datastoreUrl.slice('sqlite:'.length))}` : ctx.datastoreUrl;
      const r = await installCni({ binDir: resolve(o.binDir), confDir: resolve(o.confDir), datastore, node: o.node, mtu, ipv6: !!o.ipv6, network: o.network });
      for (const f of r.files) ctx.out(`wrote ${f}`);
    });
}
