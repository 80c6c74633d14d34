import { readFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { ProcessExec } from '../base/exec.js';
import { compareVersions, CniCode, CniError, errorJson, isSupportedVersion, renderResult, versionJson } from './cni-spec.js';
import { parseCniEnv } from './cni-request.js';
import { IpamPlugin } from './ipam-plugin.js';
import { NetworkPlugin } from './network-plugin.js';
import { parseNetConf } from './net-conf.js';
import { openPluginDatastore, toCniError } from './plugin-datastore.js';

export interface PluginIO {
  stdin: string;
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * Entry point of both CNI executables (the only code that reads the environment): `brindle-ipam`
 * when invoked under that name, otherwise the `brindle` network plugin. Reads the command from
 * CNI_COMMAND and the configuration from stdin, prints the result (ADD, VERSION) or the spec's
 * error JSON on stdout, and returns the exit code (0 or 1).
 */
export async function pluginMain(argv0: string, env: Readonly<Record<string, string | undefined>>, io: PluginIO): Promise<number> {
  const role = basename(argv0).startsWith('brindle-ipam') ? 'ipam' : 'network';
  const trace = env['BRINDLE_CNI_TRACE'] ? (what: string) => { const u = process.cpuUsage(); io.stderr(`brindle: ${performance.now().toFixed(1)} ms (cpu ${((u.user + u.system) / 1000).toFixed(1)}) ${what}\n`); } : undefined;
  trace?.('main');
  let version = '1.0.0';
  try {
    const req = parseCniEnv(env);
    if (req.command === 'VERSION') {
      const asked = safeVersion(io.stdin);
      io.stdout(versionJson(asked && isSupportedVersion(asked) ? asked : '1.1.0') + '\n');
      return 0;
    }
    const conf = parseNetConf(io.stdin);
    version = conf.cniVersion;
    if ((req.command === 'GC' || req.command === 'STATUS') && compareVersions(conf.cniVersion, '1.1.0') < 0) {
      throw new CniError(CniCode.IncompatibleVersion, `${req.command} is a CNI 1.1.0 command; the configuration says cniVersion ${conf.cniVersion}`);
    }
    const deps = {
      exec: new ProcessExec(),
      openDatastore: openPluginDatastore,
      hostname: () => hostname().toLowerCase(),
      now: () => new Date(),
      checkpoint: hangAfter(env['BRINDLE_CNI_TEST_HANG_AFTER'], io, trace),
    };
    const plugin = role === 'ipam' ? new IpamPlugin(deps) : new NetworkPlugin(deps);
    switch (req.command) {
      case 'ADD':
        io.stdout(JSON.stringify(renderResult(conf.cniVersion, await plugin.add(req, conf))) + '\n');
        break;
      case 'DEL':
        await plugin.del(req, conf);
        break;
      case 'CHECK':
        await plugin.check(req, conf);
        break;
      case 'GC':
        await plugin.gc(conf);
        break;
      case 'STATUS':
        await plugin.status(conf);
        break;
    }
    trace?.('done');
    return 0;
  } catch (err) {
    const e = toCniError(err);
    io.stdout(errorJson(version, e) + '\n');
    io.stderr(`brindle${role === 'ipam' ? '-ipam' : ''}: error ${e.code}: ${e.message}\n`);
    return 1;
  }
}

/**
 * Test hook: with BRINDLE_CNI_TEST_HANG_AFTER=<step> (ipam, veth, endpoint) the plugin announces
 * the step on stderr and waits there, so a test can kill it between two steps of an ADD.
 */
function hangAfter(step: string | undefined, io: PluginIO, trace?: (what: string) => void): ((s: string) => Promise<void>) | undefined {
  if (!step) return trace ? async (s) => trace(`after ${s}`) : undefined;
  return async (s) => {
    trace?.(`after ${s}`);
    if (s !== step) return;
    io.stderr(`brindle: hanging after ${s}\n`);
    await new Promise(() => setInterval(() => undefined, 60_000));
  };
}

function safeVersion(stdin: string): string | undefined {
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs the plugin as a process: stdin, env and argv from this process. Output goes straight to
 * file descriptors 1 and 2 (`process.stdout` would build a stream over them, ~3 ms of every
 * container start), and the process exits as soon as the command is done.
 */
export function runPluginProcess(): void {
  let stdin = '';
  try {
    stdin = readFileSync(0, 'utf8');
  } catch {
    // no stdin (VERSION may come without one)
  }
  pluginMain(process.argv[1] ?? 'brindle', process.env, {
    stdin,
    stdout: (t) => writeAll(1, t),
    stderr: (t) => writeAll(2, t),
  }).then(
    (code) => exitNow(code),
    (err) => {
      writeAll(1, errorJson('1.0.0', new CniError(CniCode.Internal, String((err as Error)?.message ?? err))) + '\n');
      exitNow(1);
    },
  );
}

/** Writes all of `text` to a file descriptor, waiting out a non-blocking one that is full (bounded). */
export function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text);
  for (let tries = 0; buf.length > 0 && tries < 10_000; tries++) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return; // the reader is gone: nothing to tell
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

/**
 * Ends the process once its answer is written. Everything the command did is already durable
 * (datastore writes are committed before the answer) and every child process has been waited
 * for, so nothing is lost by not unwinding the event loop and the SQLite connection (which would
 * only checkpoint its write-ahead log). 'exit' listeners still run (the code cache is written there).
 */
function exitNow(code: number): void {
  process.exit(code);
}
