/**
 * `brindle agent`: runs the node agent in the current network namespace until SIGTERM/SIGINT.
 * Refuses to run in the root network namespace (it programs nftables, routes and sysctls there).
 * Stopping the agent leaves everything programmed in place (fail static).
 */
import { readlinkSync } from 'node:fs';
import { ProcessExec } from '../base/exec.js';
import { systemClock } from '../base/clock.js';
import type { Datastore } from '../datastore/datastore.js';
import { ExecNftClient } from '../dataplane/nftables/client.js';
import { NftSession } from '../dataplane/nftables/nft-session.js';
import { ProcSysctlWriter } from '../dataplane/routes/sysctl.js';
import { UsageError } from '../errors.js';
import { Agent } from './agent.js';
import type { AgentFlags } from './config.js';
import { Logger } from './logger.js';

export function inRootNetns(): boolean {
  try {
    return readlinkSync('/proc/self/ns/net') === readlinkSync('/proc/1/ns/net');
  } catch {
    return false;
  }
}

export async function runAgent(flags: AgentFlags, datastore: Datastore, stderr: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
  if (inRootNetns()) throw new UsageError('brindle agent must run inside its node\'s network namespace (ip netns exec <ns> brindle agent …); refusing to program the root namespace');
  const log = new Logger(flags.logLevel, stderr, { node: flags.node });
  const exec = new ProcessExec();
  // Small transactions (one policy or endpoint change) go through one long-lived `nft -i`.
  const session = new NftSession();
  const agent = new Agent({ flags, datastore, exec, nft: new ExecNftClient(exec, { session }), sysctl: new ProcSysctlWriter(), clock: systemClock, log });
  try {
    await agent.start();
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    log.info('agent stopping; programmed state stays in force', { reason: String((signal.reason as Error | undefined)?.message ?? signal.reason) });
    await agent.stop();
  } finally {
    session.dispose();
  }
}
