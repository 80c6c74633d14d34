import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { BRINDLE_BIN, REPO_ROOT } from '../helpers/paths.js';

/** Why a kernel flow test cannot run here (not root, or a tool missing), else undefined. */
export function flowTestSkipReason(tools = ['nft', 'ip', 'ulogd', 'socat']): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  for (const t of tools) if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) return `${t} is not installed`;
  return undefined;
}

export function sh(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 20_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

export function brindle(env: NodeJS.ProcessEnv, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BRINDLE_BIN, ...args], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A long-running process we started; `stop` kills it by PID and waits (bounded). */
export class Proc {
  readonly child: ChildProcess;
  out = '';
  err = '';
  constructor(cmd: string, args: string[], env?: NodeJS.ProcessEnv) {
    this.child = spawn(cmd, args, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (b: Buffer) => (this.out += b.toString()));
    this.child.stderr!.on('data', (b: Buffer) => (this.err += b.toString()));
  }
  async waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; stderr: ${this.err.slice(-500)}`);
      if (this.child.exitCode !== null) throw new Error(`process exited (${this.child.exitCode}) while waiting for ${what}: ${this.err.slice(-500)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.pid === undefined) return;
    const done = new Promise((r) => this.child.once('exit', r));
    try {
      process.kill(this.child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const t = setTimeout(() => {
      try {
        process.kill(this.child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, 3_000);
    await done;
    clearTimeout(t);
  }
}

/** Two namespaces joined by a veth: `a` (10.99.0.1, the client) and `b` (10.99.0.2, the node with the rules). */
export function makePair(tag: string): { a: string; b: string; remove(): void } {
  const a = `brl-fa${tag}`;
  const b = `brl-fb${tag}`;
  sh('ip', ['netns', 'add', a]);
  sh('ip', ['netns', 'add', b]);
  const remove = (): void => {
    spawnSync('ip', ['netns', 'del', a]);
    spawnSync('ip', ['netns', 'del', b]);
  };
  try {
    sh('ip', ['-n', a, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', b]);
    sh('ip', ['-n', a, 'addr', 'add', '10.99.0.1/24', 'dev', 'va']);
    sh('ip', ['-n', b, 'addr', 'add', '10.99.0.2/24', 'dev', 'vb']);
    for (const [ns, dev] of [[a, 'va'], [b, 'vb']] as const) {
      sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
  } catch (err) {
    remove();
    throw err;
  }
  return { a, b, remove };
}
