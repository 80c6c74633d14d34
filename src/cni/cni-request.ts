import { CniCode, CniError } from './cni-spec.js';

/**
 * One plugin invocation as the runtime described it in `CNI_*` environment variables (pure).
 * Which variables a command needs follows the spec: ADD/DEL/CHECK need the container ID and the
 * interface name (ADD and CHECK also a netns), VERSION/STATUS/GC need none of them.
 */

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';
const COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'];

export interface CniRequest {
  command: CniCommand;
  containerId: string;
  /** Path of the container's network namespace; '' when the runtime gave none (a DEL after the sandbox is gone). */
  netns: string;
  ifname: string;
  /** `CNI_ARGS` as key/value pairs (`K8S_POD_NAME`, `K8S_POD_NAMESPACE`, `IgnoreUnknown`…). */
  args: Map<string, string>;
  /** `CNI_PATH` directories. */
  path: string[];
}

export function parseCniEnv(env: Readonly<Record<string, string | undefined>>): CniRequest {
  const cmd = env['CNI_COMMAND'] ?? '';
  if (!(COMMANDS as readonly string[]).includes(cmd)) {
    throw new CniError(CniCode.InvalidEnvironment, cmd === '' ? 'CNI_COMMAND is not set: this is a CNI plugin, run by a container runtime (ADD, DEL, CHECK, VERSION, STATUS, GC)' : `CNI_COMMAND "${cmd}" is not one of ${COMMANDS.join(', ')}`);
  }
  const command = cmd as CniCommand;
  const req: CniRequest = {
    command,
    containerId: env['CNI_CONTAINERID'] ?? '',
    netns: env['CNI_NETNS'] ?? '',
    ifname: env['CNI_IFNAME'] ?? '',
    args: parseCniArgs(env['CNI_ARGS'] ?? ''),
    path: (env['CNI_PATH'] ?? '').split(':').filter((p) => p !== ''),
  };
  if (command === 'ADD' || command === 'DEL' || command === 'CHECK') {
    if (req.containerId === '') throw new CniError(CniCode.InvalidEnvironment, `CNI_CONTAINERID is required for ${command}`);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(req.containerId)) throw new CniError(CniCode.InvalidEnvironment, `CNI_CONTAINERID "${req.containerId}" must start with a letter or digit and hold only letters, digits, "_", "." and "-"`);
    if (req.ifname === '') throw new CniError(CniCode.InvalidEnvironment, `CNI_IFNAME is required for ${command}`);
    if (req.ifname.length > 15 || /[/:\s]/.test(req.ifname) || req.ifname === '.' || req.ifname === '..') {
      throw new CniError(CniCode.InvalidEnvironment, `CNI_IFNAME "${req.ifname}" is not a valid interface name (at most 15 characters, no "/", ":" or spaces)`);
    }
    if (command !== 'DEL' && req.netns === '') throw new CniError(CniCode.InvalidEnvironment, `CNI_NETNS is required for ${command}`);
  }
  return req;
}

/** `A=1;B=2` → Map. Entries without `=` are ignored. */
export function parseCniArgs(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) m.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return m;
}
