/**
 * The servers inside a lab workload (`brindle lab workload add --serve 80/tcp,80/udp`): started by
 * the lab with `ip netns exec <workload netns> node workload-server-main.js 80/tcp 80/udp …`. TCP
 * ports accept and echo; UDP ports echo every datagram to its sender (the probe needs an answer to
 * tell "reached" from "dropped"). Listens on all addresses of the workload's own namespace only.
 * Exits on SIGTERM.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

const specs = process.argv.slice(2);
if (specs.length === 0) {
  process.stderr.write('usage: workload-server-main.js PORT/tcp|udp …\n');
  process.exit(2);
}
for (const spec of specs) {
  const m = /^(\d+)\/(tcp|udp)$/.exec(spec);
  if (!m) {
    process.stderr.write(`bad port spec "${spec}": use PORT/tcp or PORT/udp\n`);
    process.exit(2);
  }
  const port = Number(m[1]);
  if (m[2] === 'tcp') {
    const srv = createServer((sock) => {
      sock.on('error', () => undefined);
      sock.setTimeout(5000, () => sock.destroy());
      sock.pipe(sock);
    });
    srv.on('error', (e) => fail(spec, e));
    srv.listen({ port, host: '0.0.0.0' });
  } else {
    const sock = createSocket('udp4');
    sock.on('error', (e) => fail(spec, e));
    sock.on('message', (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
    sock.bind(port, '0.0.0.0');
  }
}
process.stdout.write(`serving ${specs.join(' ')}\n`);
process.on('SIGTERM', () => process.exit(0));

function fail(spec: string, e: Error): never {
  process.stderr.write(`${spec}: ${e.message}\n`);
  process.exit(1);
}
