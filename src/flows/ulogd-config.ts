import { NFLOG_GROUP_ALLOWED, NFLOG_GROUP_DENIED } from './rule-id.js';

export interface UlogdConfigOptions {
  /** Unix socket the collector listens on; ulogd's JSON outputs connect to it. */
  socketPath: string;
  /** ulogd's log: a file, or "stdout" (the collector reads it there, to count overruns). */
  logFile: string;
  pluginDir?: string;
  deniedGroup?: number;
  allowedGroup?: number;
  /** Conntrack DESTROY events (allowed flows' counts); off leaves only logged packets. */
  conntrack?: boolean;
  /** The conntrack subscription's netlink receive buffer: initial and maximum bytes (defaults 16 and 64 MiB). */
  netlinkBuffer?: NetlinkBuffer;
}

export interface NetlinkBuffer {
  bytes: number;
  maxBytes: number;
}

/**
 * ulogd2's configuration for one node: two NFLOG stacks (the denied and the allowed group) and one
 * conntrack stack (DESTROY events only, event_mask 0x4, no hash table), each ending in a JSON output
 * that writes lines to the collector's unix socket. Pure text; real-clients.md §4 shows it working.
 */
export function renderUlogdConfig(o: UlogdConfigOptions): string {
  const dir = o.pluginDir ?? '/usr/lib/x86_64-linux-gnu/ulogd';
  const plugins = ['inppkt_NFLOG', 'inpflow_NFCT', 'filter_IFINDEX', 'filter_IP2STR', 'raw2packet_BASE', 'output_JSON'];
  const json = (name: string): string[] => [`[${name}]`, 'mode="unix"', `file="${o.socketPath}"`, ''];
  const lines = [
    '[global]',
    `logfile="${o.logFile}"`,
    'loglevel=5',
    ...plugins.map((p) => `plugin="${dir}/ulogd_${p}.so"`),
    'stack=deny1:NFLOG,deny2:BASE,deny3:IFINDEX,deny4:IP2STR,deny5:JSON',
    'stack=allow1:NFLOG,allow2:BASE,allow3:IFINDEX,allow4:IP2STR,allow5:JSON',
    ...(o.conntrack !== false ? ['stack=ct1:NFCT,ct2:IP2STR,ct3:JSON'] : []),
    '',
    // The kernel batches NFLOG messages up to 100 packets or 1 s by default; deliver within 100 ms.
    '[deny1]',
    `group=${o.deniedGroup ?? NFLOG_GROUP_DENIED}`,
    'netlink_qthreshold=32',
    'netlink_qtimeout=10',
    '',
    ...json('deny5'),
    '[allow1]',
    `group=${o.allowedGroup ?? NFLOG_GROUP_ALLOWED}`,
    'netlink_qthreshold=32',
    'netlink_qtimeout=10',
    '',
    ...json('allow5'),
  ];
  // Thousands of connections ending per second overflow the default netlink receive buffer
  // (ulogd: "We are losing events"): start at 16 MiB, ulogd doubles it on ENOBUFS up to 64 MiB.
  // Past that, events the kernel cannot queue are dropped; ulogd says so and the collector counts it.
  if (o.conntrack !== false) lines.push('[ct1]', 'hash_enable=0', 'event_mask=0x00000004', `netlink_socket_buffer_size=${o.netlinkBuffer?.bytes ?? NETLINK_BUFFER}`, `netlink_socket_buffer_maxsize=${o.netlinkBuffer?.maxBytes ?? NETLINK_BUFFER_MAX}`, '', ...json('ct3'));
  return lines.join('\n');
}

const NETLINK_BUFFER = 16 << 20;
const NETLINK_BUFFER_MAX = 64 << 20;

/** Per-namespace sysctls conntrack accounting needs (byte/packet counts and start/end times). */
export const CONNTRACK_SYSCTLS: Record<string, string> = {
  'net.netfilter.nf_conntrack_acct': '1',
  'net.netfilter.nf_conntrack_timestamp': '1',
};
