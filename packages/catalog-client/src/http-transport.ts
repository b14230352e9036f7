/**
 * The HTTP side of the client: undici requests with connect/overall timeouts, retries with
 * backoff on network errors and 5xx, redirects followed by hand (so the token never leaves the
 * catalog's origin), and size limits enforced while the body streams in.
 */
import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { abortError, CatalogError, redactUrl, throwIfAborted } from './errors.js';

/** Settings shared by every request of one client. */
export interface TransportSettings {
  dispatcher: Dispatcher;
  /** Origin (`https://host:port`) that may receive the token. */
  catalogOrigin: string;
  token: string | undefined;
  timeoutMs: number;
  connectTimeoutMs: number;
  retries: number;
  retryDelayMs: number;
  maxRedirects: number;
  userAgent: string;
}

/** A complete response read into memory. */
export interface HttpTextResponse {
  status: number;
  /** Final URL after redirects. */
  url: string;
  body: Buffer;
  etag: string | undefined;
}

/** Per-request options. */
export interface HttpGetOptions {
  signal?: AbortSignal | undefined;
  /** Abort and throw `E_RESPONSE_TOO_LARGE` beyond this many bytes. */
  maxBytes: number;
  /** Sent as `If-None-Match`. */
  etag?: string | undefined;
  accept: string;
}

/** Creates the default undici dispatcher with the client's connect/idle timeouts. */
export function createDispatcher(timeoutMs: number, connectTimeoutMs: number): Agent {
  return new Agent({
    connect: { timeout: connectTimeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 4_000,
  });
}

const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && typeof cur === 'object' && cur !== null; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A failure that a retry may fix: a network error, a timeout, or a 5xx/429 answer. */
class TransientFailure extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'network' | 'status',
    readonly status: number | undefined,
    readonly retryAfterMs: number | undefined,
    cause?: unknown,
  ) {
    super(message, { cause });
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs) && secs >= 0) return Math.min(secs * 1000, 10_000);
  return undefined;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Drops a response body without reading it (undici reports the abort as an 'error' event). */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

interface OpenedResponse {
  status: number;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Readable & { dump?: (opts?: { limit: number }) => Promise<void> };
}

/**
 * One attempt: sends the request, follows redirects itself (dropping `Authorization` when the
 * origin changes), and returns the final response with its body unread.
 */
async function openOnce(
  settings: TransportSettings,
  url: URL,
  accept: string,
  etag: string | undefined,
  signal: AbortSignal,
): Promise<OpenedResponse> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { accept, 'user-agent': settings.userAgent };
    if (settings.token !== undefined && current.origin === settings.catalogOrigin) {
      headers.authorization = `Bearer ${settings.token}`;
    }
    if (etag !== undefined) headers['if-none-match'] = etag;
    const res = await request(current, { method: 'GET', headers, signal, dispatcher: settings.dispatcher });
    const status = res.statusCode;
    if (status >= 300 && status < 400 && status !== 304) {
      const location = header(res.headers, 'location');
      await res.body.dump().catch(() => undefined);
      if (location === undefined) {
        throw new CatalogError('E_CATALOG_RESPONSE', `${redactUrl(current)} answered ${status} without a Location header`, {
          url: redactUrl(current),
          status,
        });
      }
      let next: URL;
      try {
        next = new URL(location, current);
      } catch (cause) {
        throw new CatalogError('E_TOO_MANY_REDIRECTS', `${redactUrl(current)} redirected to an invalid URL`, { url: redactUrl(current), status, cause });
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new CatalogError('E_TOO_MANY_REDIRECTS', `${redactUrl(current)} redirected to a ${next.protocol} URL; only http(s) redirects are followed`, {
          url: redactUrl(current),
          status,
        });
      }
      if (hop + 1 > settings.maxRedirects) {
        throw new CatalogError(
          'E_TOO_MANY_REDIRECTS',
          `${redactUrl(url)} redirected more than ${settings.maxRedirects} times (last to ${redactUrl(next)}): fix the catalog URL or the server's redirects`,
          { url: redactUrl(url), status },
        );
      }
      current = next;
      continue;
    }
    return { status, url: current.href, headers: res.headers, body: res.body };
  }
}

/**
 * Runs `attempt` with the overall timeout, retrying transient failures with exponential backoff.
 * Maps the last failure to `E_TIMEOUT` / `E_CATALOG_UNREACHABLE`; cancellation to an `AbortError`.
 */
