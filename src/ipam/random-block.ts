import { blockCount, nthBlock, type Cidr } from '../net/cidr.js';

/**
 * The order in which a node tries a pool's blocks when it needs a new one (pure). Like Calico's
 * randomBlockGenerator: start at a pseudo-random block chosen by a generator seeded with the FNV-32
 * hash of the node name, then walk the blocks in address order, wrapping round, each exactly once.
 * The same node always gets the same order, so a busy node keeps claiming neighbouring blocks and
 * different nodes rarely race for the same one.
 */

/** FNV-1 32-bit hash of the UTF-8 bytes of `text` (Go's hash/fnv New32). */
export function fnv32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h = Math.imul(h, 0x01000193) >>> 0;
    h = (h ^ byte) >>> 0;
  }
  return h >>> 0;
}

/** SplitMix64 step: a small, well-mixed deterministic generator of 64-bit values. */
function splitMix64(state: bigint): { next: bigint; value: bigint } {
  const mask = (1n << 64n) - 1n;
  const next = (state + 0x9e3779b97f4a7c15n) & mask;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask;
  return { next, value: z ^ (z >> 31n) };
}

/** Index of the first block this node tries in a pool of `numBlocks` blocks. */
export function startingBlockIndex(node: string, numBlocks: bigint): bigint {
  if (numBlocks <= 1n) return 0n;
  // Two 64-bit draws give 128 bits, enough for any IPv6 pool.
  const a = splitMix64(BigInt(fnv32(node)));
  const b = splitMix64(a.next);
  return ((a.value << 64n) | b.value) % numBlocks;
}

/** Yields every block of `pool` once, in this node's order. */
export function* blockOrder(pool: Cidr, blockSize: number, node: string): Generator<Cidr> {
  const n = blockCount(pool, blockSize);
  const start = startingBlockIndex(node, n);
  for (let k = 0n; k < n; k++) yield nthBlock(pool, blockSize, (start + k) % n);
}
