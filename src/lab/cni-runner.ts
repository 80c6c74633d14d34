import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Exec } from '../base/exec.js';

/**
 * Invokes a CNI network configuration list the way a container runtime does (CNI spec 1.0,
 * "Execution of network configuration lists"): for ADD every plugin in order, each receiving the
 * list's `name` and `cniVersion` and the previous plugin's result as `prevResult`; for DEL in
 * reverse order with the final ADD result. Plugins are found on CNI_PATH and run inside the
 * node's network namespace, so host-side interfaces land there. Errors carry the plugin's JSON
 * error message.
 */

export interface CniInvocation {
  containerId: string;
  /** /run/netns/<name> of the workload */
  netnsPath: string;
  ifName: string;
  /** K8S_POD_NAMESPACE=…;K8S_POD_NAME=… */
  args: Record<string, string>;
}

export interface CniConfList {
  cniVersion: string;
  name: string;
  plugins: Record<string, unknown>[];
}

export interface CniIp {
  address: string;
  gateway?: string;
}

export class CniRunner {
  constructor(private readonly exec: Exec, private readonly nodeNetns: string, private readonly binDirs: readonly string[], private readonly confDir: string) {}

  confList(): CniConfList {
    const files = existsSync(this.confDir) ? readdirSync(this.confDir).filter((f) => f.endsWith('.conflist')).sort() : [];
    if (files.length === 0) throw new Error(`no .conflist in ${this.confDir} (was brindle cni install run?)`);
    const list = JSON.parse(readFileSync(join(this.confDir, files[0]!), 'utf8')) as CniConfList;
    if (!Array.isArray(list.plugins) || list.plugins.length === 0) throw new Error(`${join(this.confDir, files[0]!)} has no plugins`);
    return list;
  }

  async add(inv: CniInvocation): Promise<Record<string, unknown>> {
    const list = this.confList();
    let prev: Record<string, unknown> | undefined;
    for (const plugin of list.plugins) prev = await this.invoke('ADD', list, plugin, inv, prev);
    return prev ?? {};
  }

  async del(inv: CniInvocation, prevResult?: Record<string, unknown>): Promise<void> {
    const list = this.confList();
    for (const plugin of [...list.plugins].reverse()) await this.invoke('DEL', list, plugin, inv, prevResult);
  }

  private async invoke(command: 'ADD' | 'DEL', list: CniConfList, plugin: Record<string, unknown>, inv: CniInvocation, prev?: Record<string, unknown>): Promise<Record<string, unknown>> {
    const type = String(plugin['type'] ?? '');
    const bin = this.binDirs.map((d) => join(d, type)).find((p) => existsSync(p));
    if (!bin) throw new Error(`CNI plugin "${type}" not found in ${this.binDirs.join(':')}`);
    const conf = { ...plugin, cniVersion: list.cniVersion, name: list.name, ...(prev ? { prevResult: prev } : {}) };
    const env = {
      CNI_COMMAND: command,
      CNI_CONTAINERID: inv.containerId,
      CNI_NETNS: inv.netnsPath,
      CNI_IFNAME: inv.ifName,
      CNI_PATH: this.binDirs.join(':'),
      CNI_ARGS: ['IgnoreUnknown=1', ...Object.entries(inv.args).map(([k, v]) => `${k}=${v}`)].join(';'),
    };
    let stdout: string;
    try {
      ({ stdout } = await this.exec.run(bin, [], { netns: this.nodeNetns, stdin: JSON.stringify(conf), env, timeoutMs: 30_000 }));
    } catch (err) {
      const out = (err as { stdout?: string }).stdout ?? '';
      throw new Error(`CNI ${command} with plugin ${type} failed: ${cniErrorText(out) ?? (err as Error).message}`, { cause: err });
    }
    if (command === 'DEL' || stdout.trim() === '') return prev ?? {};
    return JSON.parse(stdout) as Record<string, unknown>;
  }
}

function cniErrorText(out: string): string | undefined {
  try {
    const e = JSON.parse(out) as { msg?: string; details?: string; code?: number };
    return e.msg ? `${e.msg}${e.details ? `: ${e.details}` : ''} (code ${e.code})` : undefined;
  } catch {
    return undefined;
  }
}

/** The first IPv4 address of a CNI result (`ips[].address` is CIDR notation). */
export function resultIpv4(result: Record<string, unknown>): string | undefined {
  const ips = (result['ips'] ?? []) as { address?: string }[];
  for (const ip of ips) {
    const addr = ip.address?.split('/')[0];
    if (addr && addr.includes('.')) return addr;
  }
  return undefined;
}
