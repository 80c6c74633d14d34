/**
 * The real nft client: runs a transaction atomically, through a long-lived `nft -i` session when
 * one is given and the script is small (see nft-session.ts), else as one `nft -f -`; and reads the
 * table back as JSON. Every call goes through Exec (which may enter a netns); nothing outside the
 * table `inet brindle` is ever named.
 */
import type { Exec } from '../../base/exec.js';
import { ExecError } from '../../errors.js';
import type { KernelListing } from './listing.js';
import type { NftSession } from './nft-session.js';
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

/** Scripts up to this size go through the session; bigger ones (initial loads) through `nft -f`. */
export const SESSION_MAX_SCRIPT = 256 * 1024;

/**
 * A no-op transaction (a chain made and removed in one batch, never visible) that brings a new
 * session's caches up to size: its first few transactions on a large table are 3–4 times slower
 * than the later ones.
 */
const WARM_UP = `add chain ${TABLE} brl-warm-up\ndelete chain ${TABLE} brl-warm-up\n`;

export class ExecNftClient implements NftClient {
  private warmed = false;

  constructor(private readonly exec: Exec, private readonly opts: { netns?: string; timeoutMs?: number; session?: NftSession } = {}) {}

  async run(tx: NftTransaction): Promise<void> {
    if (tx.isEmpty) return;
    const script = tx.toScript();
    const session = this.opts.session;
    if (session && script.length <= SESSION_MAX_SCRIPT) return session.run(script);
    await this.exec.run('nft', ['-f', '-'], { stdin: script, timeoutMs: this.opts.timeoutMs ?? 60_000, ...(this.opts.netns ? { netns: this.opts.netns } : {}) });
    if (session && !this.warmed && !tx.ops.some((o) => o.op === 'delete-table')) {
      // The table exists now: warm the session up before the first small change needs it.
      this.warmed = true;
      for (let i = 0; i < 3; i++) session.run(WARM_UP).catch(() => undefined);
    }
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

