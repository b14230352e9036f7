/**
 * `CatalogClient`: lists and resolves workers from an rbee worker catalog served over HTTP(S)
 * or read from a local directory with the same layout, and downloads PKGBUILDs and their local
 * sources.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join, resolve as resolvePath } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Dispatcher } from 'undici';
import {
  assertCatalogDir,
  catalogPath,
  isInside,
  listWorkerFiles,
  readCatalogFile,
  readIndexFile,
  readWorkerFile,
} from './directory-catalog.js';
import { CatalogError, redactUrl, throwIfAborted } from './errors.js';
import { createDispatcher, httpGetStream, httpGetText, type TransportSettings } from './http-transport.js';
import { defaultCacheDir, formatAge, ResponseCache, type CacheEntry } from './response-cache.js';
import { parseJsonBody, readWorker, readWorkerList, type Arch, type Backend, type Platform, type Worker, type WorkerVariant } from './schema.js';
import { selectVariant, type Flavor } from './variant-selection.js';
import { assertFileName, assertWorkerId, hostArch, hostPlatform, parseWorkerSpec, splitBackendSuffix } from './worker-spec.js';

/** A warning the client reports instead of printing (e.g. a stale cached answer was used). */
export interface CatalogWarning {
  /** `W_STALE_CACHE`: a cached answer was used because the client is offline or the catalog is unreachable. */
  code: 'W_STALE_CACHE';
  /** Human-readable, says how old the cached answer is. */
  message: string;
  /** The URL the answer is for (no credentials). */
  url: string;
  /** Milliseconds since the catalog last confirmed the cached answer. */
  ageMs: number;
  /** Why the cache was used. */
  reason: 'offline' | 'unreachable';
}

/** Options of {@link CatalogClient}. */
export interface CatalogClientOptions {
  /**
   * The catalog: an `http(s)://` URL of a server speaking the catalog API (a path prefix is
   * kept: `https://host/catalog/` → `https://host/catalog/workers`), or a local directory
   * (path or `file:` URL) with the documented layout, read directly from disk.
   * @example 'https://catalog.rbee.dev'
   * @example './examples/catalog'
   */
  url: string;
  /**
   * Bearer token for a private catalog, sent as `Authorization: Bearer …` only to the catalog's
   * origin (never to another host after a redirect, never in errors or warnings).
   * @default process.env.RBEE_CATALOG_TOKEN
   */
  token?: string | undefined;
  /**
   * Per-attempt limit in ms for a catalog request (connect + answer + body). Also the idle limit
   * while streaming a local source.
   * @default 15000
   */
  timeoutMs?: number | undefined;
  /** Connect timeout in ms. @default Math.min(timeoutMs, 10000) */
  connectTimeoutMs?: number | undefined;
  /** Retries after a network error, a timeout or a 5xx/429 answer. @default 2 */
  retries?: number | undefined;
  /** First backoff delay in ms (doubles per retry, plus jitter; `Retry-After` wins). @default 250 */
  retryDelayMs?: number | undefined;
  /** Redirects followed per request. @default 5 */
  maxRedirects?: number | undefined;
  /**
   * Where answers are cached for ETag revalidation and offline use; `false` disables the cache.
   * @default `$RBEE_HOME/catalog`, else `$XDG_CACHE_HOME/rbee/catalog`, else `~/.cache/rbee/catalog`
   */
  cacheDir?: string | false | undefined;
  /**
   * Never touch the network: answer from the cache (with a `W_STALE_CACHE` warning), or fail
   * with `E_CATALOG_UNREACHABLE` when nothing is cached.
   * @default false
   */
  offline?: boolean | undefined;
  /** Receives warnings (the library never prints). */
  onWarning?: ((warning: CatalogWarning) => void) | undefined;
  /** Size limit of a JSON answer in bytes. @default 1048576 (1 MiB) */
  maxJsonBytes?: number | undefined;
  /** Size limit of a PKGBUILD in bytes. @default 262144 (256 KiB) */
  maxPkgbuildBytes?: number | undefined;
  /** Size limit of one local source fetched with `getFile`, in bytes. @default 1073741824 (1 GiB) */
  maxFileBytes?: number | undefined;
  /** undici dispatcher to use instead of the client's own `Agent` (proxies, tests). */
  dispatcher?: Dispatcher | undefined;
  /** `User-Agent` header. @default '@rbee/catalog-client' */
  userAgent?: string | undefined;
}

