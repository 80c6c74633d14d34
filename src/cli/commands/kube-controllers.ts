import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { CliContext } from '../context.js';

/**
 * Registers `brindle kube-controllers`: syncs the Kubernetes API (namespaces, service accounts,
 * pods, NetworkPolicies, the network-policy API's admin policies) into the datastore and garbage
 * collects the IPAM addresses of deleted pods and nodes, until SIGINT/SIGTERM. `--once` does the
 * full resync and exits (a one-shot repair after downtime).
 */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('kube-controllers')
    .description('sync a Kubernetes cluster into the datastore (Calico kube-controllers in etcd mode)')
    .option('--kubeconfig <file>', 'kubeconfig to use (default: the in-cluster service account)')
    .option('--ipam-gc-grace <seconds>', 'how long an address must stay orphaned before it is released', '900')
    .option('--ipam-gc-interval <seconds>', 'how often IPAM is scanned for orphaned addresses', '60')
    .option('--no-ipam-gc', 'do not release addresses of deleted pods and nodes')
    .option('--once', 'resync once and exit')
    .action(async (o: { kubeconfig?: string; ipamGcGrace: string; ipamGcInterval: string; ipamGc: boolean; once?: boolean }) => {
      const grace = Number(o.ipamGcGrace);
      const interval = Number(o.ipamGcInterval);
      if (!Number.isFinite(grace) || grace < 0) throw new UsageError(`--ipam-gc-grace must be a number of seconds, not "${o.ipamGcGrace}"`);
      if (!Number.isFinite(interval) || interval <= 0) throw new UsageError(`--ipam-gc-interval must be a positive number of seconds, not "${o.ipamGcInterval}"`);
      // Loaded on use: @kubernetes/client-node is large, and every other command starts without it.
      const { KubeControllers } = await import('../../kube/kube-controllers.js');
      const { loadKubeConfig } = await import('../../kube/kube-resources.js');
      const kc = loadKubeConfig(o.kubeconfig ?? ctx.env['KUBECONFIG']);
      const log = (m: string): void => ctx.err(`${new Date().toISOString()} ${m}`);
      const controllers = new KubeControllers(kc, await ctx.datastore('write'), { log, gc: { enabled: o.ipamGc && !o.once, gracePeriodMs: grace * 1000, intervalMs: interval * 1000 } });
      try {
        controllers.start();
        await controllers.synced();
        log(`in sync with ${kc.getCurrentCluster()?.server ?? 'the cluster'} (${[...controllers.reflectors.keys()].join(', ')})`);
        if (o.once) return;
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
      } finally {
        await controllers.dispose();
      }
    });
}