async function withRetries<T>(
  settings: TransportSettings,
  url: URL,
  signal: AbortSignal | undefined,
  overallTimeout: boolean,
  attempt: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  let last: TransientFailure | undefined;
  for (let i = 0; i <= settings.retries; i++) {
    throwIfAborted(signal);
    if (i > 0) {
      const backoff = settings.retryDelayMs * 2 ** (i - 1);
      const jitter = Math.random() * settings.retryDelayMs * 0.25;
      await sleep(Math.min(last?.retryAfterMs ?? backoff + jitter, 10_000), signal);
    }
    const timeout = overallTimeout ? AbortSignal.timeout(settings.timeoutMs) : undefined;
    const signals = [signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    const combined = signals.length === 0 ? new AbortController().signal : AbortSignal.any(signals);
    try {
      return await attempt(combined);
    } catch (e) {
      if (signal?.aborted) throw abortError(signal);
      if (CatalogError.isInstance(e)) throw e;
      if (e instanceof TransientFailure) {
        last = e;
        continue;
      }
      const code = errorCode(e);
      if (timeout?.aborted || (code !== undefined && TIMEOUT_CODES.has(code))) {
        last = new TransientFailure(`no answer within ${settings.timeoutMs} ms`, 'timeout', undefined, undefined, e);
        continue;
      }
      if (code !== undefined && RETRYABLE_CODES.has(code)) {
        last = new TransientFailure(`${code}: ${(e as Error).message}`, 'network', undefined, undefined, e);
        continue;
      }
      // Anything else (TLS failures, invalid responses…) is not worth retrying.
      throw new CatalogError(
        'E_CATALOG_UNREACHABLE',
        `cannot reach the catalog at ${redactUrl(url)} (${code ?? (e as Error).message}): check the URL and the network, or use --offline with a cached catalog`,
        { url: redactUrl(url), cause: e },
      );
    }
  }
  const tries = settings.retries + 1;
  if (last?.kind === 'timeout') {
    throw new CatalogError(
      'E_TIMEOUT',
      `${redactUrl(url)} did not answer within ${settings.timeoutMs} ms (${tries} attempt${tries > 1 ? 's' : ''}): the catalog is slow or unreachable; raise timeoutMs or try again later`,
      { url: redactUrl(url), cause: last.cause },
    );
  }
  throw new CatalogError(
    'E_CATALOG_UNREACHABLE',
    `cannot reach the catalog at ${redactUrl(url)} after ${tries} attempt${tries > 1 ? 's' : ''} (${last?.message ?? 'unknown error'}): check the URL and the network, or use offline mode with a cached catalog`,
    { url: redactUrl(url), status: last?.status, cause: last?.cause },
  );
}

function tooLarge(url: string, limit: number): CatalogError {
  return new CatalogError(
    'E_RESPONSE_TOO_LARGE',
    `${url} sent more than ${limit} bytes, the limit for this kind of response: the catalog is misconfigured or hostile (raise the limit only if you trust it)`,
    { url, limit },
  );
}

function classifyStatus(res: OpenedResponse): void {
  const { status } = res;
  if (status >= 500 || status === 429) {
    throw new TransientFailure(`HTTP ${status}`, 'status', status, parseRetryAfter(res.headers['retry-after']));
  }
  if (status === 401 || status === 403) {
    throw new CatalogError(
      'E_UNAUTHORIZED',
      `${redactUrl(res.url)} answered ${status}: set a catalog token (token option or RBEE_CATALOG_TOKEN) with access to this catalog`,
      { url: redactUrl(res.url), status },
    );
  }
}

/**
 * GETs `url` into memory. Returns 200 and 304 answers; 404 comes back with an empty body for the
 * caller to map; other 4xx throw. Retries network errors, timeouts and 5xx.
 */
export async function httpGetText(settings: TransportSettings, url: URL, opts: HttpGetOptions): Promise<HttpTextResponse> {
  return withRetries(settings, url, opts.signal, true, async (signal) => {
    const res = await openOnce(settings, url, opts.accept, opts.etag, signal);
    const shown = redactUrl(res.url);
    try {
      classifyStatus(res);
      if (res.status === 304 || res.status === 404 || res.status === 410) {
        await res.body.dump?.().catch(() => undefined);
        return { status: res.status === 410 ? 404 : res.status, url: res.url, body: Buffer.alloc(0), etag: header(res.headers, 'etag') };
      }
      if (res.status !== 200) {
        throw new CatalogError('E_CATALOG_RESPONSE', `${shown} answered HTTP ${res.status}, expected 200: check the catalog URL`, {
          url: shown,
          status: res.status,
        });
      }
      const declared = Number(header(res.headers, 'content-length'));
      if (Number.isFinite(declared) && declared > opts.maxBytes) throw tooLarge(shown, opts.maxBytes);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > opts.maxBytes) throw tooLarge(shown, opts.maxBytes);
        chunks.push(chunk);
      }
      return { status: 200, url: res.url, body: Buffer.concat(chunks, size), etag: header(res.headers, 'etag') };
    } finally {
      if (!res.body.destroyed && !res.body.readableEnded) discard(res.body);
    }
  });
}

/**
 * GETs `url` as a stream (for local sources, which may be large). Retries until the response
 * head arrives; the body is returned unread, with `maxBytes` enforced while it streams.
 */
export async function httpGetStream(
  settings: TransportSettings,
  url: URL,
  opts: { signal?: AbortSignal | undefined; maxBytes: number },
): Promise<{ url: string; body: Readable; size: number | undefined } | { notFound: true; url: string }> {
  return withRetries(settings, url, opts.signal, false, async (signal) => {
    const res = await openOnce(settings, url, 'application/octet-stream, */*', undefined, signal);
    const shown = redactUrl(res.url);
    try {
      classifyStatus(res);
    } catch (e) {
      discard(res.body);
      throw e;
    }
    if (res.status === 404 || res.status === 410) {
      discard(res.body);
      return { notFound: true as const, url: shown };
    }
    if (res.status !== 200) {
      discard(res.body);
      throw new CatalogError('E_CATALOG_RESPONSE', `${shown} answered HTTP ${res.status}, expected 200`, { url: shown, status: res.status });
    }
    const declared = Number(header(res.headers, 'content-length'));
    if (Number.isFinite(declared) && declared > opts.maxBytes) {
      discard(res.body);
      throw tooLarge(shown, opts.maxBytes);
    }
    let seen = 0;
    const body = res.body;
    body.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > opts.maxBytes) body.destroy(tooLarge(shown, opts.maxBytes));
    });
    body.pause();
    return { url: res.url, body, size: Number.isFinite(declared) ? declared : undefined };
  });
}
