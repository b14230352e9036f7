/**
 * The reference catalog server: a read-only `node:http` server that serves a directory catalog
 * through the catalog API (plus the directory's files as static files), with ETags, HEAD and
 * JSON errors. It refuses every path that could leave the directory.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { relative, sep } from 'node:path';
import { resolve as resolvePath } from 'node:path';
import { catalogPath, isInside, listWorkerFiles, readCatalogFile, readIndexFile, readWorkerFile } from './directory-catalog.js';
import { CatalogError } from './errors.js';
import { BACKENDS, WORKER_ID_PATTERN, readWorker, type Arch, type Backend, type Platform } from './schema.js';
import { selectVariant, type Flavor } from './variant-selection.js';
import { hostArch, hostPlatform } from './worker-spec.js';

/** One served request, for access logs (the server never prints). */
export interface CatalogRequestLog {
  method: string;
  /** The request path as received (query string included). */
  path: string;
  status: number;
  /** The error code of an error answer. */
  code?: string | undefined;
}

/** Options of {@link createCatalogServer}. */
export interface CatalogServerOptions {
  /** The catalog directory (layout in the README). */
  dir: string;
  /**
   * Platform assumed by `GET /workers/:id/PKGBUILD` when the query has no `platform`.
   * @default the server's own
   */
  platform?: Platform | undefined;
  /**
   * Architecture assumed by `GET /workers/:id/PKGBUILD` when the query has no `arch`.
   * @default the server's own
   */
  arch?: Arch | undefined;
  /** Size limit of a JSON file served through the API. @default 1048576 */
  maxJsonBytes?: number | undefined;
  /** Size limit of a PKGBUILD served through the API. @default 262144 */
  maxPkgbuildBytes?: number | undefined;
  /** Called after each request (access log). */
  onRequest?: ((entry: CatalogRequestLog) => void) | undefined;
}

/** A running (or ready to run) reference catalog server. */
export interface CatalogServer {
  /** The underlying `node:http` server. */
  readonly server: Server;
  /** `http://host:port/` once listening, else undefined. */
  readonly url: string | undefined;
  /** The bound port once listening, else undefined. */
  readonly port: number | undefined;
  /** The bound address (as `net.Server#address()`), or null when not listening. */
  address(): AddressInfo | null;
  /**
   * Starts listening; resolves to the base URL (`http://127.0.0.1:8787/`).
   * @param port - TCP port; `0` picks a free one. @default 0
   * @param host - address to bind. @default '127.0.0.1'
   */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.gz': 'application/gzip',
  '.tgz': 'application/gzip',
  '.zst': 'application/zstd',
  '.xz': 'application/x-xz',
  '.bz2': 'application/x-bzip2',
  '.zip': 'application/zip',
  '.tar': 'application/x-tar',
};

function contentType(path: string): string {
  const base = path.slice(path.lastIndexOf(sep) + 1);
  const dot = base.lastIndexOf('.');
  const ext = dot > 0 ? base.slice(dot).toLowerCase() : '';
  return CONTENT_TYPES[ext] ?? (ext === '' || /^\.(c|h|sh|txt|md|patch|diff|install|pkgbuild|mk|py|rs|toml)$/.test(ext) ? 'text/plain; charset=utf-8' : 'application/octet-stream');
}

