import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** Registers the `ipam` commands. PLACEHOLDER until its issue lands. */
export function register(_program: Command, _ctx: CliContext): void {}
