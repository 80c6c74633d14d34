/**
 * Classifies the errors the etcd3 client (gRPC) raises, so the etcd backend can decide whether to
 * retry and can say in a few words what went wrong. gRPC errors carry little structure, so this
 * reads their status code and message; it does not retry or map to domain errors itself.
 */

/** Errors that say nothing about the data: a member is down, busy, or between leaders. */
const TRANSIENT = [
  /\bUNAVAILABLE\b/, /\bDEADLINE_EXCEEDED\b/, /\bCANCELLED\b/, /No connection established/i, /ECONNREFUSED/, /ECONNRESET/,
  /EPIPE/, /ETIMEDOUT/, /Connection dropped/i, /Breaker is open/i, /circuit/i, /etcdserver: request timed out/,
  /etcdserver: no leader/, /etcdserver: leader changed/, /etcdserver: too many requests/, /etcdserver: not capable/,
  /etcdserver: server stopped/, /etcdserver: request cancelled/, /Deadline exceeded/i, /stream (ended|removed)/i,
  /RST_STREAM/, /GOAWAY/i,
];

/** Transient errors where the request certainly never reached a working leader (safe to resend a write). */
const NOT_APPLIED = [
  /No connection established/i, /ECONNREFUSED/, /Breaker is open/i, /etcdserver: no leader/,
  /etcdserver: too many requests/, /etcdserver: not capable/, /etcdserver: server stopped/,
];

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name} ${err.message} ${(err as { code?: unknown }).code ?? ''}`;
  return String(err);
}

/** True when retrying (against the same or another member) may succeed. */
export function isTransientEtcdError(err: unknown): boolean {
  const text = describe(err);
  return err instanceof Error && (err.name === 'BrokenCircuitError' || err.name === 'TaskCancelledError' || TRANSIENT.some((re) => re.test(text)));
}

/** True when a failed write certainly did not happen, so sending it again cannot apply it twice. */
export function isUnappliedEtcdError(err: unknown): boolean {
  const text = describe(err);
  return err instanceof Error && (err.name === 'BrokenCircuitError' || NOT_APPLIED.some((re) => re.test(text)));
}

/** True when the client refused to send because every member failed recently (no new information). */
export function isBrokenCircuit(err: unknown): boolean {
  return err instanceof Error && (err.name === 'BrokenCircuitError' || /Breaker is open/i.test(err.message));
}

/** True for etcd's "required revision has been compacted". */
export function isCompactedEtcdError(err: unknown): boolean {
  return /required revision has been compacted/.test(describe(err));
}

/** A short reason for messages: `connection refused`, `request timed out`, `no leader`, or the gRPC text. */
export function etcdFailureReason(err: unknown): string {
  const text = describe(err);
  if (/ECONNREFUSED/.test(text)) return 'connection refused';
  const tls = /(alert [a-z ]+|certificate verify failed|self[- ]signed certificate[^:]*|unable to (?:get|verify)[^:]*|wrong version number|Hostname\/IP does not match[^:]*)/i.exec(text);
  if (tls) return `TLS handshake failed: ${tls[1]!.trim()}`;
  if (/DEADLINE_EXCEEDED|Deadline exceeded|request timed out/i.test(text)) return 'request timed out';
  if (/no leader/.test(text)) return 'the cluster has no leader';
  if (/leader changed/.test(text)) return 'the leader changed';
  if (/Breaker is open|circuit/i.test(text)) return 'every member failed recently';
  if (/ECONNRESET|Connection dropped|RST_STREAM|GOAWAY/i.test(text)) return 'connection lost';
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/^\d+ [A-Z_]+: /, '').split('\n')[0]!.slice(0, 200);
}
