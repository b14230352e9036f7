/**
 * http/https downloads through undici: streamed to `<dest>.part`, hashed in the same pass,
 * resumed with Range/If-Range, retried with backoff, renamed into place only once verified.
 */
import { createRequire } from 'node:module';
import { mkdir, open, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Agent, request, type Dispatcher } from 'undici';
import { authHeaderFor, type AuthMap } from './auth.js';
import { algorithmsToCompute, compareChecksums, createHashSink, hashFileInto, type Digests, type ExpectedChecksums, type HashSink } from './checksums.js';
import { FetchError, abortError, isAbortError, throwIfAborted } from './errors.js';
import { acquireLock } from './file-lock.js';
import { ProgressMeter, type ProgressEvent } from './progress.js';
import type { HashAlgorithm } from './source-list.js';
import { sleep } from './sleep.js';

function readVersion(): string {
  try {
    return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
const pkgVersion = readVersion();

/** The `User-Agent` sent with every request. */
export const USER_AGENT = `rbee-source-fetcher/${pkgVersion}`;

/** Retry policy for network errors, 5xx and 429. */
export interface RetryOptions {
  /** Retries after the first attempt. @default 3 */
  retries?: number;
  /** First backoff delay in ms, doubled each retry, with ±50 % jitter. @default 500 */
  minDelay?: number;
  /** Upper bound for one delay, including a server's `Retry-After`. @default 30000 */
  maxDelay?: number;
}

/** Network knobs shared by {@link downloadFile} and `fetchSources`. */
export interface HttpOptions {
  /** Per-host credentials; see {@link AuthMap}. The environment is consulted too (`RBEE_SOURCE_AUTH…`). */
  auth?: AuthMap;
  /** Retry policy. */
  retry?: RetryOptions;
  /** TCP/TLS connect timeout in ms. @default 30000 */
  connectTimeout?: number;
  /** Longest wait for response headers or between two body chunks, in ms. @default 60000 */
  idleTimeout?: number;
  /** Redirects followed before `E_TOO_MANY_REDIRECTS`. @default 10 */
  maxRedirects?: number;
  /** `User-Agent` header. @default `rbee-source-fetcher/<version>` */
  userAgent?: string;
  /** Resume an existing `.part` with `Range` + `If-Range`. @default true */
  resume?: boolean;
  /** Hash on a worker thread (`undefined`: for bodies ≥ 8 MiB or of unknown size). */
  hashWorker?: boolean;
  /** An undici dispatcher to use instead of a private `Agent`. */
  dispatcher?: Dispatcher;
  /** Environment used for `RBEE_SOURCE_AUTH…` lookups. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** Options of {@link downloadFile}. */
export interface DownloadOptions extends HttpOptions {
  /** http or https URL. */
  url: string;
  /** Final path of the file; the download goes to `<dest>.part` first. */
  dest: string;
  /** Expected digests; a mismatch removes the `.part` and throws `E_CHECKSUM_MISMATCH`. */
  checksums?: ExpectedChecksums;
  /** Extra algorithms to compute (reported in the result) besides those in `checksums`. */
  algorithms?: HashAlgorithm[];
  /**
   * Use an existing `dest` when it verifies (no request at all); a failing one is moved to
   * `<dest>.invalid` and downloaded again once. @default true
   */
  useCache?: boolean;
  /** Cancels the download; the `.part` is kept for a later resume. */
  signal?: AbortSignal;
  /** Progress, throttled to about 10 per second plus a final event. */
  onProgress?: (p: ProgressEvent) => void;
  /** Label for progress events and errors (e.g. the PKGBUILD entry). @default the file name */
  label?: string;
  /** How long to wait for another process's lock on `dest`, in ms. @default 1800000 */
  lockTimeout?: number;
}

/** What {@link downloadFile} produced. */
export interface DownloadResult {
  /** The verified file (`dest`). */
  path: string;
  /** Its size. */
  bytes: number;
  /** True when `dest` was already present and verified: no request was made. */
  fromCache: boolean;
  /** Digests computed (every algorithm in `checksums` that is not `SKIP`, plus `algorithms`). */
  checksums: Digests;
  /** The URL finally served (after redirects); absent when from cache. */
  finalUrl?: string;
  /** True when part of the body came from an earlier `.part`. */
  resumed: boolean;
  /** HTTP attempts made (0 when from cache). */
  attempts: number;
}

interface PartMeta {
  url: string;
  etag?: string;
  lastModified?: string;
  total?: number;
}

type FailureKind = 'status' | 'timeout' | 'incomplete' | 'network';

class AttemptFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly retriable: boolean,
    readonly status?: number,
    readonly retryAfter?: number,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

function errCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur && typeof cur === 'object'; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string') return c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function classifyNetwork(e: unknown, inBody: boolean): AttemptFailure {
  const code = errCode(e);
  const msg = e instanceof Error ? e.message : String(e);
  if (code && TIMEOUT_CODES.has(code)) return new AttemptFailure('timeout', `timed out (${code}): ${msg}`, true, undefined, undefined, e);
  if (inBody || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return new AttemptFailure('incomplete', `connection ended mid-body (${code ?? 'error'}): ${msg}`, true, undefined, undefined, e);
  return new AttemptFailure('network', `${code ?? 'network error'}: ${msg}`, true, undefined, undefined, e);
}

function parseRetryAfter(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  if (/^\d+$/.test(s.trim())) return Number(s.trim()) * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function redact(u: URL): string {
  if (!u.username && !u.password) return u.href;
  const c = new URL(u.href);
  c.username = '';
  c.password = '';
  return c.href;
}

async function readMeta(path: string): Promise<PartMeta | undefined> {
  try {
    const m = JSON.parse(await readFile(path, 'utf8')) as PartMeta;
    return typeof m.url === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

const BATCH = 1024 * 1024;
/** Batch writes in flight at once. */
const WRITE_DEPTH = 4;

/**
 * Reads a response body in flowing mode into a bounded queue. Unlike for-await, chunks that
 * arrived before an error are still handed out (a destroyed stream drops its buffer), so every
 * byte received before a cut reaches the .part for the resume.
 */
class BodyPump {
  private chunks: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private error: unknown;
  private failed = false;
  private waiter: (() => void) | undefined;
  private paused = false;
  constructor(
    private readonly body: Dispatcher.ResponseData['body'],
    signal?: AbortSignal,
  ) {
    const onAbort = (): void => {
      this.error = abortError(signal);
      this.failed = true;
      this.wake();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    body.on('close', () => {
      signal?.removeEventListener('abort', onAbort);
      if (!this.ended && !this.failed) {
        this.error = new Error('response body closed before its end');
        this.failed = true;
      }
      this.wake();
    });
    body.on('data', (c: Buffer) => {
      this.chunks.push(c);
      this.queued += c.length;
      if (this.queued > 4 * BATCH && !this.paused) {
        this.paused = true;
        body.pause();
      }
      this.wake();
    });
    body.on('end', () => {
      this.ended = true;
      this.wake();
    });
    body.on('error', (e) => {
      this.error = e;
      this.failed = true;
      this.wake();
    });
  }
  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
  /** The next chunk, `null` at the end; throws the body's error once the queue is drained. */
  async next(): Promise<Buffer | null> {
    for (;;) {
      const c = this.chunks.shift();
      if (c) {
        this.queued -= c.length;
        if (this.paused && this.queued < BATCH) {
          this.paused = false;
          this.body.resume();
        }
        return c;
      }
      if (this.failed) throw this.error;
      if (this.ended) return null;
      await new Promise<void>((r) => {
        this.waiter = r;
      });
    }
  }
  /** Stops reading (on an early exit). */
  discard(): void {
    this.chunks = [];
    this.body.destroy();
  }
}

/**
 * Downloads one http/https URL to `dest`, verifying it while it streams.
 *
 * - An existing `dest` that verifies is used as it is (`fromCache`, zero requests).
 * - The body goes to `<dest>.part` (validators in `<dest>.part.json`), hashed in the same pass
 *   with every algorithm needed, and is renamed to `dest` only when complete and verified.
 * - A `.part` left by an earlier run is resumed with `Range` + `If-Range` when the server allows
 *   it; a `200` reply restarts from zero, a `416` discards the `.part`.
 * - Network errors, 5xx and 429 are retried with exponential backoff and jitter (honouring
 *   `Retry-After`); other statuses fail at once with `E_HTTP_STATUS`.
 * - Credentials from `auth` go only to their host and are dropped on a redirect elsewhere.
 *
 * @example
 * ```ts
 * const r = await downloadFile({ url: 'https://example.org/foo-1.0.tar.gz', dest: '/var/cache/src/foo-1.0.tar.gz', checksums: { sha256: 'ab12…' } })
 * ```
 */
export async function downloadFile(options: DownloadOptions): Promise<DownloadResult> {
  const { dest, signal } = options;
  const label = options.label ?? dest.slice(dest.lastIndexOf('/') + 1);
  let startUrl: URL;
  try {
    startUrl = new URL(options.url);
  } catch (e) {
    throw new FetchError('E_INVALID_SOURCE', `Invalid URL "${options.url}" for ${label}`, { cause: e, url: options.url });
  }
  if (startUrl.protocol !== 'http:' && startUrl.protocol !== 'https:') {
    throw new FetchError('E_UNSUPPORTED_PROTOCOL', `downloadFile handles http and https only, not ${startUrl.protocol} (${label})`, { url: redact(startUrl) });
  }
  throwIfAborted(signal);
  await mkdir(dirname(dest), { recursive: true });
  const release = await acquireLock(dest, { signal, timeout: options.lockTimeout });
  try {
    const expected = options.checksums ?? {};
    const algs = [...new Set([...algorithmsToCompute(expected), ...(options.algorithms ?? [])])] as HashAlgorithm[];
    if (options.useCache !== false) {
      const size = await fileSize(dest);
      if (size !== undefined) {
        try {
          const all = algs.length > 0 ? await hashFileDigests(dest, algs, signal) : {};
          compareChecksums(label, expected, all, { path: dest });
          options.onProgress?.({ label, done: size, total: size, rate: 0, phase: 'cached' });
          return { path: dest, bytes: size, fromCache: true, checksums: all, resumed: false, attempts: 0 };
        } catch (e) {
          if (!(FetchError.isInstance(e) && e.code === 'E_CHECKSUM_MISMATCH')) throw e;
          // A cached file that no longer verifies: keep it aside for inspection, fetch again once.
          await rename(dest, `${dest}.invalid`);
        }
      }
    }
    return await downloadLocked(options, startUrl, algs, expected, label);
  } finally {
    await release();
  }
}

async function hashFileDigests(path: string, algs: HashAlgorithm[], signal?: AbortSignal): Promise<Digests> {
  const size = await fileSize(path);
  const sink = createHashSink(algs, size);
  try {
    await hashFileInto(path, sink, signal);
    throwIfAborted(signal);
    return await sink.digest();
  } finally {
    sink.close();
  }
}

async function downloadLocked(options: DownloadOptions, startUrl: URL, algs: HashAlgorithm[], expected: ExpectedChecksums, label: string): Promise<DownloadResult> {
  const { dest, signal } = options;
  const part = `${dest}.part`;
  const metaPath = `${dest}.part.json`;
  const retries = options.retry?.retries ?? 3;
  const minDelay = options.retry?.minDelay ?? 500;
  const maxDelay = options.retry?.maxDelay ?? 30_000;
  const maxRedirects = options.maxRedirects ?? 10;
  const ownAgent = options.dispatcher ? undefined : createAgent(options);
  const dispatcher = options.dispatcher ?? (ownAgent as Agent);
  const meter = new ProgressMeter(label, options.onProgress);

  let sink: HashSink | undefined;
  let hashed = 0; // bytes of .part already fed to `sink`
  let resumed = false;
  let attempts = 0;
  let lastFailure: AttemptFailure | undefined;
  let finalUrl = startUrl;

  try {
    for (let attempt = 0; attempt <= retries; attempt++) {
      throwIfAborted(signal);
      if (attempt > 0 && lastFailure) {
        const backoff = Math.min(maxDelay, minDelay * 2 ** (attempt - 1));
        const jittered = backoff * (0.5 + Math.random() * 0.5);
        const delay = lastFailure.retryAfter !== undefined ? Math.min(maxDelay, lastFailure.retryAfter) : jittered;
        await sleep(delay, signal);
      }
      attempts++;
      let fh: FileHandle | undefined;
      let inBody = false;
      let pump: BodyPump | undefined;
      try {
        // Decide where to start from.
        let offset = 0;
        let validator: string | undefined;
        const partSize = await fileSize(part);
        const meta = partSize ? await readMeta(metaPath) : undefined;
        if (options.resume !== false && partSize && meta && meta.url === startUrl.href && (meta.etag || meta.lastModified)) {
          offset = partSize;
          validator = meta.etag ?? meta.lastModified;
        }
        // Follow redirects by hand, so credentials can be scoped to their host.
        let url = startUrl;
        let res: Dispatcher.ResponseData | undefined;
        for (let hop = 0; ; hop++) {
          const headers: Record<string, string> = { 'user-agent': options.userAgent ?? USER_AGENT, accept: '*/*', 'accept-encoding': 'identity' };
          const a = authHeaderFor(url, options.auth, options.env);
          if (a) headers[a.name] = a.value;
          if (offset > 0 && validator) {
            headers.range = `bytes=${offset}-`;
            headers['if-range'] = validator;
          }
          const r = await request(url, { method: 'GET', headers, dispatcher, signal });
          if (r.statusCode >= 300 && r.statusCode < 400 && r.statusCode !== 304 && r.headers.location) {
            await r.body.dump().catch(() => undefined);
            if (hop >= maxRedirects) throw new FetchError('E_TOO_MANY_REDIRECTS', `More than ${maxRedirects} redirects fetching ${label} from ${redact(startUrl)}`, { url: redact(startUrl) });
            const next = new URL(header(r.headers, 'location') as string, url);
            if (next.protocol !== 'http:' && next.protocol !== 'https:') {
              throw new FetchError('E_UNSUPPORTED_PROTOCOL', `Redirect to unsupported protocol ${next.protocol} fetching ${label}`, { url: redact(next) });
            }
            url = next;
            continue;
          }
          res = r;
          break;
        }
        finalUrl = url;
        const status = res.statusCode;
        if (status === 416 && offset > 0) {
          await res.body.dump().catch(() => undefined);
          await rm(part, { force: true });
          await rm(metaPath, { force: true });
          sink?.close();
          sink = undefined;
          hashed = 0;
          attempt--; // not a failure of the server: start again from zero
          attempts--;
          continue;
        }
        if (status !== 200 && status !== 206) {
          await res.body.dump().catch(() => undefined);
          const retriable = status >= 500 || status === 429;
          throw new AttemptFailure('status', `HTTP ${status}`, retriable, status, parseRetryAfter(res.headers['retry-after']));
        }
        // Start reading at once: bytes that arrive before a cut must not be lost while we prepare.
        pump = new BodyPump(res.body, signal);
        let start = 0;
        let total: number | undefined;
        const cl = header(res.headers, 'content-length');
        if (status === 206) {
          const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(res.headers, 'content-range') ?? '');
          if (!m || Number(m[1]) !== offset) {
            // A range we did not ask for: drop the .part and start over.
            pump.discard();
            await rm(part, { force: true });
            await rm(metaPath, { force: true });
            sink?.close();
            sink = undefined;
            hashed = 0;
            throw new AttemptFailure('incomplete', 'server answered with an unexpected range', true);
          }
          start = offset;
          total = m[3] === '*' ? undefined : Number(m[3]);
          resumed = true;
        } else if (cl !== undefined && /^\d+$/.test(cl)) {
          total = Number(cl);
        }
        // Hash state must cover exactly [0, start).
        if (start === 0 || hashed !== start) {
          sink?.close();
          sink = createHashSink(algs, total, options.hashWorker);
          hashed = 0;
          if (start > 0) {
            hashed = await hashFileInto(part, sink, signal, start);
            if (hashed !== start) throw new AttemptFailure('incomplete', '.part shorter than expected', true);
          }
        }
        const etag = header(res.headers, 'etag');
        const lastModified = header(res.headers, 'last-modified');
        if (start === 0) {
          if (etag || lastModified) {
            const m: PartMeta = { url: startUrl.href, total };
            if (etag) m.etag = etag;
            if (lastModified) m.lastModified = lastModified;
            await writeFile(metaPath, JSON.stringify(m));
          } else {
            await rm(metaPath, { force: true });
          }
        }
        // Positional writes (not O_APPEND), so several can be in flight in order-independent slots.
        fh = await open(part, start === 0 ? 'w' : 'r+');
        meter.start(start, total);
        inBody = true;
        let written = start;
        // A few batch buffers rotate so the next batch fills while earlier ones are being written.
        const pool = Array.from({ length: WRITE_DEPTH }, () => Buffer.allocUnsafe(BATCH));
        const writes: Promise<unknown>[] = [];
        let slot = 0;
        let batch = pool[0] as Buffer;
        let fill = 0;
        const activeSink = sink as HashSink;
        const flush = async (): Promise<void> => {
          if (fill === 0) return;
          const view = batch.subarray(0, fill);
          activeSink.update(view);
          const w = (fh as FileHandle).write(view, 0, fill, written);
          w.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
          writes.push(w);
          written += fill;
          hashed += fill;
          fill = 0;
          meter.update(written);
          slot = (slot + 1) % WRITE_DEPTH;
          batch = pool[slot] as Buffer;
          // The buffer about to be reused must have been written out.
          if (writes.length >= WRITE_DEPTH) await writes.shift();
          await activeSink.ready();
        };
        const drainWrites = async (): Promise<void> => {
          while (writes.length > 0) await writes.shift();
        };
        const addChunk = async (chunk: Buffer): Promise<void> => {
          let off = 0;
          while (off < chunk.length) {
            const n = Math.min(chunk.length - off, BATCH - fill);
            chunk.copy(batch, fill, off, off + n);
            fill += n;
            off += n;
            // The sink copied (worker) or consumed (inline) the batch, so it can be reused.
            if (fill === BATCH) await flush();
          }
          meter.update(written + fill);
        };
        try {
          for (;;) {
            const chunk = await (pump as BodyPump).next();
            if (chunk === null) break;
            if (fill + chunk.length < BATCH) {
              chunk.copy(batch, fill);
              fill += chunk.length;
              meter.update(written + fill);
            } else {
              await addChunk(chunk);
            }
          }
        } catch (e) {
          // Keep every byte received so far in the .part (and in the hash state) for a resume.
          await flush().catch(() => undefined);
          await drainWrites().catch(() => undefined);
          throw e;
        }
        await flush();
        await drainWrites();
        await fh.close();
        fh = undefined;
        inBody = false;
        if (total !== undefined && written !== total) {
          throw new AttemptFailure('incomplete', `body ended after ${written} of ${total} bytes`, true);
        }
        // Complete: digest, verify, publish.
        const digests = await (sink as HashSink).digest();
        sink = undefined;
        meter.finish(written);
        try {
          compareChecksums(label, expected, digests, { url: redact(startUrl), path: dest });
        } catch (e) {
          await rm(part, { force: true });
          await rm(metaPath, { force: true });
          throw e;
        }
        await rename(part, dest);
        await rm(metaPath, { force: true });
        return { path: dest, bytes: written, fromCache: false, checksums: digests, finalUrl: redact(finalUrl), resumed, attempts };
      } catch (e) {
        pump?.discard();
        if (fh) await fh.close().catch(() => undefined);
        if (signal?.aborted || isAbortError(e)) throw abortError(signal);
        if (FetchError.isInstance(e)) throw e;
        const failure = e instanceof AttemptFailure ? e : classifyNetwork(e, inBody);
        // A freshly started part with nothing in it is not worth keeping (makepkg does the same).
        if ((await fileSize(part)) === 0) await rm(part, { force: true });
        lastFailure = failure;
        if (!failure.retriable) break;
      }
    }
    const f = lastFailure as AttemptFailure;
    const where = `${label} from ${redact(finalUrl)}`;
    const base = { url: redact(startUrl), path: dest, attempts, cause: f.cause ?? f };
    if (f.kind === 'status') {
      const hint = f.status === 404 ? 'the URL is wrong or the file was removed upstream' : f.status === 401 || f.status === 403 ? 'credentials are missing or wrong (see RBEE_SOURCE_AUTH)' : 'the server failed; try again later';
      throw new FetchError('E_HTTP_STATUS', `HTTP ${f.status} downloading ${where} after ${attempts} attempt(s): ${hint}`, { ...base, status: f.status });
    }
    if (f.kind === 'timeout') throw new FetchError('E_TIMEOUT', `Timed out downloading ${where} after ${attempts} attempt(s) (${f.message}); the .part is kept for a resume`, base);
    if (f.kind === 'incomplete') throw new FetchError('E_DOWNLOAD_INCOMPLETE', `Download of ${where} stayed incomplete after ${attempts} attempt(s) (${f.message}); the .part is kept for a resume`, base);
    throw new FetchError('E_NETWORK', `Network error downloading ${where} after ${attempts} attempt(s): ${f.message}`, base);
  } finally {
    sink?.close();
    meter.stop();
    if (ownAgent) await ownAgent.close().catch(() => undefined);
  }
}

/** An undici `Agent` with the connect and idle timeouts of `options`. */
export function createAgent(options: Pick<HttpOptions, 'connectTimeout' | 'idleTimeout'> = {}): Agent {
  const idle = options.idleTimeout ?? 60_000;
  return new Agent({ connect: { timeout: options.connectTimeout ?? 30_000 }, headersTimeout: idle, bodyTimeout: idle });
}

/** Deletes a leftover `.part` and its validators (e.g. after changing a URL). */
export async function discardPart(dest: string): Promise<void> {
  await unlink(`${dest}.part`).catch(() => undefined);
  await unlink(`${dest}.part.json`).catch(() => undefined);
}
