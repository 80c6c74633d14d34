/**
 * Structured logs: one JSON object per line on stderr (`{"ts","level","msg",…fields}`), filtered
 * by level.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export class Logger {
  constructor(private readonly level: LogLevel, private readonly out: NodeJS.WritableStream, private readonly base: Record<string, unknown> = {}) {}

  child(fields: Record<string, unknown>): Logger {
    return new Logger(this.level, this.out, { ...this.base, ...fields });
  }

  private write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (ORDER[level] < ORDER[this.level]) return;
    this.out.write(JSON.stringify({ ts: new Date().toISOString(), level, msg, ...this.base, ...fields }) + '\n');
  }

  debug(msg: string, fields?: Record<string, unknown>): void { this.write('debug', msg, fields); }
  info(msg: string, fields?: Record<string, unknown>): void { this.write('info', msg, fields); }
  warn(msg: string, fields?: Record<string, unknown>): void { this.write('warn', msg, fields); }
  error(msg: string, fields?: Record<string, unknown>): void { this.write('error', msg, fields); }
}

export function isLogLevel(s: string): s is LogLevel {
  return s in ORDER;
}
