import { existsSync, readFileSync, realpathSync } from 'node:fs';
import type { Exec } from '../base/exec.js';
import { ExecError } from '../errors.js';
import { CniCode, CniError } from './cni-spec.js';
import { runSync, type SyncRunner } from '../base/run-sync.js';
import { setupShellScript, type VethPlan } from './veth-scripts.js';
import { GATEWAY_V4, GATEWAY_V6, HOST_VETH_MAC } from './workload-identity.js';

/**
 * Does the kernel side of an attachment. ADD: one `sh -c` script (setupShellScript) run to
 * completion synchronously: the host-side `ip -batch` in the node's netns where the plugin runs,
 * the host sysctls, the container-side `ip -batch` in the container's netns. DEL and CHECK run
 * `ip` through Exec. It never touches another netns than these two. `procSys` is injectable so
 * tests can point it at a directory; `runner` so they can see the script.
 */
/** How long one ip run may take: netlink waits for the kernel's rtnl lock, which a busy host (many netns being created or deleted) holds for seconds. */
const IP_TIMEOUT_MS = 90_000;

export class VethPlumber {
  constructor(
    private readonly exec: Exec,
    private readonly procSys = '/proc/sys',
    private readonly runner: SyncRunner = runSync,
  ) {}

  /** True when an interface of that name exists in the node's netns (its IPv4 conf dir exists). */
  hostLinkExists(name: string): boolean {
    return existsSync(`${this.procSys}/net/ipv4/conf/${name}`);
  }

  netnsExists(path: string): boolean {
    return path !== '' && existsSync(path);
  }

  /** Refuses (CNI 3) a container netns that is not there (before anything is allocated). */
  requireNetns(netns: string): void {
    if (!this.netnsExists(netns)) throw new CniError(CniCode.UnknownContainer, `network namespace ${netns} does not exist (has the container exited?)`);
  }

  /** Wires the veth, its routes and sysctls, and the container side (see setupShellScript). */
  setUp(p: VethPlan): void {
    const r = this.runner('sh', ['-c', setupShellScript(p, this.procSys, namedNetns(p.netns))], { timeoutMs: IP_TIMEOUT_MS });
    if (r.startError) throw new CniError(CniCode.Internal, `wiring ${p.hostVeth}: ${r.startError}`);
    if (r.status === 0) return;
    const lines = r.stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    const marker = lines.find((l) => l.startsWith('brindle-step '));
    const why = lines.filter((l) => !l.startsWith('brindle-step ') && !/^Command failed/.test(l)).join('; ');
    if (r.timedOut) throw new CniError(CniCode.Internal, `wiring ${p.hostVeth}: timed out after ${IP_TIMEOUT_MS} ms${why ? ` (${why})` : ''}`);
    const [, step, detail] = /^brindle-step (\S+) ?(.*)$/.exec(marker ?? '') ?? [];
    switch (step) {
      case 'host':
        throw new CniError(CniCode.Internal, `creating the veth: ${why || `exit code ${r.status}`}`);
      case 'sysctl': {
        const [path, value] = (detail ?? '').split('=');
        throw new CniError(CniCode.IoFailure, `cannot set ${(path ?? '').replace(/\//g, '.')}=${value}: ${why.replace(/^sh: \d+: /, '') || 'write failed'}`);
      }
      case 'container':
        throw new CniError(CniCode.Internal, `configuring the interface in ${p.netns}: ${why || `exit code ${r.status}`}`);
      default:
        throw new CniError(CniCode.Internal, `wiring ${p.hostVeth}: ${why || (r.signal ? `killed by ${r.signal}` : `exit code ${r.status}`)}`);
    }
  }

  /** Removes the host veth by name (its peer goes with it). Missing is fine. */
  async removeHostVeth(hostVeth: string): Promise<void> {
    if (!this.hostLinkExists(hostVeth)) return;
    await this.ip(`link del ${hostVeth}\n`, undefined, `deleting veth ${hostVeth}`, true);
  }

  /** Removes the container's interface from inside its netns. A missing netns or interface is fine (DEL is idempotent). */
  async removeContainerLink(netns: string, ifname: string): Promise<void> {
    if (!this.netnsExists(netns)) return;
    await this.ip(`link del ${ifname}\n`, netns, `deleting ${ifname} in ${netns}`, true);
  }

