/**
 * Errors thrown by `@rbee/pkgbuild-parser` (only the `*OrThrow` and reader entry points throw;
 * `parsePkgbuild` never does).
 */
import type { Range } from './model.js';

const BRAND = Symbol.for('@rbee/pkgbuild-parser/error');

/** Base class of every error this package throws; `code` is stable (e.g. `E_SYNTAX`). */
export class PkgbuildError extends Error {
  /** Stable machine-readable code. */
  readonly code: string;
  /** Where in the input the problem is, when known. */
  readonly range: Range | undefined;

  constructor(code: string, message: string, options?: { cause?: unknown; range?: Range }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PkgbuildError';
    this.code = code;
    this.range = options?.range;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True for any error thrown by this package (works across bundled copies). */
  static isInstance(e: unknown): e is PkgbuildError {
    return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** `parsePkgbuildOrThrow`: the first syntax error of a PKGBUILD (code `E_SYNTAX`, `E_CRLF`, …). */
export class PkgbuildParseError extends PkgbuildError {
  /** 1-based line of the error. */
  readonly line: number;
  /** 1-based column of the error. */
  readonly column: number;

  constructor(code: string, message: string, range: Range, options?: { cause?: unknown }) {
    super(code, message, { ...options, range });
    this.name = 'PkgbuildParseError';
    this.line = range.start.line;
    this.column = range.start.column;
  }
}
