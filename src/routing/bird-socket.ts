/**
 * BirdSocketClient: one command over BIRD's control socket (what `birdc` does). BIRD greets with
 * `0001 … ready.`, then answers each command with lines `DDDD-text` (more of the same code follows),
 * `DDDD text` (last line of that code) or ` text` (continuation). The reply ends at a code line
 * with a space whose code starts with 0 (done), 8 (runtime error) or 9 (syntax error). Errors are
 * thrown as UnavailableError (cannot connect, timed out) or BirdCommandError (BIRD said no).
 */
import { createConnection } from 'node:net';
import { BrindleError, UnavailableError } from '../errors.js';

export interface BirdReplyLine {
  code: number;
  text: string;
}

export class BirdCommandError extends BrindleError {
  constructor(message: string, readonly lines: BirdReplyLine[]) {
    super('Internal', message);
  }
}

export interface BirdClient {
  command(cmd: string): Promise<BirdReplyLine[]>;
}

export class BirdSocketClient implements BirdClient {
  constructor(readonly socketPath: string, private readonly timeoutMs = 3000) {}

  command(cmd: string): Promise<BirdReplyLine[]> {
    return new Promise((resolve, reject) => {
      const sock = createConnection(this.socketPath);
      let buf = '';
      let greeted = false;
      const lines: BirdReplyLine[] = [];
      let lastCode = 0;
      const timer = setTimeout(() => finish(new UnavailableError(`BIRD control socket ${this.socketPath}: no answer to "${cmd}" within ${this.timeoutMs} ms`)), this.timeoutMs);
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        sock.destroy();
        if (err) reject(err);
        else resolve(lines);
      };
      sock.on('error', (e) => finish(new UnavailableError(`cannot reach BIRD at ${this.socketPath}: ${e.message} (is BIRD running?)`, { cause: e })));
      sock.on('close', () => finish(new UnavailableError(`BIRD closed the control socket ${this.socketPath} before answering "${cmd}"`)));
      sock.setEncoding('utf8');
      sock.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const raw = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const m = /^(\d{4})([ -])(.*)$/.exec(raw);
          if (!greeted) {
            if (m?.[1] === '0001') {
              greeted = true;
              sock.write(`${cmd}\n`);
            }
            continue;
          }
          if (!m) {
            lines.push({ code: lastCode, text: raw.startsWith(' ') ? raw.slice(1) : raw });
            continue;
          }
          lastCode = Number(m[1]);
          lines.push({ code: lastCode, text: m[3]! });
          const first = m[1]![0];
          if (m[2] === ' ' && (first === '0' || first === '8' || first === '9')) {
            if (first === '8' || first === '9') {
              clearTimeout(timer);
              sock.destroy();
              reject(new BirdCommandError(`BIRD refused "${cmd}": ${lines.map((l) => l.text).filter(Boolean).join('; ')}`, lines));
              return;
            }
            return finish();
          }
        }
      });
    });
  }
}
