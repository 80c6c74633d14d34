/** UDP echo server (run inside a workload namespace): `node udp-echo.js <port>`. */
import { createSocket } from 'node:dgram';

const port = Number(process.argv[2] ?? 8081);
const s = createSocket('udp4');
s.on('message', (msg, rinfo) => s.send(msg, rinfo.port, rinfo.address));
s.bind(port);
