import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Exec } from '../base/exec.js';
import { ExecError } from '../errors.js';
import { CniCode, CniError } from './cni-spec.js';
import { containerSetupScript, hostSetupScript, hostSysctls, type VethPlan } from './veth-scripts.js';
import { GATEWAY_V4, GATEWAY_V6, HOST_VETH_MAC } from './workload-identity.js';

/**
 * Does the kernel side of an attachment: two `ip -batch` runs (one in the node's netns where the
 * plugin runs, one inside the container's netns through `nsenter --net=PATH`, which takes any
 * netns path, unlike `ip -n`), plus host sysctls written to /proc/sys directly (per-netns for the
 * writing process, no process spawned). It never touches another netns than these two.
 * `procSys` is injectable so tests can point it at a directory.
 */
/** The kernel half of one ADD, started early (see VethPlumber.begin). */
export interface Wiring {
  setUp(p: VethPlan): Promise<void>;
  cancel(): Promise<void>;
}

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** How long one ip run may take once it has its script: netlink waits for the kernel's rtnl lock, which a busy host (many netns being created or deleted) holds for seconds. */
const IP_TIMEOUT_MS = 90_000;

export class VethPlumber {
  constructor(
    private readonly exec: Exec,
    private readonly procSys = '/proc/sys',
  ) {}

  /** True when an interface of that name exists in the node's netns (its IPv4 conf dir exists). */
  hostLinkExists(name: string): boolean {
    return existsSync(`${this.procSys}/net/ipv4/conf/${name}`);
  }

  netnsExists(path: string): boolean {
    return path !== '' && existsSync(path);
  }

  /**
   * Starts the two `ip -batch` processes of an ADD before their scripts are known (they wait on
   * stdin), so their start-up overlaps the datastore work; `setUp` then feeds them in order.
   * Every Wiring must end with `setUp` or `cancel` (which lets both exit having done nothing).
   */
  begin(netns: string): Wiring {
    if (!this.netnsExists(netns)) throw new CniError(CniCode.UnknownContainer, `network namespace ${netns} does not exist (has the container exited?)`);
    const host = deferred<string>();
    const ctr = deferred<string>();
    const hostRun = this.ip(host.promise, undefined, 'creating the veth');
    const ctrRun = this.ip(ctr.promise, netns, `configuring the interface in ${netns}`);
    hostRun.catch(() => undefined);
    ctrRun.catch(() => undefined);
    let done = false;
    const cancel = async () => {
      if (done) return;
      done = true;
      host.resolve('');
      ctr.resolve('');
      await Promise.allSettled([hostRun, ctrRun]);
    };
    const setUp = async (p: VethPlan) => {
      if (done) throw new Error('wiring already used');
      done = true;
      host.resolve(hostSetupScript(p));
      try {
        await hostRun;
        for (const [path, value] of hostSysctls(p.hostVeth, p.addresses.some((a) => a.includes(':')))) {
          try {
            writeFileSync(`${this.procSys}/${path}`, value);
          } catch (err) {
            throw new CniError(CniCode.IoFailure, `cannot set ${path.replace(/\//g, '.')}=${value}: ${(err as Error).message}`, undefined, { cause: err });
          }
        }
      } catch (err) {
        ctr.resolve('');
        await ctrRun.catch(() => undefined);
        throw err;
      }
      ctr.resolve(containerSetupScript(p));
      await ctrRun;
    };
    return { setUp, cancel };
  }

  async setUp(p: VethPlan): Promise<void> {
    await this.begin(p.netns).setUp(p);
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
