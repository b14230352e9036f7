/**
 * The one error class of `@rbee/source-fetcher` and its stable codes.
 */

const BRAND = Symbol.for('@rbee/source-fetcher/error');

/**
 * Every stable error code the fetcher throws. Callers switch on `error.code`; the message is for
 * humans and may change.
 *
 * - `E_HTTP_STATUS`: the server answered with a non-success status (4xx at once, 5xx/429 after the retries).
 * - `E_DOWNLOAD_INCOMPLETE`: the body ended short of `Content-Length` (or the connection was cut) more often than the retries allow.
 * - `E_TIMEOUT`: connect, headers or body-idle timeout, after the retries.
 * - `E_NETWORK`: another network failure (refused connection, DNS, TLS) after the retries.
 * - `E_TOO_MANY_REDIRECTS`: the redirect chain is longer than `maxRedirects`.
 * - `E_CHECKSUM_MISMATCH`: a computed digest differs from the PKGBUILD's (`expected`, `actual`, `algorithm`).
 * - `E_CHECKSUM_COUNT`: a checksum array's length differs from its source array, or a source array has no checksums.
 * - `E_CHECKSUM_ALGORITHM`: an algorithm name makepkg does not know.
 * - `E_SOURCE_NOT_FOUND`: a local source is neither in `startdir` nor in `srcdest`.
 * - `E_INVALID_SOURCE`: an entry that cannot be fetched safely (empty filename, `..`, option-like URL, bad fragment).
 * - `E_UNSUPPORTED_PROTOCOL`: a protocol the fetcher does not handle, or whose tool is not installed.
 * - `E_GIT_FAILED`, `E_HG_FAILED`, `E_SVN_FAILED`: the VCS tool failed (`stderr` holds its tail).
 * - `E_GIT_REF_NOT_FOUND`: the fragment's branch/tag/commit does not exist.
 * - `E_GIT_NOT_A_CLONE`: the mirror in `srcdest` was cloned from another URL.
 * - `E_GIT_TAG_FORGED`: the tag object's name differs from the ref (makepkg's forged-tag check).
 * - `E_SIGNATURE_UNVERIFIABLE`: `?signed` but `gpg` is not installed.
 * - `E_SIGNATURE_INVALID`: `?signed` and git could not verify the signature.
 * - `E_UNSAFE_ARCHIVE_ENTRY`: an archive member would be written outside `srcdir` (`entry` names it).
 * - `E_ARCHIVE_TOO_LARGE`: an archive expands beyond `maxBytes` or `maxRatio`.
 * - `E_EXTRACT_FAILED`: the archive is corrupt or truncated, or the extractor failed.
 * - `E_LOCKED`: another process held the download lock for longer than `lockTimeout`.
 * - `E_IO`: a filesystem operation failed.
 */
export type FetchErrorCode =
  | 'E_HTTP_STATUS'
  | 'E_DOWNLOAD_INCOMPLETE'
  | 'E_TIMEOUT'
  | 'E_NETWORK'
  | 'E_TOO_MANY_REDIRECTS'
  | 'E_CHECKSUM_MISMATCH'
  | 'E_CHECKSUM_COUNT'
  | 'E_CHECKSUM_ALGORITHM'
  | 'E_SOURCE_NOT_FOUND'
  | 'E_INVALID_SOURCE'
  | 'E_UNSUPPORTED_PROTOCOL'
  | 'E_GIT_FAILED'
  | 'E_GIT_REF_NOT_FOUND'
  | 'E_GIT_NOT_A_CLONE'
  | 'E_GIT_TAG_FORGED'
  | 'E_HG_FAILED'
  | 'E_SVN_FAILED'
  | 'E_SIGNATURE_UNVERIFIABLE'
  | 'E_SIGNATURE_INVALID'
  | 'E_UNSAFE_ARCHIVE_ENTRY'
  | 'E_ARCHIVE_TOO_LARGE'
  | 'E_EXTRACT_FAILED'
  | 'E_LOCKED'
  | 'E_IO';

/** Fields a caller may need to act on a {@link FetchError}; every one is optional. */
export interface FetchErrorDetails {
  /** The underlying error (undici, fs, a child process…). */
  cause?: unknown;
  /** The URL being fetched (credentials never included). */
  url?: string;
  /** The source entry as written in the PKGBUILD. */
  source?: string;
  /** A file path involved (download target, archive, mirror…). */
  path?: string;
  /** HTTP status for `E_HTTP_STATUS`. */
  status?: number;
  /** Checksum algorithm for `E_CHECKSUM_*`. */
  algorithm?: string;
  /** Expected digest (`E_CHECKSUM_MISMATCH`) or expected count (`E_CHECKSUM_COUNT`). */
  expected?: string | number;
  /** Actual digest (`E_CHECKSUM_MISMATCH`) or actual count (`E_CHECKSUM_COUNT`). */
  actual?: string | number;
  /** The archive member refused (`E_UNSAFE_ARCHIVE_ENTRY`). */
  entry?: string;
  /** The tail of a child process's stderr. */
  stderr?: string;
  /** Number of attempts made before giving up. */
  attempts?: number;
}

/**
 * The error every function of this package throws (except cancellation, which rejects with an
 * `AbortError`). Use {@link FetchError.isInstance} rather than `instanceof` across package copies.
 *
 * @example
 * ```ts
 * try { await fetchSources(opts) } catch (e) {
 *   if (FetchError.isInstance(e) && e.code === 'E_CHECKSUM_MISMATCH') console.error(e.expected, e.actual)
 * }
 * ```
 */
export class FetchError extends Error implements FetchErrorDetails {
  /** Stable code; see {@link FetchErrorCode}. */
  readonly code: FetchErrorCode;
  readonly url?: string;
  readonly source?: string;
  readonly path?: string;
  readonly status?: number;
  readonly algorithm?: string;
  readonly expected?: string | number;
  readonly actual?: string | number;
  readonly entry?: string;
  readonly stderr?: string;
  readonly attempts?: number;
  /** @internal brand used by {@link FetchError.isInstance}. */
  readonly [BRAND] = true;

  constructor(code: FetchErrorCode, message: string, details: FetchErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'FetchError';
    this.code = code;
    const { cause: _cause, ...rest } = details;
    Object.assign(this, rest);
  }

  /** True for a `FetchError` from any copy of this package. */
  static isInstance(e: unknown): e is FetchError {
    return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** The rejection used for cancellation: an `Error` whose `name` is `'AbortError'`. */
export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const err = new Error('The operation was aborted', reason === undefined ? undefined : { cause: reason });
  err.name = 'AbortError';
  return err;
}

/** Throws an AbortError when `signal` is aborted. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}

/** True when `e` is a cancellation. */
export function isAbortError(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError';
}
