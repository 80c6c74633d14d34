/** Opens short TCP connections to `host:port` for `seconds` (concurrency 8); prints the count per second. */
import { connect } from 'node:net';

const [host, port, seconds] = [process.argv[2]!, Number(process.argv[3] ?? 8080), Number(process.argv[4] ?? 3)];
const end = Date.now() + seconds * 1000;
let count = 0;
let failed = 0;

function one(): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.setTimeout(1000, () => s.destroy());
    s.on('connect', () => {
      count++;
      s.end();
    });
    s.on('error', () => failed++);
    s.on('close', () => resolve());
  });
}

async function worker(): Promise<void> {
  while (Date.now() < end) await one();
}

await Promise.all(Array.from({ length: 8 }, worker));
process.stdout.write(JSON.stringify({ perSecond: count / seconds, failed }) + '\n');
