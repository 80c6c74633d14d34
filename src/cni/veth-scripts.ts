import { GATEWAY_V4, GATEWAY_V6, HOST_VETH_MAC } from './workload-identity.js';

/**
 * The `ip -batch` scripts and sysctls that wire one workload Calico-style (pure, so they are
 * tested as text): a veth pair whose host side `cali…` has MAC ee:ee:ee:ee:ee:ee, proxy ARP and
 * a /32 (/128) route per address; inside the container the address as /32 (/128), a link route
 * to 169.254.1.1 and a default route through it (IPv6: through the host veth's link-local
 * address). The host side answers ARP for the gateway that does not exist.
 */

export interface VethPlan {
  hostVeth: string;
  /** Interface name inside the container. */
  ifname: string;
  /** Path of the container's netns. */
  netns: string;
  mtu: number;
  containerMac: string;
  /** Bare addresses (`10.65.0.5`, `fd00::5`). */
  addresses: string[];
  /** Delete a leftover host veth of the same name first (a retried ADD). */
  replaceHostVeth: boolean;
}

const v6 = (a: string) => a.includes(':');

/** Runs in the node's netns: create the pair (container end born in its netns), bring the host end up, route each address to it. */
export function hostSetupScript(p: VethPlan): string {
  const lines: string[] = [];
  if (p.replaceHostVeth) lines.push(`link del ${p.hostVeth}`);
  lines.push(`link add ${p.hostVeth} mtu ${p.mtu} address ${HOST_VETH_MAC} type veth peer name ${p.ifname} mtu ${p.mtu} address ${p.containerMac} netns ${p.netns}`);
  lines.push(`link set ${p.hostVeth} up`);
  for (const a of p.addresses) lines.push(`route add ${a}/${v6(a) ? 128 : 32} dev ${p.hostVeth} scope link`);
  return lines.join('\n') + '\n';
}

/** Runs inside the container's netns. */
export function containerSetupScript(p: VethPlan): string {
  const lines = [`link set ${p.ifname} up`];
  const four = p.addresses.filter((a) => !v6(a));
  const six = p.addresses.filter(v6);
  for (const a of four) lines.push(`addr add ${a}/32 dev ${p.ifname}`);
  if (four.length > 0) {
    lines.push(`route add ${GATEWAY_V4}/32 dev ${p.ifname} scope link`);
    lines.push(`route add 0.0.0.0/0 via ${GATEWAY_V4} dev ${p.ifname}`);
  }
  for (const a of six) lines.push(`addr add ${a}/128 dev ${p.ifname} nodad`);
  if (six.length > 0) lines.push(`route add ::/0 via ${GATEWAY_V6} dev ${p.ifname}`);
  return lines.join('\n') + '\n';
}

/** Host-side sysctls (paths under /proc/sys) and their values. IPv6 ones only when the workload has IPv6. */
export function hostSysctls(hostVeth: string, ipv6: boolean): [string, string][] {
  const out: [string, string][] = [
    [`net/ipv4/conf/${hostVeth}/proxy_arp`, '1'],
    [`net/ipv4/neigh/${hostVeth}/proxy_delay`, '0'],
    [`net/ipv4/conf/${hostVeth}/forwarding`, '1'],
    [`net/ipv4/conf/${hostVeth}/route_localnet`, '1'],
  ];
  if (ipv6) {
    out.push([`net/ipv6/conf/${hostVeth}/proxy_ndp`, '1'], [`net/ipv6/conf/${hostVeth}/accept_ra`, '0'], [`net/ipv6/conf/${hostVeth}/forwarding`, '1']);
  }
  return out;
}

/** Single-quotes a word for sh. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Exit codes of setupShellScript's steps. */
export const SETUP_EXIT = { host: 3, sysctl: 4, container: 5 } as const;

/**
 * The whole kernel side of an ADD as one `sh -c` script, so the plugin starts one process (each
 * start from Node forks the whole Node process, ~4 ms here) and the shell starts the rest: the
 * host-side `ip -batch`, the host sysctls (shell built-ins writing /proc/sys), then the
 * container-side `ip -batch` inside the container's netns: `ip -n NAME` when the netns is a named
 * one (`/run/netns/NAME`), otherwise `nsenter --net=PATH`, which takes any netns path. A failed
 * step prints `brindle-step <step> [<detail>]` on stderr and exits with its SETUP_EXIT code; ip's
 * own message is on stderr before it. Here-documents with quoted delimiters: nothing in them is
 * expanded by the shell.
 */
export function setupShellScript(p: VethPlan, procSys: string, netnsName?: string): string {
  const fail = (step: keyof typeof SETUP_EXIT, detail = '') => `|| { echo ${shellQuote(`brindle-step ${step}${detail ? ` ${detail}` : ''}`)} >&2; exit ${SETUP_EXIT[step]}; }`;
  const lines = [`ip -batch - <<'BRINDLE_HOST_END' ${fail('host')}`, hostSetupScript(p) + 'BRINDLE_HOST_END'];
  for (const [path, value] of hostSysctls(p.hostVeth, p.addresses.some(v6))) {
    lines.push(`printf %s ${shellQuote(value)} > ${shellQuote(`${procSys}/${path}`)} ${fail('sysctl', `${path}=${value}`)}`);
  }
  const ctr = netnsName !== undefined ? `ip -n ${shellQuote(netnsName)} -batch -` : `nsenter --net=${shellQuote(p.netns)} ip -batch -`;
  lines.push(`${ctr} <<'BRINDLE_CTR_END' ${fail('container')}`, containerSetupScript(p) + 'BRINDLE_CTR_END');
  return lines.join('\n') + '\n';
}
