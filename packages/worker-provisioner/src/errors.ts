const BRAND = Symbol.for('@rbee/worker-provisioner/error');

/**
 * Stable error codes raised by the provisioner itself. Errors that come from the composed
 * packages (catalog client, source fetcher, executor, parser) keep their own code
 * (`E_WORKER_NOT_FOUND`, `E_CHECKSUM_MISMATCH`, `E_FUNCTION_FAILED`, …): the provisioner wraps
 * them in a {@link ProvisionError} carrying the same `code` and the original error as `cause`.
 */
export type ProvisionErrorCode =
  | 'E_PLATFORM_INCOMPATIBLE'
  | 'E_PKGBUILD_INVALID'
  | 'E_NO_PKGBUILD'
  | 'E_NO_EXECUTABLE'
  | 'E_NOT_INSTALLED'
  | 'E_NO_CATALOG'
  | 'E_LOCKED'
  | 'E_INVALID_OPTIONS'
  | 'E_INSTALL_FAILED'
  | 'E_INTERNAL'
  | (string & {});

/** Options of {@link ProvisionError}. */
export interface ProvisionErrorOptions {
  /** The error that caused this one (for wrapped errors of the composed packages). */
  cause?: unknown;
  /** What the caller can do about it. */
  hint?: string;
  /** The phase that failed. */
  phase?: string;
  /** The job that failed. */
  jobId?: string;
  /** The worker (package name or catalog id) concerned. */
  workerId?: string;
  /** Path of the kept build log, when a build ran. */
  logFile?: string;
  /** The last lines of the build log. */
  logTail?: string[];
  /** The kept build directory, for inspection. */
  buildDir?: string;
  /** Extra, code-specific data (diagnostics, supported platforms, …), JSON-safe. */
  details?: Record<string, unknown>;
}

/**
 * The one error class of `@rbee/worker-provisioner`. Every failure of `provision()` rejects
 * with a `ProvisionError` (or with an `AbortError` on cancellation).
 *
 * @example
 * ```ts
 * try { await provisioner.provision('demo-worker-rbee') }
 * catch (e) { if (ProvisionError.isInstance(e) && e.code === 'E_FUNCTION_FAILED') console.error(e.logFile) }
 * ```
 */
export class ProvisionError extends Error {
  override readonly name = 'ProvisionError';
  /** Stable, documented code. */
  readonly code: ProvisionErrorCode;
  /** What to do about it. */
  readonly hint: string | undefined;
  /** The phase that failed, when known. */
  readonly phase: string | undefined;
  /** The job id, when the error came from a job. */
  readonly jobId: string | undefined;
  /** The worker concerned. */
  readonly workerId: string | undefined;
  /** Path of the build log kept for inspection. */
  readonly logFile: string | undefined;
  /** The last lines of the build log. */
  readonly logTail: string[] | undefined;
  /** The build directory kept for inspection. */
  readonly buildDir: string | undefined;
  /** Code-specific, JSON-safe details (e.g. `diagnostics` for `E_PKGBUILD_INVALID`). */
  readonly details: Record<string, unknown> | undefined;
  readonly [BRAND] = true;

  constructor(code: ProvisionErrorCode, message: string, options: ProvisionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.phase = options.phase;
    this.jobId = options.jobId;
    this.workerId = options.workerId;
    this.logFile = options.logFile;
    this.logTail = options.logTail;
    this.buildDir = options.buildDir;
    this.details = options.details;
  }

  /** True for a `ProvisionError` from any copy of this package (brand check, not `instanceof`). */
  static isInstance(e: unknown): e is ProvisionError {
    return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** Build the `AbortError` the provisioner rejects with on cancellation. */
export function abortError(signal: AbortSignal | undefined, message = 'The worker install was cancelled'): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const err = new Error(message, reason === undefined ? undefined : { cause: reason });
  err.name = 'AbortError';
  (err as Error & { code: string }).code = 'ABORT_ERR';
  return err;
}

/** True when `e` is a cancellation (`name === 'AbortError'`). */
export function isAbortError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
}

/** Throw an AbortError when `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/** The `code` of any error-like value (`E_INTERNAL` when it has none). */
export function codeOf(e: unknown): string {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.length > 0 ? code : 'E_INTERNAL';
}

/** The message of any error-like value. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') {
    return (e as { message: string }).message;
  }
  return String(e);
}