  /** What CHECK compares: problems found (empty when the attachment is as ADD left it). */
  async verify(p: { hostVeth: string; ifname: string; netns: string; addresses: string[] }): Promise<string[]> {
    const problems: string[] = [];
    if (!this.netnsExists(p.netns)) return [`network namespace ${p.netns} does not exist`];
    if (!this.hostLinkExists(p.hostVeth)) return [`host interface ${p.hostVeth} does not exist`];
    const wants6 = p.addresses.some((a) => a.includes(':'));
    const [hostLinks, hostRoutes4] = await this.ipJson(`link show dev ${p.hostVeth}\nroute show dev ${p.hostVeth}\n`, undefined);
    const hl = (hostLinks as { address?: string; flags?: string[] }[])[0];
    if (hl?.address !== HOST_VETH_MAC) problems.push(`host interface ${p.hostVeth} has MAC ${hl?.address ?? '?'}, expected ${HOST_VETH_MAC}`);
    if (!hl?.flags?.includes('UP')) problems.push(`host interface ${p.hostVeth} is down`);
    const hostDsts = new Set((hostRoutes4 as { dst: string }[]).map((r) => r.dst));
    if (wants6) for (const r of (await this.ipJson(`route show dev ${p.hostVeth}\n`, undefined, true))[0] as { dst: string }[]) hostDsts.add(r.dst);
    for (const a of p.addresses) if (!hostDsts.has(a)) problems.push(`the node has no route ${a} dev ${p.hostVeth}`);
    if (this.readSysctl(`net/ipv4/conf/${p.hostVeth}/proxy_arp`) !== '1') problems.push(`proxy_arp is off on ${p.hostVeth}`);
    const [cAddrs, cRoutes4] = await this.ipJson(`addr show dev ${p.ifname}\nroute show dev ${p.ifname}\n`, p.netns);
    const have = new Set(((cAddrs as { addr_info?: { local: string; prefixlen: number }[] }[])[0]?.addr_info ?? []).map((x) => `${x.local}/${x.prefixlen}`));
    for (const a of p.addresses) {
      const want = `${a}/${a.includes(':') ? 128 : 32}`;
      if (!have.has(want)) problems.push(`${p.ifname} in ${p.netns} lacks address ${want}`);
    }
    const cr = cRoutes4 as { dst: string; gateway?: string }[];
    if (p.addresses.some((a) => !a.includes(':')) && !cr.some((r) => r.dst === 'default' && r.gateway === GATEWAY_V4)) problems.push(`${p.ifname} in ${p.netns} has no default route via ${GATEWAY_V4}`);
    if (wants6) {
      const c6 = (await this.ipJson(`route show dev ${p.ifname}\n`, p.netns, true))[0] as { dst: string; gateway?: string }[];
      if (!c6.some((r) => r.dst === 'default' && r.gateway === GATEWAY_V6)) problems.push(`${p.ifname} in ${p.netns} has no IPv6 default route via ${GATEWAY_V6}`);
    }
    return problems;
  }

  private readSysctl(path: string): string | undefined {
    try {
      return readFileSync(`${this.procSys}/${path}`, 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  private async ip(script: string | Promise<string>, netns: string | undefined, what: string, missingOk = false): Promise<void> {
    const [cmd, args] = netns ? ['nsenter', [`--net=${netns}`, 'ip', '-batch', '-']] : ['ip', ['-batch', '-']];
    try {
      await this.exec.run(cmd, args, { stdin: script, timeoutMs: IP_TIMEOUT_MS });
    } catch (err) {
      const stderr = err instanceof ExecError ? err.stderr.trim() : '';
      if (missingOk && /Cannot find device|does not exist/.test(stderr)) return;
      const why = stderr.split('\n').filter((l) => !/^Command failed/.test(l)).join('; ') || (err as Error).message;
      throw new CniError(CniCode.Internal, `${what}: ${why}`, undefined, { cause: err });
    }
  }

  private async ipJson(script: string, netns: string | undefined, six = false): Promise<unknown[][]> {
    const base = six ? ['-6', '-j', '-batch', '-'] : ['-j', '-batch', '-'];
    const [cmd, args] = netns ? ['nsenter', [`--net=${netns}`, 'ip', ...base]] : ['ip', base];
    try {
      const { stdout } = await this.exec.run(cmd, args, { stdin: script, timeoutMs: IP_TIMEOUT_MS });
      return stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown[]);
    } catch (err) {
      const stderr = err instanceof ExecError ? err.stderr.trim() : (err as Error).message;
      throw new CniError(CniCode.CheckFailed, `reading ${netns ? `${netns}` : 'the node'}: ${stderr}`, undefined, { cause: err });
    }
  }
}

/**
 * The name `ip -n` takes for a netns path, when the path is a named netns (`/run/netns/NAME`, the
 * same file as `/var/run/netns/NAME`, where ip looks). `ip -n` costs one process start less than
 * `nsenter … ip`.
 */
function namedNetns(path: string): string | undefined {
  const m = /^\/(?:var\/)?run\/netns\/([A-Za-z0-9_.-]+)$/.exec(path);
  if (!m || m[1] === '.' || m[1] === '..') return undefined;
  try {
    return realpathSync(`/var/run/netns/${m[1]}`) === realpathSync(path) ? m[1] : undefined;
  } catch {
    return undefined;
  }
}
