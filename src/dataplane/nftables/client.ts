/**
 * The real nft client: runs a transaction as one `nft -f -` (atomic in the kernel) and reads the
 * table back as JSON. Every call goes through Exec (which may enter a netns); nothing outside the
 * table `inet brindle` is ever named.
 */
import type { Exec } from '../../base/exec.js';
import { ExecError } from '../../errors.js';
import type { KernelListing } from './listing.js';
import { parseListing } from './listing.js';
import { TABLE } from './names.js';
import type { NftTransaction } from './transaction.js';

export interface NftClient {
  /** Applies the transaction atomically; rejects (and changes nothing) if any command fails. */
  run(tx: NftTransaction): Promise<void>;
  /** The table as the kernel holds it; null when it does not exist. */
  list(): Promise<KernelListing | null>;
}

/** True for errors that mean "the table (or object) does not exist". */
export function isNotFound(err: unknown): boolean {
  return err instanceof ExecError && /No such file or directory/.test(err.stderr ?? err.message);
}

export class ExecNftClient implements NftClient {
  constructor(private readonly exec: Exec, private readonly opts: { netns?: string; timeoutMs?: number } = {}) {}

  async run(tx: NftTransaction): Promise<void> {
    if (tx.isEmpty) return;
    await this.exec.run('nft', ['-f', '-'], { stdin: tx.toScript(), timeoutMs: this.opts.timeoutMs ?? 60_000, ...(this.opts.netns ? { netns: this.opts.netns } : {}) });
  }

  async list(): Promise<KernelListing | null> {
    try {
      const { stdout } = await this.exec.run('nft', ['-j', 'list', 'table', ...TABLE.split(' ')], { timeoutMs: this.opts.timeoutMs ?? 60_000, ...(this.opts.netns ? { netns: this.opts.netns } : {}) });
      return parseListing(stdout);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }
}

