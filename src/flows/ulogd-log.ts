/**
 * ulogd2's own log lines (`<time> <level> <source file>:<line> <message>`) read for the one thing
 * flow logging must not miss: the kernel dropping events because a netlink socket's receive buffer
 * overflowed (ENOBUFS). ulogd 2.0.8 logs one line per overrun, either "We are losing events…"
 * (while it can still grow the buffer, or when no maximum is configured) or "Maximum buffer size
 * (N) in NFCT|NFLOG has been reached…" (once it cannot). The kernel does not say how many events
 * were dropped, so an overrun is counted, not its events. Pure.
 */

/** Which netlink subscription overran: conntrack events (allowed flows' ends) or NFLOG (logged packets). */
export type OverrunSource = 'conntrack' | 'nflog';

const LOSING = /We are losing events|Maximum buffer size \(\d+\) in (NFCT|NFLOG) has been reached/;

/** The source of an overrun this line reports, or undefined for any other line. */
export function ulogdOverrun(line: string): OverrunSource | undefined {
  const m = LOSING.exec(line);
  if (!m) return undefined;
  if (m[1] === 'NFCT' || /inpflow_NFCT/.test(line)) return 'conntrack';
  if (m[1] === 'NFLOG' || /inppkt_NFLOG/.test(line)) return 'nflog';
  // A line without its source file (another log format): conntrack is the likelier to overrun.
  return 'conntrack';
}
