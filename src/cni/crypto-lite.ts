import { closeSync, openSync, readSync } from 'node:fs';

/**
 * What the CNI plugin bundle uses of `node:crypto`, without loading it (loading node:crypto costs
 * ~10 ms of CPU per process start, a quarter of the plugin's budget): SHA-1 in plain code (the
 * veth and MAC names), UUIDs from /dev/urandom. Any other hash is delegated to the real module,
 * loaded on first use. `brindle cni install` substitutes this module for `node:crypto` in the
 * bundle only; the rest of Brindle uses node:crypto directly.
 */

interface Hash {
  update(data: string): Hash;
  digest(encoding: 'hex'): string;
  digest(encoding: 'base64url' | 'base64'): string;
  digest(): Buffer;
}

export function createHash(algorithm: string): Hash {
  if (algorithm === 'sha1') {
    const parts: Buffer[] = [];
    const h: Hash = {
      update(data: string) {
        parts.push(Buffer.from(data, 'utf8'));
        return h;
      },
      digest(encoding?: string) {
        const d = sha1(Buffer.concat(parts));
        return (encoding ? d.toString(encoding as BufferEncoding) : d) as never;
      },
    };
    return h;
  }
  const real = process.getBuiltinModule('node:crypto');
  return real.createHash(algorithm) as unknown as Hash;
}

export function randomUUID(): string {
  const b = Buffer.alloc(16);
  const fd = openSync('/dev/urandom', 'r');
  try {
    readSync(fd, b, 0, 16, null);
  } finally {
    closeSync(fd);
  }
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** SHA-1 (FIPS 180-4), for short inputs. */
export function sha1(msg: Buffer): Buffer {
  const len = msg.length;
  const words = ((len + 8) >> 6) + 1;
  const w = new Uint32Array(words * 16);
  for (let i = 0; i < len; i++) w[i >> 2]! |= msg[i]! << (24 - (i % 4) * 8);
  w[len >> 2]! |= 0x80 << (24 - (len % 4) * 8);
  w[words * 16 - 1] = (len * 8) >>> 0;
  w[words * 16 - 2] = Math.floor((len * 8) / 0x100000000);
  let h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476, h4 = 0xc3d2e1f0;
  const x = new Uint32Array(80);
  for (let blk = 0; blk < words * 16; blk += 16) {
    for (let t = 0; t < 16; t++) x[t] = w[blk + t]!;
    for (let t = 16; t < 80; t++) {
      const v = x[t - 3]! ^ x[t - 8]! ^ x[t - 14]! ^ x[t - 16]!;
      x[t] = (v << 1) | (v >>> 31);
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4;
    for (let t = 0; t < 80; t++) {
      const f = t < 20 ? (b & c) | (~b & d) : t < 40 ? b ^ c ^ d : t < 60 ? (b & c) | (b & d) | (c & d) : b ^ c ^ d;
      const k = t < 20 ? 0x5a827999 : t < 40 ? 0x6ed9eba1 : t < 60 ? 0x8f1bbcdc : 0xca62c1d6;
      const tmp = (((a << 5) | (a >>> 27)) + f + e + k + x[t]!) >>> 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = tmp;
    }
    h0 = (h0 + a) >>> 0;
    h1 = (h1 + b) >>> 0;
    h2 = (h2 + c) >>> 0;
    h3 = (h3 + d) >>> 0;
    h4 = (h4 + e) >>> 0;
  }
  const out = Buffer.alloc(20);
  [h0, h1, h2, h3, h4].forEach((v, i) => out.writeUInt32BE(v >>> 0, i * 4));
  return out;
}