function strongEtag(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

function stripWeak(tag: string): string {
  return tag.trim().replace(/^W\//, '');
}

function etagMatches(req: IncomingMessage, etag: string): boolean {
  const inm = req.headers['if-none-match'];
  if (inm === undefined) return false;
  return inm === '*' || inm.split(',').some((t) => stripWeak(t) === stripWeak(etag));
}

function send(req: IncomingMessage, res: ServerResponse, status: number, body: Buffer, type: string, extra: Record<string, string> = {}): void {
  const etag = strongEtag(body);
  const headers: Record<string, string> = { 'cache-control': 'no-cache', etag, ...extra };
  if (status === 200 && etagMatches(req, etag)) {
    res.writeHead(304, headers).end();
    return;
  }
  headers['content-type'] = type;
  headers['content-length'] = String(body.length);
  res.writeHead(status, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

function sendJson(req: IncomingMessage, res: ServerResponse, status: number, value: unknown, extra?: Record<string, string>): void {
  send(req, res, status, Buffer.from(`${JSON.stringify(value)}\n`), 'application/json', extra);
}

/**
 * Splits and checks a request target: origin-form only, no `..`/`.`/empty segments, no encoded
 * slashes or backslashes, no NUL. Returns decoded segments and the query.
 */
function parseTarget(raw: string): { segments: string[]; query: URLSearchParams } {
  if (!raw.startsWith('/') || raw.startsWith('//')) throw new HttpError(400, 'E_BAD_PATH', 'request paths must be absolute paths like /workers');
  const q = raw.indexOf('?');
  const pathPart = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  if (/%2f|%5c|%00|\\|\0/i.test(pathPart)) {
    throw new HttpError(400, 'E_BAD_PATH', 'encoded slashes, backslashes and NUL are not allowed in paths');
  }
  const parts = pathPart.slice(1).split('/');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length === 1 && parts[0] === '') return { segments: [], query };
  const segments: string[] = [];
  for (const part of parts) {
    let seg: string;
    try {
      seg = decodeURIComponent(part);
    } catch {
      throw new HttpError(400, 'E_BAD_PATH', 'malformed percent-encoding in path');
    }
    if (seg === '' || seg === '.' || seg === '..' || /[/\\\0]/.test(seg)) {
      throw new HttpError(400, 'E_BAD_PATH', 'path segments ".", ".." and empty segments are not allowed');
    }
    if (seg.startsWith('.')) throw new HttpError(404, 'E_NOT_FOUND', 'not found');
    segments.push(seg);
  }
  return { segments, query };
}

/**
 * Creates the reference catalog server for a directory catalog. Routes:
 *
 * - `GET /health` → `{ "status": "ok", "workers": <count> }`
 * - `GET /workers` → `{ "workers": [...] }` (`workers.json`, or built from `workers/*.json`)
 * - `GET /workers/:id` → the worker (`workers/<id>.json`, or its entry in `workers.json`)
 * - `GET /workers/:id/PKGBUILD?backend=&flavor=bin|git&platform=&arch=` → the chosen variant's
 *   PKGBUILD (defaults: this server's platform/arch, first matching variant, flavor `bin`);
 *   `Content-Location` names its static path, whose directory holds the local sources
 * - any other path → the file at that path in the directory (PKGBUILDs, local sources, archives)
 *
 * Every answer has an `ETag` and honours `If-None-Match` and `HEAD`; errors are
 * `{ "error": { "code", "message" } }`. Paths with `..`, encoded slashes or NUL get 400 `E_BAD_PATH`.
 *
 * @example
 * ```ts
 * import { createCatalogServer } from '@rbee/catalog-client/server';
 * const server = createCatalogServer({ dir: 'examples/catalog' });
 * const url = await server.listen(8787, '127.0.0.1'); // 'http://127.0.0.1:8787/'
 * // … new CatalogClient({ url }) …
 * await server.close();
 * ```
 */
export function createCatalogServer(options: CatalogServerOptions | string): CatalogServer {
  const opts: CatalogServerOptions = typeof options === 'string' ? { dir: options } : options;
  if (typeof opts?.dir !== 'string' || opts.dir === '') {
    throw new CatalogError('E_INVALID_OPTIONS', 'createCatalogServer needs { dir }: the catalog directory to serve');
  }
  const dir = resolvePath(opts.dir);
  const maxJson = opts.maxJsonBytes ?? 1024 * 1024;
  const maxPkgbuild = opts.maxPkgbuildBytes ?? 256 * 1024;
  const defaultPlatform: string = opts.platform ?? hostPlatform() ?? process.platform;
  const defaultArch: string = opts.arch ?? hostArch() ?? process.arch;

  /** The raw index document (the `workers` array as written in the catalog). */
  const readIndex = async (): Promise<{ body: Buffer; entries: unknown[] }> => {
    const index = await readIndexFile(dir, maxJson);
    if (index !== undefined) {
      const doc = JSON.parse(index.body.toString('utf8')) as { workers?: unknown };
      if (!Array.isArray(doc?.workers)) throw new HttpError(500, 'E_CATALOG_RESPONSE', 'workers.json has no "workers" array');
      return { body: index.body, entries: doc.workers };
    }
    const entries: unknown[] = [];
    for (const path of await listWorkerFiles(dir)) {
      const file = await readCatalogFile(dir, path, maxJson);
      if (file !== undefined) entries.push(JSON.parse(file.body.toString('utf8')));
    }
    return { body: Buffer.from(`${JSON.stringify({ workers: entries }, null, 2)}\n`), entries };
  };

  /** The raw worker document, or undefined. */
  const readWorkerDoc = async (id: string): Promise<{ body: Buffer; value: unknown } | undefined> => {
    const file = await readWorkerFile(dir, id, maxJson);
    if (file !== undefined) return { body: file.body, value: JSON.parse(file.body.toString('utf8')) };
    const { entries } = await readIndex();
    const entry = entries.find((e) => typeof e === 'object' && e !== null && (e as { id?: unknown }).id === id);
    return entry === undefined ? undefined : { body: Buffer.from(`${JSON.stringify(entry, null, 2)}\n`), value: entry };
  };

  const servePkgbuild = async (req: IncomingMessage, res: ServerResponse, id: string, query: URLSearchParams): Promise<void> => {
    const doc = await readWorkerDoc(id);
    if (doc === undefined) throw new HttpError(404, 'E_WORKER_NOT_FOUND', `no worker "${id}" in this catalog`);
    const worker = readWorker(doc.value, `workers/${id}.json`);
    const backend = query.get('backend') ?? undefined;
    if (backend !== undefined && !(BACKENDS as readonly string[]).includes(backend)) {
      throw new HttpError(400, 'E_BAD_QUERY', `backend must be one of ${BACKENDS.join(', ')}`);
    }
    const flavor = query.get('flavor') ?? undefined;
    if (flavor !== undefined && flavor !== 'bin' && flavor !== 'git') throw new HttpError(400, 'E_BAD_QUERY', 'flavor must be bin or git');
    const choice = selectVariant(worker, {
      platform: query.get('platform') ?? defaultPlatform,
      arch: query.get('arch') ?? defaultArch,
      backend: backend as Backend | undefined,
      flavor: flavor as Flavor | undefined,
    });
    const path = catalogPath(dir, choice.pkgbuildUrl);
    if (path === undefined) {
      throw new HttpError(500, 'E_CATALOG_RESPONSE', `${id}: pkgbuildUrl ${JSON.stringify(choice.pkgbuildUrl)} is not a path inside this catalog`);
    }
    const file = await readCatalogFile(dir, path, maxPkgbuild);
    if (file === undefined) throw new HttpError(404, 'E_FILE_NOT_FOUND', `${id}: the PKGBUILD ${choice.pkgbuildUrl} is missing from this catalog`);
    const staticPath = `/${relative(dir, path).split(sep).map(encodeURIComponent).join('/')}`;
    send(req, res, 200, file.body, 'text/plain; charset=utf-8', {
      'content-location': staticPath,
      'x-rbee-variant': choice.variant.backend,
      'x-rbee-flavor': choice.flavor,
    });
  };

  const serveStatic = async (req: IncomingMessage, res: ServerResponse, segments: string[]): Promise<void> => {
    const path = catalogPath(dir, segments.map(encodeURIComponent).join('/'));
    if (path === undefined || !(await isInside(dir, path))) throw new HttpError(404, 'E_NOT_FOUND', 'not found');
    let st;
    try {
      st = await stat(path);
    } catch {
      throw new HttpError(404, 'E_NOT_FOUND', 'not found');
    }
    if (!st.isFile()) throw new HttpError(404, 'E_NOT_FOUND', 'not found');
    const etag = `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const headers: Record<string, string> = { 'cache-control': 'no-cache', etag, 'last-modified': st.mtime.toUTCString() };
    if (etagMatches(req, etag)) {
      res.writeHead(304, headers).end();
      return;
    }
    headers['content-type'] = contentType(path);
    headers['content-length'] = String(st.size);
    if (req.method === 'HEAD') {
      res.writeHead(200, headers).end();
      return;
    }
    await new Promise<void>((resolveDone) => {
      const stream = createReadStream(path);
      stream.once('open', () => res.writeHead(200, headers));
      stream.once('error', () => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"E_SERVER","message":"read failed"}}\n');
        else res.destroy();
        resolveDone();
      });
      stream.once('end', resolveDone);
      res.once('close', () => {
        stream.destroy();
        resolveDone();
      });
      stream.pipe(res);
    });
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw Object.assign(new HttpError(405, 'E_METHOD_NOT_ALLOWED', 'this catalog is read-only: use GET or HEAD'), { allow: 'GET, HEAD' });
    }
    const { segments, query } = parseTarget(req.url ?? '');
    const [first, second, third] = segments;
    if (segments.length === 0) {
      sendJson(req, res, 200, { service: 'rbee worker catalog', endpoints: ['/health', '/workers', '/workers/:id', '/workers/:id/PKGBUILD'] });
      return;
    }
    if (first === 'health' && segments.length === 1) {
      const { entries } = await readIndex();
      sendJson(req, res, 200, { status: 'ok', workers: entries.length });
      return;
    }
    if (first === 'workers' && segments.length === 1) {
      const { body } = await readIndex();
      send(req, res, 200, body, 'application/json');
      return;
    }
    if (first === 'workers' && second !== undefined && segments.length <= 3) {
      const isApi = segments.length === 2 || third === 'PKGBUILD';
      if (isApi && !WORKER_ID_PATTERN.test(second)) {
        throw new HttpError(400, 'E_INVALID_WORKER_ID', `invalid worker id: ids match ^[a-z0-9][a-z0-9._+-]*$`);
      }
      if (segments.length === 3 && third === 'PKGBUILD') {
        await servePkgbuild(req, res, second, query);
        return;
      }
      if (segments.length === 2) {
        const doc = await readWorkerDoc(second);
        if (doc !== undefined) {
          send(req, res, 200, doc.body, 'application/json');
          return;
        }
        // Not a worker: maybe a static file such as workers/<id>.json itself.
        try {
          await serveStatic(req, res, segments);
        } catch (e) {
          if (e instanceof HttpError && e.status === 404) throw new HttpError(404, 'E_WORKER_NOT_FOUND', `no worker "${second}" in this catalog`);
          throw e;
        }
        return;
      }
    }
    await serveStatic(req, res, segments);
  };

  const server = createServer((req, res) => {
    route(req, res)
      .catch((e: unknown) => {
        let status = 500;
        let code = 'E_SERVER';
        let message = 'internal error reading the catalog directory';
        const extra: Record<string, string> = {};
        if (e instanceof HttpError) {
          ({ status, code, message } = e);
          const allow = (e as HttpError & { allow?: string }).allow;
          if (allow !== undefined) extra.allow = allow;
        } else if (CatalogError.isInstance(e)) {
          code = e.code;
          status = e.code === 'E_NO_COMPATIBLE_VARIANT' || e.code === 'E_WORKER_NOT_FOUND' ? 404 : e.code === 'E_RESPONSE_TOO_LARGE' || e.code === 'E_CATALOG_RESPONSE' ? 500 : 400;
          message = e.message.split(dir).join('<catalog>');
        } else if (e instanceof SyntaxError) {
          code = 'E_CATALOG_RESPONSE';
          message = `a catalog JSON file is malformed: ${e.message}`;
        }
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const body = Buffer.from(`${JSON.stringify({ error: { code, message } })}\n`);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(body.length), 'cache-control': 'no-store', ...extra });
        res.end(req.method === 'HEAD' ? undefined : body);
        (res as ServerResponse & { rbeeCode?: string }).rbeeCode = code;
      })
      .finally(() => {
        opts.onRequest?.({ method: req.method ?? '', path: req.url ?? '', status: res.statusCode, code: (res as ServerResponse & { rbeeCode?: string }).rbeeCode });
      });
  });

  let url: string | undefined;
  return {
    server,
    get url() {
      return url;
    },
    get port() {
      return server.listening ? (server.address() as AddressInfo).port : undefined;
    },
    address() {
      return server.listening ? (server.address() as AddressInfo) : null;
    },
    listen(port = 0, host = '127.0.0.1') {
      return new Promise<string>((resolveListen, reject) => {
        const onError = (e: Error): void => reject(new CatalogError('E_SERVER', `cannot listen on ${host}:${port}: ${e.message}`, { cause: e }));
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          const addr = server.address() as AddressInfo;
          const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          url = `http://${shownHost}:${addr.port}/`;
          resolveListen(url);
        });
      });
    },
    close() {
      return new Promise<void>((resolveClose) => {
        if (!server.listening) return resolveClose();
        server.close(() => resolveClose());
        server.closeAllConnections();
        url = undefined;
      });
    },
  };
}