/** Options every operation takes. */
export interface CallOptions {
  /** Cancels the operation; it then rejects with an `AbortError`. */
  signal?: AbortSignal | undefined;
}

/** What `resolve` matches a worker's variants against. Unset platform/arch default to this machine's. */
export interface ResolveOptions extends CallOptions {
  /** Platform to run on. @default this machine's (`linux`, `macos`, `windows`) */
  platform?: Platform | undefined;
  /** CPU architecture. @default this machine's (`x86_64`, `aarch64`) */
  arch?: Arch | undefined;
  /** Required backend; a spec like `llm-worker-rbee-cpu` sets it too. @default the first matching variant's */
  backend?: Backend | undefined;
  /** `bin` (the variant's `pkgbuildUrl`, prebuilt first) or `git` (`pkgbuildUrlGit`, build from source). @default 'bin' */
  flavor?: Flavor | undefined;
}

/** The result of `resolve`: a worker, the variant that fits, and the absolute URL of its PKGBUILD. */
export interface ResolvedWorker {
  /** The catalog entry. */
  worker: Worker;
  /** The chosen variant. */
  variant: WorkerVariant;
  /** Absolute URL of the PKGBUILD: `http(s)://…`, or `file://…` for a directory catalog. */
  pkgbuildUrl: string;
  /** Which PKGBUILD of the variant was chosen. */
  flavor: Flavor;
  /** The spec as given to `resolve`. */
  spec: string;
}

/** A downloaded PKGBUILD. */
export interface CatalogPkgbuild {
  /** The PKGBUILD text. */
  text: string;
  /** Where it was read from (after redirects). */
  url: string;
  /** The URL its local sources are relative to (its directory, ending in `/`); pass it to `getFile`. */
  baseUrl: string;
  /** For a directory catalog: the local directory holding the PKGBUILD and its local sources. */
  dir?: string | undefined;
  /** sha256 of the text (hex), for manifests. */
  sha256: string;
  /** True when it came from the cache because the catalog was unreachable or the client offline. */
  fromCache: boolean;
}

/** Options of `getFile`. */
export interface GetFileOptions extends CallOptions {
  /** Size limit in bytes; the stream errors with `E_RESPONSE_TOO_LARGE` beyond it. @default the client's `maxFileBytes` */
  maxBytes?: number | undefined;
}

type Fetched = { notFound: true; url: string } | { notFound: false; url: string; body: Buffer; fromCache: boolean };

