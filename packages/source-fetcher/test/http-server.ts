/**
 * A real loopback HTTP server for the tests and the benchmark, with switches for the failure
 * modes a fetcher must survive. Listens on 127.0.0.1 and 127.0.0.2 (same port), so redirects
 * between them cross hosts.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface Route {
  /** Body bytes (or a file path through `file`). */
  body?: Buffer;
  /** Serve this file from disk instead of `body`. */
  file?: string;
  /** Status codes for the 1st, 2nd, … request of this path (empty body); afterwards the normal reply. */
  statuses?: number[];
  /** `Retry-After` sent with the statuses above. */
  retryAfter?: string;
  /** Reply 302 to this location. */
  redirect?: string;
  /** Honour `Range` (default true). */
  ranges?: boolean;
  /** ETag to send (default: a fixed one derived from the size); `false` for none. */
  etag?: string | false;
  /** For the first `dropTimes` requests (default: all), send this many body bytes and cut the connection. */
  dropAfter?: number;
  dropTimes?: number;
  /** Send this many bytes, then stop sending without closing. */
  stallAfter?: number;
  /** Wait this long before sending headers. */
  headerDelay?: number;
  /** Send this Content-Length instead of the true one (and close after the real body). */
  contentLength?: number;
  /** HTTP/1.0 style: `Connection: close`, no Content-Length, end of body = end of connection. */
  closeDelimited?: boolean;
  /** Add `Connection: close` but keep the Content-Length. */
  connectionClose?: boolean;
}

export interface LoggedRequest {
  path: string;
  host: string;
  headers: IncomingMessage['headers'];
}

export interface TestServer {
  port: number;
  /** `http://127.0.0.1:<port>` (or another loopback address). */
  base(host?: string): string;
  routes: Map<string, Route>;
  log: LoggedRequest[];
  /** Requests seen for a path. */
  count(path: string): number;
  close(): Promise<void>;
}

function etagOf(route: Route, size: number): string | undefined {
  if (route.etag === false) return undefined;
  return route.etag ?? `"rbee-${size.toString(16)}"`;
}

export async function startTestServer(hosts: string[] = ['127.0.0.1', '127.0.0.2']): Promise<TestServer> {
  const routes = new Map<string, Route>();
  const log: LoggedRequest[] = [];
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'x'}`);
    const path = url.pathname;
    log.push({ path, host: req.headers.host ?? '', headers: req.headers });
    const n = (counts.get(path) ?? 0) + 1;
    counts.set(path, n);
    const route = routes.get(path);
    if (!route) {
      res.writeHead(404, { 'content-length': '9' });
      res.end('not found');
      return;
    }
    const st = route.statuses?.[n - 1];
    if (st !== undefined) {
      const h: Record<string, string> = { 'content-length': '0' };
      if (route.retryAfter) h['retry-after'] = route.retryAfter;
      res.writeHead(st, h);
      res.end();
      return;
    }
    if (route.redirect) {
      res.writeHead(302, { location: route.redirect, 'content-length': '0' });
      res.end();
      return;
    }
    const send = (): void => {
      const size = route.file ? statSync(route.file).size : (route.body?.length ?? 0);
      const etag = etagOf(route, size);
      let start = 0;
      let status = 200;
      const headers: Record<string, string> = { 'last-modified': 'Fri, 27 Nov 2026 10:00:00 GMT' };
      if (etag) headers.etag = etag;
      if (route.ranges !== false) headers['accept-ranges'] = 'bytes';
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const ifRange = req.headers['if-range'];
      if (route.ranges !== false && range && (!ifRange || ifRange === etag || ifRange === headers['last-modified'])) {
        start = Number(range[1]);
        if (start >= size) {
          res.writeHead(416, { 'content-range': `bytes */${size}`, 'content-length': '0' });
          res.end();
          return;
        }
        status = 206;
        headers['content-range'] = `bytes ${start}-${size - 1}/${size}`;
      }
      const len = size - start;
      if (route.closeDelimited) {
        headers.connection = 'close';
        res.useChunkedEncodingByDefault = false;
        res.shouldKeepAlive = false;
      } else {
        headers['content-length'] = String(route.contentLength ?? len);
        if (route.connectionClose) headers.connection = 'close';
      }
      res.writeHead(status, headers);
      const limit = route.dropAfter !== undefined && n <= (route.dropTimes ?? Infinity) ? route.dropAfter : route.stallAfter;
      const stream = route.file ? createReadStream(route.file, { start, highWaterMark: 256 * 1024 }) : undefined;
      const body = route.body ? route.body.subarray(start) : undefined;
      if (limit === undefined) {
        if (stream) {
          stream.pipe(res);
        } else {
          res.end(body);
          if (route.contentLength !== undefined) res.socket?.end();
        }
        if (route.contentLength !== undefined && stream) stream.on('end', () => res.socket?.end());
        return;
      }
      const chunk = (body ?? Buffer.alloc(0)).subarray(0, limit);
      res.write(chunk, () => {
        if (route.dropAfter !== undefined && n <= (route.dropTimes ?? Infinity)) res.socket?.destroy();
        // stallAfter: keep the socket open and send nothing more.
      });
    };
    if (route.headerDelay) setTimeout(send, route.headerDelay);
    else send();
  };

  const servers: Server[] = [];
  let port = 0;
  for (const host of hosts) {
    const s = createServer({ keepAliveTimeout: 5000 }, handler);
    s.on('connection', (sock: Socket) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, host, () => resolve());
    });
    if (port === 0) {
      const addr = s.address();
      port = typeof addr === 'object' && addr ? addr.port : 0;
    }
    servers.push(s);
  }
  return {
    port,
    base: (host = '127.0.0.1') => `http://${host}:${port}`,
    routes,
    log,
    count: (p) => counts.get(p) ?? 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
