/**
 * Traffic of known shape for the lab flow-log test, run inside a workload's namespace with
 * `ip netns exec <netns> node flows-traffic-main.js MODE JSON`; prints one JSON result line.
 *
 *   tcp   {ip, port, srcPort, bytes}          connect from srcPort, send `bytes`, read the echo, close
 *   udp   {ip, port, srcPort, count, size, reply}  `count` datagrams of `size` bytes, 20 ms apart;
 *                                              with `reply`, waits for each echo
 *   syn   {ip, port, srcPort, timeoutMs}      a connect that is expected to time out (denied)
 *   many  {ip, port, firstPort, count, gapMs} one datagram from each of `count` source ports
 *   flood {ip, port, srcPort, size, durationMs}  datagrams as fast as the socket takes them
 *   hang  {port}                              listen on 127.0.0.1:port, accept, never answer (until killed)
 *
 * Every mode but `hang` ends within its own bound.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';

type Args = Record<string, number | string | boolean>;
const mode = process.argv[2] ?? '';
const a = JSON.parse(process.argv[3] ?? '{}') as Args;
const n = (k: string): number => Number(a[k]);

function done(result: unknown): void {
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
}

const guard = setTimeout(() => done({ error: 'timed out' }), mode === 'hang' ? 2 ** 31 - 1 : 30_000);
guard.unref();

function bound(port: number): Promise<UdpSocket> {
  const s = createSocket('udp4');
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, () => resolve(s));
  });
}

async function tcp(): Promise<void> {
  const payload = Buffer.alloc(n('bytes'), 'x');
  const sock = connect({ host: String(a['ip']), port: n('port'), localPort: n('srcPort') });
  let got = 0;
  sock.on('connect', () => sock.write(payload));
  sock.on('data', (b: Buffer) => {
    got += b.length;
    if (got >= payload.length) sock.end();
  });
  sock.on('error', (e) => done({ ok: false, error: e.message }));
  sock.on('close', () => done({ ok: got >= payload.length, received: got }));
}

async function udp(): Promise<void> {
  const s = await bound(n('srcPort'));
  let replies = 0;
  s.on('message', () => replies++);
  for (let i = 0; i < n('count'); i++) {
    await new Promise<void>((r) => s.send(Buffer.alloc(n('size'), 'u'), n('port'), String(a['ip']), () => r()));
    if (a['reply']) {
      const end = Date.now() + 1000;
      while (replies < i + 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, a['reply'] ? 100 : 0));
  s.close();
  done({ sent: n('count'), replies });
}

async function syn(): Promise<void> {
  const sock = connect({ host: String(a['ip']), port: n('port'), localPort: n('srcPort') });
  const t = setTimeout(() => {
    sock.destroy();
    done({ connected: false });
  }, n('timeoutMs'));
  sock.on('connect', () => {
    clearTimeout(t);
    sock.destroy();
    done({ connected: true });
  });
  sock.on('error', () => undefined);
}

async function many(): Promise<void> {
  for (let i = 0; i < n('count'); i++) {
    const s = await bound(n('firstPort') + i);
    await new Promise<void>((r) => s.send(Buffer.from(`many ${i}`), n('port'), String(a['ip']), () => r()));
    s.close();
    await new Promise((r) => setTimeout(r, n('gapMs')));
  }
  done({ sent: n('count') });
}

async function flood(): Promise<void> {
  const s = await bound(n('srcPort'));
  const buf = Buffer.alloc(n('size'), 'f');
  const t0 = Date.now();
  let sent = 0;
  while (Date.now() - t0 < n('durationMs')) {
    // A window of sends in flight, then yield: as fast as the socket takes them, memory bounded.
    await Promise.all(Array.from({ length: 64 }, () => new Promise<void>((r) => s.send(buf, n('port'), String(a['ip']), (err) => {
      if (!err) sent++;
      r();
    }))));
  }
  const durationMs = Date.now() - t0;
  s.close();
  done({ sent, durationMs });
}

function hang(): void {
  const held: unknown[] = [];
  createServer((sock) => {
    held.push(sock);
    sock.on('error', () => undefined);
  }).listen(n('port'), '127.0.0.1', () => process.stdout.write(`listening ${n('port')}\n`));
  process.on('SIGTERM', () => process.exit(0));
}

const modes: Record<string, () => unknown> = { tcp, udp, syn, many, flood, hang };
const run = modes[mode];
if (!run) {
  process.stderr.write(`usage: flows-traffic-main.js ${Object.keys(modes).join('|')} JSON\n`);
  process.exit(2);
}
void Promise.resolve(run()).catch((e: Error) => done({ error: e.message }));
