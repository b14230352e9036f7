/**
 * http/https downloads through undici: streamed to `<dest>.part`, hashed in the same pass,
 * resumed with Range/If-Range, retried with backoff, renamed into place only once verified.
 */
import { createRequire } from 'node:module';
import { mkdir, open, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { authHeaderFor, type AuthMap } from './auth.js';
import { algorithmsToCompute, compareChecksums, createHashSink, hashFile, hashFileInto, prewarmHasher, type Digests, type ExpectedChecksums, type HashSink } from './checksums.js';
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

/** The size of a regular file at `path`; `undefined` when there is none (missing, a directory, …). */
export async function fileSize(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/** What a {@link BodyReceiver} has done so far: bytes of the `.part` written and hashed. */
interface BodyProgress {
  written: number;
}

/** Bytes held in memory while the `.part` is being prepared (or every slot is busy). */
const MAX_PENDING = 4 * 1024 * 1024;

/** How a {@link BodyReceiver} steers the response it reads (undici's dispatch controller). */
interface BodyFlow {
  pause(): void;
  resume(): void;
  abort(reason: Error): void;
}

/**
 * Takes a response body from its first byte on, straight from undici's parser (bytes that arrive
 * before a cut must not be lost while the `.part` is being prepared) and, once
 * {@link BodyReceiver.run} is called, copies it as it arrives into the hash sink's slots: one copy
 * per byte, each full slot written to the `.part` at its offset while other threads hash the same
 * memory. No stream and no await per chunk; the parser is paused only while every slot is busy.
 * Every byte received before an error is written and hashed before the error is rethrown, so a
 * retry resumes right after it.
 */
class BodyReceiver {
  private slot: Buffer | undefined;
  private fill = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private paused = false;
  private writes = new Set<Promise<void>>();
  private lastWrite: Promise<unknown> = Promise.resolve();
  private writeError: unknown;
  private ended = false;
  private failed = false;
  private error: unknown;
  private wake: (() => void) | undefined;
  private sink: HashSink | undefined;
  private fh: FileHandle | undefined;
  private progress: BodyProgress = { written: 0 };
  private meter: ProgressMeter | undefined;
  /** Bytes to skip instead of keep (a redirect's or an error's body), or -1. */
  private draining = -1;
  constructor(private readonly flow: BodyFlow) {}
  /** A body chunk from the parser. */
  onData(chunk: Buffer): void {
    if (this.draining >= 0) {
      this.draining += chunk.length;
      // Not worth reading a large error body just to keep the connection: close it instead.
      if (this.draining > 256 * 1024) this.flow.abort(new Error('discarded'));
      return;
    }
    let rest = chunk;
    if (this.pending.length === 0 && this.sink) {
      const off = this.take(chunk);
      (this.meter as ProgressMeter).update(this.progress.written + this.fill);
      if (off === chunk.length) return;
      rest = chunk.subarray(off);
    }
    // Not running yet, or every slot is busy (disk or hashers behind): hold on to the rest.
    this.pending.push(rest);
    this.pendingBytes += rest.length;
    if ((this.sink || this.pendingBytes > MAX_PENDING) && !this.paused) {
      this.paused = true;
      this.flow.pause();
    }
    this.wakeUp();
  }
  /** The body is complete. */
  onEnd(): void {
    this.ended = true;
    this.wakeUp();
  }
  /** The body failed (cut, timeout, abort). */
  onError(e: unknown): void {
    if (!this.failed) this.error = e;
    this.failed = true;
    this.wakeUp();
  }
  private wakeUp(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
  /** Writes the filled part of the current slot at its offset and hands it to the hashers. */
  private flush(): void {
    const slot = this.slot;
    const n = this.fill;
    if (n === 0 || !slot) return;
    const at = this.progress.written;
    const fh = this.fh as FileHandle;
    // One write at a time, in order: concurrent writes to one file only contend for its inode lock.
    const p: Promise<void> = this.lastWrite.then(() => fh.write(slot, 0, n, at)).then(
      ({ bytesWritten }) => {
        if (bytesWritten !== n) this.writeError ??= new Error(`short write: ${bytesWritten} of ${n} bytes at offset ${at}`);
        this.writes.delete(p);
      },
      (e: unknown) => {
        this.writeError ??= e;
        this.writes.delete(p);
      },
    );
    this.writes.add(p);
    this.lastWrite = p;
    (this.sink as HashSink).commit(n, p);
    this.progress.written += n;
    this.slot = undefined;
    this.fill = 0;
  }
  /** Copies as much of `chunk` as the free slots take; returns the bytes taken. */
  private take(chunk: Buffer): number {
    let off = 0;
    while (off < chunk.length) {
      let slot = this.slot;
      if (!slot) {
        slot = this.slot = (this.sink as HashSink).trySlot();
        if (!slot) break;
      }
      const n = Math.min(chunk.length - off, slot.byteLength - this.fill);
      // fill(): a native memcpy (set() into shared memory is a slower relaxed-atomic copy).
      slot.fill(n === chunk.length ? chunk : chunk.subarray(off, off + n), this.fill, this.fill + n);
      this.fill += n;
      off += n;
      if (this.fill === slot.byteLength) this.flush();
    }
    return off;
  }
  /**
   * Receives the rest of the body into `fh` from `progress.written` on, hashing into `sink`.
   * `progress.written` is kept current, also when this rejects.
   */
  async run(sink: HashSink, fh: FileHandle, progress: BodyProgress, meter: ProgressMeter): Promise<void> {
    this.sink = sink;
    this.fh = fh;
    this.progress = progress;
    this.meter = meter;
    try {
      for (;;) {
        if (this.pending.length > 0) {
          await sink.ready();
          while (this.pending.length > 0) {
            const c = this.pending[0] as Buffer;
            const off = this.take(c);
            this.pendingBytes -= off;
            if (off < c.length) {
              this.pending[0] = c.subarray(off);
              break;
            }
            this.pending.shift();
          }
          meter.update(progress.written + this.fill);
          if (this.pending.length === 0 && this.paused && !this.ended && !this.failed) {
            this.paused = false;
            this.flow.resume();
          }
          continue;
        }
        if (this.ended || this.failed) break;
        await new Promise<void>((r) => {
          this.wake = r;
        });
      }
    } finally {
      // Whatever happened, what was received goes to the .part (and the hash state) first.
      this.flush();
      while (this.writes.size > 0) await Promise.all(this.writes);
    }
    if (this.writeError !== undefined) {
      const e = this.writeError;
      throw new FetchError('E_IO', `Writing the .part file failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    if (this.failed) throw this.error;
  }
  /** Reads the rest of the body into nothing (a redirect's or an error's), keeping the connection. */
  async drain(): Promise<void> {
    this.draining = this.pendingBytes;
    this.pending = [];
    if (this.paused) {
      this.paused = false;
      this.flow.resume();
    }
    while (!this.ended && !this.failed) {
      await new Promise<void>((r) => {
        this.wake = r;
      });
    }
  }
  /** Stops reading (on an early exit). */
  discard(): void {
    this.pending = [];
    if (!this.ended && !this.failed) {
      this.failed = true;
      this.flow.abort(new Error('response discarded'));
    }
  }
}

/** The head of a response; its body flows into `body`. */
interface ResponseHead {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: BodyReceiver;
}

/**
 * One GET through undici's dispatcher API: body chunks go from the parser straight into a
 * {@link BodyReceiver}, with no Readable stream in between (less work per chunk, and no window
 * in which a cut could drop bytes already received). Resolves at the response head.
 */
function send(url: URL, headers: Record<string, string>, dispatcher: Dispatcher, signal?: AbortSignal): Promise<ResponseHead> {
  return new Promise<ResponseHead>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    let controller: Dispatcher.DispatchController | undefined;
    let receiver: BodyReceiver | undefined;
    let reason: Error | undefined;
    const onAbort = (): void => {
      reason = abortError(signal);
      controller?.abort(reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (): void => signal?.removeEventListener('abort', onAbort);
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (reason) c.abort(reason);
      },
      onResponseStart(c, statusCode, h) {
        if (statusCode < 200) return; // 1xx: the real head follows
        receiver = new BodyReceiver({ pause: () => c.pause(), resume: () => c.resume(), abort: (e) => c.abort(e) });
        resolve({ statusCode, headers: h as Record<string, string | string[] | undefined>, body: receiver });
      },
      onResponseData(_c, chunk) {
        receiver?.onData(chunk);
      },
      onResponseEnd() {
        done();
        receiver?.onEnd();
      },
      onResponseError(_c, err) {
        done();
        const e = reason ?? err;
        if (receiver) receiver.onError(e);
        else reject(e);
      },
    };
    try {
      dispatcher.dispatch({ origin: url.origin, path: `${url.pathname}${url.search}`, method: 'GET', headers }, handler);
    } catch (e) {
      done();
      reject(e);
    }
  });
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
          const all = algs.length > 0 ? await hashFile(dest, algs, signal) : {};
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
      let pump: BodyReceiver | undefined;
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
        let res: ResponseHead | undefined;
        for (let hop = 0; ; hop++) {
          const headers: Record<string, string> = { 'user-agent': options.userAgent ?? USER_AGENT, accept: '*/*', 'accept-encoding': 'identity' };
          const a = authHeaderFor(url, options.auth, options.env);
          if (a) headers[a.name] = a.value;
          if (offset > 0 && validator) {
            headers.range = `bytes=${offset}-`;
            headers['if-range'] = validator;
          }
          // a large body is hashed on a pooled thread: have one booting while the headers come
          if (algs.length > 0 && options.hashWorker !== false && !sink) prewarmHasher();
          const r = await send(url, headers, dispatcher, signal);
          if (r.statusCode >= 300 && r.statusCode < 400 && r.statusCode !== 304 && r.headers.location) {
            await r.body.drain();
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
          await res.body.drain();
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
          await res.body.drain();
          const retriable = status >= 500 || status === 429;
          throw new AttemptFailure('status', `HTTP ${status}`, retriable, status, parseRetryAfter(res.headers['retry-after']));
        }
        // Its receiver has been taking the body since the head: nothing received is lost while we prepare.
        pump = res.body;
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
        const progress: BodyProgress = { written: start };
        try {
          await pump.run(sink as HashSink, fh, progress, meter);
        } finally {
          hashed = progress.written;
        }
        const written = progress.written;
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
        if (FetchError.isInstance(e)) {
          // A failed write may have left a hole: such a .part must not be resumed.
          if (e.code === 'E_IO') {
            await rm(part, { force: true });
            await rm(metaPath, { force: true });
          }
          throw e;
        }
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
