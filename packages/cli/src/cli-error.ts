import { ExitCode, type ExitCodeValue } from './exit-codes.js';

const BRAND = Symbol.for('@rbee/cli/error');

/** Options of {@link CliError}. */
export interface CliErrorOptions {
  /** What the user can do about it, printed under the message. */
  hint?: string;
  /** The process exit code to use. @default 1 */
  exitCode?: ExitCodeValue;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * An error raised by the CLI itself (as opposed to one of the libraries): bad file, missing
 * catalog, a non-static PKGBUILD without `--eval`, …
 *
 * Codes: `E_USAGE` (exit 2), `E_FILE_NOT_FOUND`, `E_FILE_UNREADABLE`, `E_NOT_STATIC`,
 * `E_PARSE_ERRORS`, `E_NO_CATALOG`, `E_CATALOG_NOT_FOUND`, `E_NOT_A_CATALOG`,
 * `E_WORKER_NOT_FOUND`.
 *
 * @example
 * throw new CliError('E_NOT_STATIC', 'PKGBUILD is not static', { hint: 'use --eval' });
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  /** Stable error code. */
  readonly code: string;
  /** What the user can do about it. */
  readonly hint: string | undefined;
  /** The exit code the CLI ends with. */
  readonly exitCode: ExitCodeValue;
  readonly [BRAND] = true;

  constructor(code: string, message: string, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.Failure;
  }

  /** True for a `CliError` from any copy of this package. */
  static isInstance(e: unknown): e is CliError {
    return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** What the CLI prints for any error: the fields a human or a `--json` consumer needs. */
export interface ErrorReport {
  /** Stable error code (`E_CHECKSUM_MISMATCH`, `ABORT_ERR`, …). */
  code: string;
  /** What failed. */
  message: string;
  /** What to do about it. */
  hint?: string;
  /** Path of the full build log, when a build failed. */
  logFile?: string;
  /** The last lines of the build log. */
  logTail?: string[];
}

function isAbort(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
}

/** True when `e` is a cancellation (`name === 'AbortError'`). */
export function isAbortError(e: unknown): boolean {
  return isAbort(e);
}

/**
 * Turns anything thrown by a library into an {@link ErrorReport}: the libraries' errors carry a
 * stable `code`, a message and sometimes `hint`, `logFile`, `logTail`; a raw error gets
 * `E_UNEXPECTED`.
 */
export function toErrorReport(e: unknown): ErrorReport {
  if (typeof e === 'object' && e !== null) {
    const o = e as Record<string, unknown>;
    const code = typeof o.code === 'string' && o.code ? o.code : isAbort(e) ? 'ABORT_ERR' : 'E_UNEXPECTED';
    const message = typeof o.message === 'string' && o.message ? o.message : String(e);
    const report: ErrorReport = { code, message };
    if (typeof o.hint === 'string' && o.hint) report.hint = o.hint;
    if (typeof o.logFile === 'string' && o.logFile) report.logFile = o.logFile;
    if (Array.isArray(o.logTail) && o.logTail.every((l) => typeof l === 'string')) report.logTail = o.logTail as string[];
    return report;
  }
  return { code: 'E_UNEXPECTED', message: String(e) };
}
