/**
 * The one error class of `@rbee/catalog-client` and its stable codes.
 */

const BRAND = Symbol.for('@rbee/catalog-client/error');

/**
 * Every stable error code of the catalog client and its reference server. Callers switch on
 * `error.code`; the message is for humans and may change.
 *
 * - `E_INVALID_OPTIONS`: a `CatalogClient` option is unusable (bad `url` scheme, negative timeout…).
 * - `E_INVALID_WORKER_ID`: a worker id or spec does not match `^[a-z0-9][a-z0-9._+-]*$` (checked before any URL or path is built).
 * - `E_INVALID_FILE_NAME`: a local-source name for `getFile` is not a plain file name (`/`, `..`, leading `-`, NUL).
 * - `E_WORKER_NOT_FOUND`: the catalog has no worker with that id (nor `<id>` minus a backend suffix).
 * - `E_VERSION_NOT_FOUND`: the worker exists but not at the requested `@version`.
 * - `E_NO_COMPATIBLE_VARIANT`: no variant matches platform/arch/backend/flavor; `available` lists what exists.
 * - `E_FILE_NOT_FOUND`: a PKGBUILD or local source named by the catalog does not exist.
 * - `E_CATALOG_RESPONSE`: the catalog answered something that is not what the API promises (bad JSON, missing/wrong field: `issues` names the paths), or an unexpected HTTP status.
 * - `E_RESPONSE_TOO_LARGE`: a response exceeded its size limit (`limit`); the transfer was aborted.
 * - `E_TIMEOUT`: connecting or the whole request took longer than `timeoutMs` (after the retries) and no cached copy exists.
 * - `E_CATALOG_UNREACHABLE`: network failure or 5xx after the retries (or `offline`), and no cached copy exists.
 * - `E_UNAUTHORIZED`: the catalog answered 401/403: the token is missing, wrong or lacks access.
 * - `E_TOO_MANY_REDIRECTS`: more than `maxRedirects` redirects, or a redirect to a non-http(s) URL.
 * - `E_SERVER`: the reference server could not start or read its directory.
 */
export type CatalogErrorCode =
  | 'E_INVALID_OPTIONS'
  | 'E_INVALID_WORKER_ID'
  | 'E_INVALID_FILE_NAME'
  | 'E_WORKER_NOT_FOUND'
  | 'E_VERSION_NOT_FOUND'
  | 'E_NO_COMPATIBLE_VARIANT'
  | 'E_FILE_NOT_FOUND'
  | 'E_CATALOG_RESPONSE'
  | 'E_RESPONSE_TOO_LARGE'
  | 'E_TIMEOUT'
  | 'E_CATALOG_UNREACHABLE'
  | 'E_UNAUTHORIZED'
  | 'E_TOO_MANY_REDIRECTS'
  | 'E_SERVER';

/** One schema problem of an `E_CATALOG_RESPONSE`: where (`path`, e.g. `workers[0].variants[1].backend`) and what. */
export interface CatalogResponseIssue {
  /** Dotted/bracketed path of the offending field; `''` for the document itself. */
  path: string;
  /** What was expected and what was found. */
  message: string;
}

/** What a variant offers, as listed by `E_NO_COMPATIBLE_VARIANT`. */
export interface AvailableVariant {
  /** The variant's backend. */
  backend: string;
  /** Platforms it runs on. */
  platforms: readonly string[];
  /** CPU architectures it runs on. */
  architectures: readonly string[];
  /** PKGBUILD flavors it offers: `bin` (the `pkgbuildUrl`) and/or `git` (`pkgbuildUrlGit`). */
  flavors: readonly string[];
}

/** Fields a caller may need to act on a {@link CatalogError}; all optional. */
export interface CatalogErrorDetails {
  /** The underlying error (undici, fs, valibot…). */
  cause?: unknown;
  /** The URL or file path involved (credentials are never included). */
  url?: string;
  /** HTTP status, when one was received. */
  status?: number;
  /** The worker id or spec involved. */
  workerId?: string;
  /** Schema issues of an `E_CATALOG_RESPONSE`. */
  issues?: readonly CatalogResponseIssue[];
  /** Size limit in bytes of an `E_RESPONSE_TOO_LARGE`. */
  limit?: number;
  /** What was asked, for `E_NO_COMPATIBLE_VARIANT` / `E_VERSION_NOT_FOUND`. */
  requested?: Readonly<Record<string, string | undefined>>;
  /** What exists, for `E_NO_COMPATIBLE_VARIANT`. */
  available?: readonly AvailableVariant[];
  /** Versions the catalog has, for `E_VERSION_NOT_FOUND`. */
  availableVersions?: readonly string[];
  /** Worker ids the catalog has, for `E_WORKER_NOT_FOUND` (when the listing could be read). */
  availableIds?: readonly string[];
}

/**
 * The error thrown by every `@rbee/catalog-client` operation (except cancellation, which
 * rejects with an `AbortError`).
 *
 * @example
 * ```ts
 * try { await client.resolve('demo-worker-rbee') }
 * catch (e) { if (CatalogError.isInstance(e) && e.code === 'E_WORKER_NOT_FOUND') … }
 * ```
 */
export class CatalogError extends Error {
  /** Always `'CatalogError'`. */
  override readonly name = 'CatalogError';
  /** Stable code, see {@link CatalogErrorCode}. */
  readonly code: CatalogErrorCode;
  /** The URL or file path involved (never with credentials). */
  readonly url: string | undefined;
  /** HTTP status, when one was received. */
  readonly status: number | undefined;
  /** The worker id or spec involved. */
  readonly workerId: string | undefined;
  /** Schema issues of an `E_CATALOG_RESPONSE`. */
  readonly issues: readonly CatalogResponseIssue[] | undefined;
  /** Size limit of an `E_RESPONSE_TOO_LARGE`. */
  readonly limit: number | undefined;
  /** What was asked (`E_NO_COMPATIBLE_VARIANT`, `E_VERSION_NOT_FOUND`). */
  readonly requested: Readonly<Record<string, string | undefined>> | undefined;
  /** What exists (`E_NO_COMPATIBLE_VARIANT`). */
  readonly available: readonly AvailableVariant[] | undefined;
  /** Versions the catalog has (`E_VERSION_NOT_FOUND`). */
  readonly availableVersions: readonly string[] | undefined;
  /** Worker ids the catalog has (`E_WORKER_NOT_FOUND`). */
  readonly availableIds: readonly string[] | undefined;

  /**
   * @param code - stable error code
   * @param message - what failed, where, and what to do
   * @param details - fields for callers and the `cause`
   */
  constructor(code: CatalogErrorCode, message: string, details: CatalogErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.url = details.url;
    this.status = details.status;
    this.workerId = details.workerId;
    this.issues = details.issues;
    this.limit = details.limit;
    this.requested = details.requested;
    this.available = details.available;
    this.availableVersions = details.availableVersions;
    this.availableIds = details.availableIds;
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
  }

  /** True for a `CatalogError` from any copy or version of this package (where `instanceof` may fail). */
  static isInstance(error: unknown): error is CatalogError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** An `AbortError` for a cancelled operation: `name === 'AbortError'`, `code === 'ABORT_ERR'`, `cause` = the signal's reason. */
export function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const err = new Error('The operation was aborted', { cause: reason });
  err.name = 'AbortError';
  (err as Error & { code: string }).code = 'ABORT_ERR';
  return err;
}

/** Throws an {@link abortError} if `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/** A URL for messages: credentials and the query string's secrets stripped. */
export function redactUrl(url: string | URL): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return String(url);
  }
}