function positiveInt(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < min || Math.floor(value) !== value) {
    throw new CatalogError('E_INVALID_OPTIONS', `${name} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

const PACKAGE_UA = '@rbee/catalog-client';

/**
 * Client of an rbee worker catalog (HTTP API or a local directory with the same layout).
 *
 * @example
 * ```ts
 * const catalog = new CatalogClient({ url: 'http://127.0.0.1:8787' });
 * const resolved = await catalog.resolve('demo-worker-rbee', { platform: 'linux', arch: 'x86_64' });
 * const { text, baseUrl } = await catalog.getPkgbuild(resolved);
 * const stream = await catalog.getFile(baseUrl, 'demo-worker.c');
 * ```
 */
export class CatalogClient {
  /** The catalog root: an http(s) URL ending in `/`, or a `file:` URL of the directory ending in `/`. */
  readonly url: string;
  /** True when the catalog is a local directory. */
  readonly isDirectory: boolean;
  readonly #dir: string | undefined;
  readonly #root: URL;
  readonly #settings: TransportSettings | undefined;
  readonly #ownDispatcher: Dispatcher | undefined;
  readonly #cache: ResponseCache | undefined;
  readonly #offline: boolean;
  readonly #onWarning: ((w: CatalogWarning) => void) | undefined;
  readonly #maxJson: number;
  readonly #maxPkgbuild: number;
  readonly #maxFile: number;

  /** @param options - see {@link CatalogClientOptions}; throws `E_INVALID_OPTIONS` on unusable ones */
  constructor(options: CatalogClientOptions) {
    if (typeof options?.url !== 'string' || options.url.trim() === '') {
      throw new CatalogError('E_INVALID_OPTIONS', 'CatalogClient needs a url: an http(s) catalog URL or a catalog directory');
    }
    const raw = options.url.trim();
    const timeoutMs = positiveInt('timeoutMs', options.timeoutMs, 15_000, 1);
    const connectTimeoutMs = positiveInt('connectTimeoutMs', options.connectTimeoutMs, Math.min(timeoutMs, 10_000), 1);
    const retries = positiveInt('retries', options.retries, 2);
    const retryDelayMs = positiveInt('retryDelayMs', options.retryDelayMs, 250);
    const maxRedirects = positiveInt('maxRedirects', options.maxRedirects, 5);
    this.#maxJson = positiveInt('maxJsonBytes', options.maxJsonBytes, 1024 * 1024, 1);
    this.#maxPkgbuild = positiveInt('maxPkgbuildBytes', options.maxPkgbuildBytes, 256 * 1024, 1);
    this.#maxFile = positiveInt('maxFileBytes', options.maxFileBytes, 1024 * 1024 * 1024, 1);
    this.#offline = options.offline === true;
    this.#onWarning = options.onWarning;

    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(raw)?.[1]?.toLowerCase();
    if (scheme === 'http' || scheme === 'https') {
      let root: URL;
      try {
        root = new URL(raw);
      } catch (cause) {
        throw new CatalogError('E_INVALID_OPTIONS', `invalid catalog URL ${redactUrl(raw)}`, { cause });
      }
      root.search = '';
      root.hash = '';
      if (!root.pathname.endsWith('/')) root.pathname += '/';
      this.#root = root;
      this.url = redactUrl(root);
      this.isDirectory = false;
      this.#dir = undefined;
      const token = options.token ?? process.env.RBEE_CATALOG_TOKEN;
      this.#ownDispatcher = options.dispatcher === undefined ? createDispatcher(timeoutMs, connectTimeoutMs) : undefined;
      this.#settings = {
        dispatcher: options.dispatcher ?? this.#ownDispatcher!,
        catalogOrigin: root.origin,
        token: token === undefined || token === '' ? undefined : token,
        timeoutMs,
        connectTimeoutMs,
        retries,
        retryDelayMs,
        maxRedirects,
        userAgent: options.userAgent ?? PACKAGE_UA,
      };
      const cacheDir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
      const scope = this.#settings.token === undefined ? 'anonymous' : createHash('sha256').update(this.#settings.token).digest('hex');
      this.#cache = cacheDir === false ? undefined : new ResponseCache(cacheDir, scope);
    } else if (scheme === undefined || scheme === 'file' || /^[a-zA-Z]:[\\/]/.test(raw)) {
      const dir = scheme === 'file' ? fileURLToPath(raw) : resolvePath(raw);
      this.#dir = dir;
      this.#root = pathToFileURL(dir.endsWith('/') ? dir : `${dir}/`);
      this.url = this.#root.href;
      this.isDirectory = true;
      this.#settings = undefined;
      this.#ownDispatcher = undefined;
      this.#cache = undefined;
    } else {
      throw new CatalogError('E_INVALID_OPTIONS', `unsupported catalog URL scheme "${scheme}:" — use http(s):// or a directory path`);
    }
  }

  /** Releases the client's connection pool (a no-op for directory catalogs and injected dispatchers). */
  async close(): Promise<void> {
    await this.#ownDispatcher?.close();
  }

  /**
   * All workers of the catalog (`GET /workers`), validated; older flat entries come back as
   * one-variant workers.
   */
  async listWorkers(options: CallOptions = {}): Promise<Worker[]> {
    const { signal } = options;
    throwIfAborted(signal);
    if (this.#dir !== undefined) return this.#listDirectory(this.#dir, signal);
    const url = new URL('workers', this.#root);
    const got = await this.#fetch(url, 'application/json', this.#maxJson, signal);
    if (got.notFound) {
      throw new CatalogError('E_CATALOG_RESPONSE', `${redactUrl(url)} answered 404: ${this.url} does not serve the rbee catalog API`, {
        url: redactUrl(url),
        status: 404,
      });
    }
    return readWorkerList(parseJsonBody(got.body.toString('utf8'), got.url), got.url);
  }

  /** One worker by exact id (`GET /workers/:id`). Throws `E_INVALID_WORKER_ID`, `E_WORKER_NOT_FOUND`. */
  async getWorker(id: string, options: CallOptions = {}): Promise<Worker> {
    assertWorkerId(id);
    const worker = await this.#findWorker(id, options.signal);
    if (worker === undefined) throw await this.#notFound(id, options.signal);
    return worker;
  }

  /**
   * Resolves a spec to a worker, the variant that fits the platform/arch/backend/flavor and the
   * absolute URL of its PKGBUILD. `spec` is an id (`llm-worker-rbee`), an id with a backend suffix
   * (`llm-worker-rbee-cpu`, tried when no worker has that exact id), either with `@version`.
   *
   * Throws `E_INVALID_WORKER_ID`, `E_WORKER_NOT_FOUND`, `E_VERSION_NOT_FOUND`, `E_NO_COMPATIBLE_VARIANT`.
   */
  async resolve(spec: string, options: ResolveOptions = {}): Promise<ResolvedWorker> {
    const { signal } = options;
    const parsed = parseWorkerSpec(spec);
    let backend = options.backend;
    let worker = await this.#findWorker(parsed.id, signal);
    if (worker === undefined) {
      const split = splitBackendSuffix(parsed.id);
      if (split !== undefined) {
        worker = await this.#findWorker(split.base, signal);
        if (worker !== undefined) {
          if (backend !== undefined && backend !== split.backend) {
            throw new CatalogError(
              'E_NO_COMPATIBLE_VARIANT',
              `${spec} names backend ${split.backend} but backend ${backend} was requested: drop one of them`,
              { workerId: spec, requested: { backend, spec } },
            );
          }
          backend = split.backend;
        }
      }
    }
    if (worker === undefined) throw await this.#notFound(parsed.id, signal);
    if (parsed.version !== undefined && parsed.version !== worker.version) {
      throw new CatalogError(
        'E_VERSION_NOT_FOUND',
        `${worker.id}@${parsed.version} is not in the catalog; it has ${worker.id}@${worker.version}. Ask for that version or drop the @version`,
        { workerId: spec, requested: { version: parsed.version }, availableVersions: [worker.version] },
      );
    }
    const choice = selectVariant(worker, {
      platform: options.platform ?? hostPlatform() ?? process.platform,
      arch: options.arch ?? hostArch() ?? process.arch,
      backend,
      flavor: options.flavor,
    });
    const pkgbuildUrl = this.#absoluteCatalogUrl(choice.pkgbuildUrl, worker, choice.flavor);
    return { worker, variant: choice.variant, pkgbuildUrl, flavor: choice.flavor, spec };
  }

  /** Downloads the resolved variant's PKGBUILD (≤ `maxPkgbuildBytes`). Throws `E_FILE_NOT_FOUND` when the catalog lacks it. */
  async getPkgbuild(resolved: Pick<ResolvedWorker, 'pkgbuildUrl'>, options: CallOptions = {}): Promise<CatalogPkgbuild> {
    const { signal } = options;
    throwIfAborted(signal);
    const url = this.#checkedUrl(resolved.pkgbuildUrl, 'pkgbuildUrl');
    let body: Buffer;
    let finalUrl: string;
    let fromCache = false;
    let dir: string | undefined;
    if (url.protocol === 'file:') {
      const path = fileURLToPath(url);
      const file = await readCatalogFile(this.#dir!, path, this.#maxPkgbuild);
      if (file === undefined) {
        throw new CatalogError('E_FILE_NOT_FOUND', `the catalog names a PKGBUILD at ${path} but there is no such file: the catalog directory is incomplete`, {
          url: path,
        });
      }
      body = file.body;
      finalUrl = url.href;
      dir = dirname(path);
    } else {
      const got = await this.#fetch(url, 'text/plain, */*', this.#maxPkgbuild, signal);
      if (got.notFound) {
        throw new CatalogError('E_FILE_NOT_FOUND', `${got.url} answered 404: the catalog names a PKGBUILD it does not serve`, { url: got.url, status: 404 });
      }
      body = got.body;
      finalUrl = got.url;
      fromCache = got.fromCache;
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch (cause) {
      throw new CatalogError('E_CATALOG_RESPONSE', `${redactUrl(finalUrl)} is not UTF-8 text, so it is not a PKGBUILD`, { url: redactUrl(finalUrl), cause });
    }
    if (text.includes('\0')) {
      throw new CatalogError('E_CATALOG_RESPONSE', `${redactUrl(finalUrl)} contains NUL bytes, so it is not a PKGBUILD`, { url: redactUrl(finalUrl) });
    }
    const baseUrl = new URL('.', finalUrl).href;
    return {
      text,
      url: redactUrl(finalUrl),
      baseUrl: redactUrl(baseUrl),
      dir,
      sha256: createHash('sha256').update(body).digest('hex'),
      fromCache,
    };
  }

  /**
   * Opens a PKGBUILD's local source `name` next to it (`baseUrl` from `getPkgbuild`) as a Node
   * stream. `name` must be a plain file name (`E_INVALID_FILE_NAME`); a missing file rejects with
   * `E_FILE_NOT_FOUND`. The token is sent only when `baseUrl` is on the catalog's origin.
   */
  async getFile(baseUrl: string, name: string, options: GetFileOptions = {}): Promise<Readable> {
    const { signal } = options;
    assertFileName(name);
    throwIfAborted(signal);
    const base = this.#checkedUrl(baseUrl, 'baseUrl');
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    const url = new URL(encodeURIComponent(name), base);
    const maxBytes = positiveInt('maxBytes', options.maxBytes, this.#maxFile, 1);
    if (url.protocol === 'file:') {
      const path = join(fileURLToPath(base), name);
      let size = -1;
      try {
        const st = await stat(path);
        if (st.isFile()) size = st.size;
      } catch {
        size = -1;
      }
      if (size < 0 || !(await isInside(this.#dir!, path))) {
        throw new CatalogError('E_FILE_NOT_FOUND', `local source ${name} is not next to the PKGBUILD (${path} does not exist)`, { url: path });
      }
      if (size > maxBytes) {
        throw new CatalogError('E_RESPONSE_TOO_LARGE', `${path} is ${size} bytes, over the ${maxBytes}-byte limit`, { url: path, limit: maxBytes });
      }
      return createReadStream(path, signal === undefined ? {} : { signal });
    }
    if (this.#offline) {
      throw new CatalogError('E_CATALOG_UNREACHABLE', `offline: cannot download ${redactUrl(url)} (local sources are not cached by the catalog client)`, {
        url: redactUrl(url),
      });
    }
    const got = await httpGetStream(this.#http(), url, { signal, maxBytes });
    if ('notFound' in got) {
      throw new CatalogError('E_FILE_NOT_FOUND', `${got.url} answered 404: local source ${name} is missing from the catalog`, { url: got.url, status: 404 });
    }
    return got.body;
  }

  /** `GET /health` of an HTTP catalog (a directory catalog is healthy when it exists). */
  async health(options: CallOptions = {}): Promise<{ status: string }> {
    const { signal } = options;
    if (this.#dir !== undefined) {
      await assertCatalogDir(this.#dir);
      return { status: 'ok' };
    }
    const url = new URL('health', this.#root);
    const res = await httpGetText(this.#http(), url, { signal, maxBytes: this.#maxJson, accept: 'application/json' });
    if (res.status !== 200) {
      throw new CatalogError('E_CATALOG_RESPONSE', `${redactUrl(res.url)} answered ${res.status}`, { url: redactUrl(res.url), status: res.status });
    }
    const doc = parseJsonBody(res.body.toString('utf8'), redactUrl(res.url)) as { status?: unknown };
    if (typeof doc !== 'object' || doc === null || typeof doc.status !== 'string') {
      throw new CatalogError('E_CATALOG_RESPONSE', `${redactUrl(res.url)} answered a health document without a "status" string`, {
        url: redactUrl(res.url),
        issues: [{ path: 'status', message: 'expected a string' }],
      });
    }
    return { status: doc.status };
  }

  // ── internals ──────────────────────────────────────────────────────────────

  #http(): TransportSettings {
    return this.#settings!;
  }

  /** Validates a URL given back to the client (from `resolve`/`getPkgbuild` or a caller). */
  #checkedUrl(value: string, what: string): URL {
    let url: URL;
    try {
      url = new URL(value);
    } catch (cause) {
      throw new CatalogError('E_INVALID_OPTIONS', `${what} must be an absolute URL, got ${JSON.stringify(String(value))}`, { cause });
    }
    if (url.protocol === 'file:') {
      if (this.#dir === undefined) {
        throw new CatalogError('E_INVALID_OPTIONS', `${what} is a file: URL but this client reads the HTTP catalog ${this.url}`, { url: url.href });
      }
      const path = fileURLToPath(url);
      const root = this.#dir.endsWith('/') ? this.#dir : `${this.#dir}/`;
      if (!`${path}/`.startsWith(root) && path !== this.#dir) {
        throw new CatalogError('E_INVALID_OPTIONS', `${what} ${path} is outside the catalog directory ${this.#dir}`, { url: path });
      }
      return url;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new CatalogError('E_INVALID_OPTIONS', `${what} must be http(s) or file:, got ${url.protocol}`, { url: redactUrl(url) });
    }
    if (this.#settings === undefined) {
      // A directory catalog is local only: its pkgbuildUrls are paths inside the directory.
      throw new CatalogError('E_INVALID_OPTIONS', `${what} ${redactUrl(url)} is remote but this client reads the directory catalog ${this.url}`, {
        url: redactUrl(url),
      });
    }
    return url;
  }

  /** Turns a catalog-written URL (relative, root-absolute or absolute) into an absolute one. */
  #absoluteCatalogUrl(raw: string, worker: Worker, flavor: Flavor): string {
    const field = flavor === 'git' ? 'pkgbuildUrlGit' : 'pkgbuildUrl';
    if (this.#dir !== undefined) {
      const path = catalogPath(this.#dir, raw);
      if (path === undefined) {
        throw new CatalogError(
          'E_CATALOG_RESPONSE',
          `${worker.id}: ${field} ${JSON.stringify(raw)} is not a path inside the catalog directory ${this.#dir}`,
          { url: this.#dir, workerId: worker.id, issues: [{ path: field, message: 'must be a path inside the catalog directory' }] },
        );
      }
      return pathToFileURL(path).href;
    }
    return redactUrl(new URL(raw, this.#root));
  }

  async #listDirectory(dir: string, signal: AbortSignal | undefined): Promise<Worker[]> {
    await assertCatalogDir(dir);
    const index = await readIndexFile(dir, this.#maxJson);
    if (index !== undefined) return readWorkerList(parseJsonBody(index.body.toString('utf8'), index.path), index.path);
    const out: Worker[] = [];
    for (const path of await listWorkerFiles(dir)) {
      throwIfAborted(signal);
      const file = await readCatalogFile(dir, path, this.#maxJson);
      if (file !== undefined) out.push(readWorker(parseJsonBody(file.body.toString('utf8'), path), path));
    }
    return out;
  }

  async #findWorker(id: string, signal: AbortSignal | undefined): Promise<Worker | undefined> {
    throwIfAborted(signal);
    if (this.#dir !== undefined) {
      const file = await readWorkerFile(this.#dir, id, this.#maxJson);
      if (file !== undefined) return this.#checkId(readWorker(parseJsonBody(file.body.toString('utf8'), file.path), file.path), id, file.path);
      await assertCatalogDir(this.#dir);
      const index = await readIndexFile(this.#dir, this.#maxJson);
      if (index === undefined) return undefined;
      return readWorkerList(parseJsonBody(index.body.toString('utf8'), index.path), index.path).find((w) => w.id === id);
    }
    const url = new URL(`workers/${id}`, this.#root);
    const got = await this.#fetch(url, 'application/json', this.#maxJson, signal);
    if (got.notFound) return undefined;
    return this.#checkId(readWorker(parseJsonBody(got.body.toString('utf8'), got.url), got.url), id, got.url);
  }

  #checkId(worker: Worker, id: string, where: string): Worker {
    if (worker.id !== id) {
      throw new CatalogError('E_CATALOG_RESPONSE', `${where} was asked for worker ${id} but describes ${worker.id}`, {
        url: where,
        workerId: id,
        issues: [{ path: 'id', message: `expected "${id}"` }],
      });
    }
    return worker;
  }

  async #notFound(id: string, signal: AbortSignal | undefined): Promise<CatalogError> {
    let ids: string[] | undefined;
    try {
      ids = (await this.listWorkers({ signal })).map((w) => w.id);
    } catch {
      ids = undefined;
    }
    throwIfAborted(signal);
    const hint = ids === undefined ? '' : ids.length === 0 ? ' (the catalog is empty)' : `; it has: ${ids.join(', ')}`;
    return new CatalogError('E_WORKER_NOT_FOUND', `no worker "${id}" in the catalog ${this.url}${hint}`, {
      workerId: id,
      url: this.url,
      availableIds: ids,
    });
  }

  /**
   * GET through the cache: revalidates with `If-None-Match`; answers from the cache (with a
   * warning) when offline or when the catalog cannot be reached.
   */
  async #fetch(url: URL, accept: string, maxBytes: number, signal: AbortSignal | undefined): Promise<Fetched> {
    const key = redactUrl(url);
    const cached = await this.#cache?.get(key);
    if (this.#offline) {
      if (cached !== undefined) return this.#fromCache(cached, key, 'offline', 'offline mode');
      throw new CatalogError('E_CATALOG_UNREACHABLE', `offline and no cached copy of ${key}: run once with network access to fill the cache`, { url: key });
    }
    let res;
    try {
      res = await httpGetText(this.#http(), url, { signal, maxBytes, etag: cached?.etag, accept });
    } catch (e) {
      if (cached !== undefined && CatalogError.isInstance(e) && (e.code === 'E_CATALOG_UNREACHABLE' || e.code === 'E_TIMEOUT')) {
        return this.#fromCache(cached, key, 'unreachable', e.message);
      }
      throw e;
    }
    const now = Date.now();
    if (res.status === 404) {
      // Remembered so that offline/unreachable lookups (e.g. the exact id before the
      // "<id>-<backend>" rule in resolve) answer the same way.
      if (cached?.status !== 404) await this.#cache?.put({ url: key, status: 404, etag: undefined, storedAt: now, validatedAt: now, body: Buffer.alloc(0) });
      return { notFound: true, url: redactUrl(res.url) };
    }
    if (res.status === 304) {
      if (cached === undefined || cached.status !== 200) {
        throw new CatalogError('E_CATALOG_RESPONSE', `${key} answered 304 Not Modified to a request without If-None-Match`, { url: key, status: 304 });
      }
      await this.#cache?.touch(cached, now);
      return { notFound: false, url: redactUrl(res.url), body: cached.body, fromCache: false };
    }
    await this.#cache?.put({ url: key, status: 200, etag: res.etag, storedAt: now, validatedAt: now, body: res.body });
    return { notFound: false, url: redactUrl(res.url), body: res.body, fromCache: false };
  }

  #fromCache(cached: CacheEntry, url: string, reason: 'offline' | 'unreachable', why: string): Fetched {
    const ageMs = Math.max(0, Date.now() - cached.validatedAt);
    this.#onWarning?.({
      code: 'W_STALE_CACHE',
      message: `using the cached catalog answer for ${url} from ${formatAge(ageMs)} ago (${reason === 'offline' ? 'offline' : `catalog unreachable: ${why}`})`,
      url,
      ageMs,
      reason,
    });
    return cached.status === 404 ? { notFound: true, url } : { notFound: false, url, body: cached.body, fromCache: true };
  }
}
