/**
 * Probes `host:port` over UDP from a fresh socket (a new conntrack flow) every ~1 ms and prints a
 * JSON line `{"t": <epoch ms, sub-ms>, "ok": bool}` each time the answer changes (t = when the
 * probe that saw the change was sent). Runs inside a workload namespace until killed.
 *
 * Each probe binds the next source port of a 40,000-port cycle (40 s at this rate), so no probe
 * meets the live conntrack entry of an earlier allowed probe with the same ports: that probe would
 * pass as established while the policy denies, and could hide the next flip.
 */
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';

const [host, portText] = [process.argv[2]!, process.argv[3] ?? '8081'];
const port = Number(portText);
const now = () => performance.timeOrigin + performance.now();
let state: boolean | undefined;
let seq = 0;
let lastDecided = 0;

function probe(): void {
  const id = ++seq;
  const sent = now();
  const s = createSocket('udp4');
  let done = false;
  const finish = (ok: boolean) => {
    if (done) return;
    done = true;
    s.close();
    if (id < lastDecided) return; // a later probe already decided
    lastDecided = id;
    if (ok !== state) {
      state = ok;
      process.stdout.write(JSON.stringify({ t: sent, ok }) + '\n');
    }
  };
  s.on('message', () => finish(true));
  s.on('error', () => finish(false));
  s.bind(20_000 + (id % 40_000), () => s.send('x', port, host));
  setTimeout(() => finish(false), 30);
}

setInterval(probe, 1);
