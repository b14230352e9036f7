const BRAND = Symbol.for('@rbee/pkgbuild-executor/error');

/**
 * Stable error codes of `@rbee/pkgbuild-executor`.
 *
 * - `E_PKGBUILD_SOURCE`: bash could not source the PKGBUILD (syntax error, failing last
 *   top-level command, `exit` at top level, CRLF line endings, file missing).
 * - `E_NO_PACKAGE_FUNCTION`: a `package` step was asked for and the PKGBUILD has no `package()`
 *   (or, for a split package, no `package_<name>()` for some name).
 * - `E_FUNCTION_FAILED`: a PKGBUILD function failed (`function`, `exitCode`, `logTail`).
 * - `E_INVALID_PKGVER`: `pkgver()` printed something makepkg would reject (`pkgver`).
 * - `E_TIMEOUT`: the operation exceeded `timeoutMs`; the process tree was killed.
 * - `E_BASH_NOT_FOUND`: the bash binary (`bashPath`) does not exist or is not executable.
 * - `E_SANDBOX_UNAVAILABLE`: `sandbox: 'bwrap'` was asked for and bubblewrap does not work.
 * - `E_SPAWN`: another operating-system failure while starting or talking to bash.
 */
export type ExecutorErrorCode =
  | 'E_PKGBUILD_SOURCE'
  | 'E_NO_PACKAGE_FUNCTION'
  | 'E_FUNCTION_FAILED'
  | 'E_INVALID_PKGVER'
  | 'E_TIMEOUT'
  | 'E_BASH_NOT_FOUND'
  | 'E_SANDBOX_UNAVAILABLE'
  | 'E_SPAWN';

/** Fields an {@link ExecutorError} may carry besides its code and message. */
export interface ExecutorErrorFields {
  /** The underlying error, if any. */
  cause?: unknown;
  /** The PKGBUILD the error is about. */
  path?: string;
  /** 1-based line in the PKGBUILD bash reported (for `E_PKGBUILD_SOURCE`), when known. */
  line?: number;
  /** The PKGBUILD function that failed (`build`, `package_foo`, …). */
  function?: string;
  /** Exit status of the failing command (`E_FUNCTION_FAILED`) or of bash. */
  exitCode?: number;
  /** The last lines (at most 50) of the function's output, stdout and stderr merged. */
  logTail?: string[];
  /** The rejected version (`E_INVALID_PKGVER`). */
  pkgver?: string;
  /** Everything bash wrote on stderr while sourcing (`E_PKGBUILD_SOURCE`). */
  stderr?: string;
  /** The timeout that expired (`E_TIMEOUT`), in milliseconds. */
  timeoutMs?: number;
}

/**
 * The one error class of `@rbee/pkgbuild-executor`. Check `code` (stable) rather than the
 * message; use {@link ExecutorError.isInstance} rather than `instanceof` across package copies.
 *
 * @example
 * ```ts
 * try { await runPkgbuild(opts) } catch (e) {
 *   if (ExecutorError.isInstance(e) && e.code === 'E_FUNCTION_FAILED') console.log(e.logTail)
 * }
 * ```
 */
export class ExecutorError extends Error {
  override readonly name = 'ExecutorError';
  /** Stable machine-readable code. */
  readonly code: ExecutorErrorCode;
  /** See {@link ExecutorErrorFields.path}. */
  declare readonly path?: string;
  /** See {@link ExecutorErrorFields.line}. */
  declare readonly line?: number;
  /** See {@link ExecutorErrorFields.function}. */
  declare readonly function?: string;
  /** See {@link ExecutorErrorFields.exitCode}. */
  declare readonly exitCode?: number;
  /** See {@link ExecutorErrorFields.logTail}. */
  declare readonly logTail?: string[];
  /** See {@link ExecutorErrorFields.pkgver}. */
  declare readonly pkgver?: string;
  /** See {@link ExecutorErrorFields.stderr}. */
  declare readonly stderr?: string;
  /** See {@link ExecutorErrorFields.timeoutMs}. */
  declare readonly timeoutMs?: number;
  readonly [BRAND] = true;

  constructor(code: ExecutorErrorCode, message: string, fields: ExecutorErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.code = code;
    if (fields.path !== undefined) this.path = fields.path;
    if (fields.line !== undefined) this.line = fields.line;
    if (fields.function !== undefined) this.function = fields.function;
    if (fields.exitCode !== undefined) this.exitCode = fields.exitCode;
    if (fields.logTail !== undefined) this.logTail = fields.logTail;
    if (fields.pkgver !== undefined) this.pkgver = fields.pkgver;
    if (fields.stderr !== undefined) this.stderr = fields.stderr;
    if (fields.timeoutMs !== undefined) this.timeoutMs = fields.timeoutMs;
  }

  /** True for any `ExecutorError`, even one created by another copy of this package. */
  static isInstance(e: unknown): e is ExecutorError {
    return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** The error a cancelled operation rejects with: `name === 'AbortError'`, `cause` = the signal's reason. */
export function abortError(signal: AbortSignal | undefined, what: string): Error {
  const err = new Error(`${what} was aborted`, { cause: signal?.reason });
  err.name = 'AbortError';
  return err;
}
