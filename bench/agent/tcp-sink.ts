/** TCP server that accepts and closes (for the new-connection rate): `node tcp-sink.js <port>`. */
import { createServer } from 'node:net';

createServer((s) => s.end()).listen(Number(process.argv[2] ?? 8090));
