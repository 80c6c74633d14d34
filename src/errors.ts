/**
 * Brindle's domain errors. Every failure a user can see is one of these, with a message that says
 * what failed and why. The CLI maps them to exit codes: validation and usage errors exit 2, every
 * other operational error exits 1.
 */

export type ErrorCode =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Compacted'
  | 'Unavailable'
  | 'Validation'
  | 'Usage'
  | 'Exec'
  | 'Exhausted'
  | 'Internal';

export class BrindleError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A key or resource that was expected to exist does not. */
export class NotFoundError extends BrindleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NotFound', message, options);
  }
}

/** A create found the key or resource already present. */
export class AlreadyExistsError extends BrindleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AlreadyExists', message, options);
  }
}

/** A compare-and-swap lost: the stored revision is not the one the writer expected. */
export class ConflictError extends BrindleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('Conflict', message, options);
  }
}

/** A watch asked for history the datastore no longer keeps; the caller must re-list. */
export class CompactedError extends BrindleError {
  readonly compactRevision: number;
  constructor(message: string, compactRevision: number, options?: { cause?: unknown }) {
    super('Compacted', message, options);
    this.compactRevision = compactRevision;
  }
}

/** The datastore (or another service) cannot be reached. The message names the endpoint. */
export class UnavailableError extends BrindleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('Unavailable', message, options);
  }
}

/** No free resource left (for example an IP pool with no free address). */
export class ExhaustedError extends BrindleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('Exhausted', message, options);
  }
}

/** One problem found while validating input, located by a field path such as `spec.ingress[0].action`. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** Input was refused. Carries every problem found, not just the first. */
export class ValidationError extends BrindleError {
  readonly issues: ValidationIssue[];
  /** What was being validated, e.g. `NetworkPolicy x/deny` or `file.yaml[2]`. */
  readonly subject: string;
  constructor(subject: string, issues: ValidationIssue[], options?: { cause?: unknown }) {
    super('Validation', formatIssues(subject, issues), options);
    this.subject = subject;
    this.issues = issues;
  }
}

/** The command line itself is wrong (unknown flag, missing argument, conflicting options). */
export class UsageError extends BrindleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('Usage', message, options);
  }
}

/** An external command failed. */
export class ExecError extends BrindleError {
  readonly exitCode: number | null;
  readonly stderr: string;
  /** What the command printed before failing (CNI plugins report errors as JSON on stdout). */
  stdout = '';
  constructor(message: string, exitCode: number | null, stderr: string, options?: { cause?: unknown }) {
    super('Exec', message, options);
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

function formatIssues(subject: string, issues: ValidationIssue[]): string {
  if (issues.length === 0) return `${subject}: invalid`;
  return issues.map((i) => (i.path ? `${subject}: ${i.path}: ${i.message}` : `${subject}: ${i.message}`)).join('\n');
}

/** CLI exit code for an error: 2 for bad input, 1 for everything else. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof BrindleError && (err.code === 'Validation' || err.code === 'Usage')) return 2;
  return 1;
}

export function isNotFound(err: unknown): err is NotFoundError {
  return err instanceof BrindleError && err.code === 'NotFound';
}
export function isAlreadyExists(err: unknown): err is AlreadyExistsError {
  return err instanceof BrindleError && err.code === 'AlreadyExists';
}
export function isConflict(err: unknown): err is ConflictError {
  return err instanceof BrindleError && err.code === 'Conflict';
}
export function isCompacted(err: unknown): err is CompactedError {
  return err instanceof BrindleError && err.code === 'Compacted';
}
