/**
 * The prober inside a lab workload: `ip netns exec <workload netns> node probe-main.js JSON` where
 * JSON is `{"timeoutMs":1000,"targets":[{"ip":"10.65.0.3","port":80,"protocol":"tcp"},…]}`. Probes
 * every target at once, each with a fresh socket: TCP is reachable when the connection is
 * established, UDP when the server's echo comes back. Prints a JSON array of booleans in target
 * order. Every probe ends within the timeout; the process exits when all have.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';

interface Target {
  ip: string;
  port: number;
  protocol: 'tcp' | 'udp';
}

const input = JSON.parse(process.argv[2] ?? '{}') as { timeoutMs?: number; targets?: Target[] };
const timeoutMs = Math.min(Math.max(input.timeoutMs ?? 1000, 50), 10_000);
const targets = input.targets ?? [];

function probeTcp(t: Target): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: t.ip, port: t.port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function probeUdp(t: Target): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const payload = Buffer.from(`brindle-probe ${process.pid} ${t.ip}:${t.port}`);
    let finished = false;
    const done = (ok: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('error', () => done(false)); // ICMP unreachable on a connected socket
    sock.on('message', (msg) => done(msg.equals(payload)));
    sock.connect(t.port, t.ip, () => sock.send(payload));
  });
}

const results = await Promise.all(targets.map((t) => (t.protocol === 'udp' ? probeUdp(t) : probeTcp(t))));
process.stdout.write(JSON.stringify(results) + '\n', () => process.exit(0));
