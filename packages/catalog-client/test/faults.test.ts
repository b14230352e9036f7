/**
 * Bad catalogs and bad networks, through fault-injecting loopback servers: each case asserts
 * the exact error code (or the documented fallback).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CatalogClient, CatalogError, type CatalogWarning } from '../src/index.js';
import { json, loopbackServer, rejectionOf, sampleWorker, tempDir, type LoopbackServer } from './helpers.js';

const open: LoopbackServer[] = [];
const clients: CatalogClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function serve(handler: Parameters<typeof loopbackServer>[0], host?: string): Promise<LoopbackServer> {
  const s = await loopbackServer(handler, host);
  open.push(s);
  return s;
}
function client(opts: ConstructorParameters<typeof CatalogClient>[0]): CatalogClient {
  const c = new CatalogClient({ cacheDir: false, retries: 0, retryDelayMs: 5, ...opts });
  clients.push(c);
  return c;
}
const linux = { platform: 'linux', arch: 'x86_64' } as const;

describe('E_CATALOG_RESPONSE', () => {
  it('malformed JSON names the URL', async () => {
    const s = await serve((_req, res) => json(res, '{"workers": [ {"id": '));
    const e = (await rejectionOf(client({ url: s.url }).listWorkers())) as CatalogError;
    expect(e.code).toBe('E_CATALOG_RESPONSE');
    expect(e.url).toBe(`${s.url}workers`);
    expect(e.message).toContain(`${s.url}workers`);
  });

  it('wrong and missing fields are named by path', async () => {
    const bad = sampleWorker('bad-worker');
    bad.name = 42;
    (bad.variants as Record<string, unknown>[])[0]!.backend = 'vulkan';
    const noVariants = sampleWorker('no-variants');
    delete noVariants.variants;
    const s = await serve((_req, res) => json(res, { workers: [sampleWorker(), bad, noVariants] }));
    const e = (await rejectionOf(client({ url: s.url }).listWorkers())) as CatalogError;
    expect(e.code).toBe('E_CATALOG_RESPONSE');
    const paths = e.issues?.map((i) => i.path);
    expect(paths).toContain('workers[1].name');
    expect(paths).toContain('workers[1].variants[0].backend');
    expect(paths).toContain('workers[2].variants');
    expect(e.message).toContain('workers[1].name');
    expect(e.message).toContain(s.url);
  });

  it('a catalog that answers traversal ids or pkgbuildUrls is rejected', async () => {
    const evilUrl = sampleWorker('evil');
    (evilUrl.variants as Record<string, unknown>[])[0]!.pkgbuildUrl = 'workers/../../../etc/passwd';
    const evilEncoded = sampleWorker('evil2');
    (evilEncoded.variants as Record<string, unknown>[])[0]!.pkgbuildUrl = 'workers/%2e%2e/%2e%2e/secret';
    const s = await serve((req, res) => {
      if (req.url === '/workers/evil') return json(res, evilUrl);
      if (req.url === '/workers/evil2') return json(res, evilEncoded);
      if (req.url === '/workers/liar') return json(res, sampleWorker('../liar'));
      if (req.url === '/workers/other') return json(res, sampleWorker('someone-else'));
      json(res, { error: 'nf' }, 404);
    });
    const c = client({ url: s.url });
    for (const id of ['evil', 'evil2', 'liar', 'other']) {
      const e = (await rejectionOf(c.resolve(id, linux))) as CatalogError;
      expect(e.code, id).toBe('E_CATALOG_RESPONSE');
    }
    const e = (await rejectionOf(c.getWorker('evil'))) as CatalogError;
    expect(e.issues?.[0]?.path).toBe('variants[0].pkgbuildUrl');
  });

  it('an unexpected status is reported with it', async () => {
    const s = await serve((_req, res) => json(res, { error: 'teapot' }, 418));
    const e = (await rejectionOf(client({ url: s.url }).listWorkers())) as CatalogError;
    expect(e.code).toBe('E_CATALOG_RESPONSE');
    expect(e.status).toBe(418);
  });
});

describe('E_RESPONSE_TOO_LARGE', () => {
  it('refuses a declared Content-Length over the limit without reading it', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) });
      res.write('{"workers":[');
      // never finishes: the client must not wait for the body
    });
    const e = (await rejectionOf(client({ url: s.url }).listWorkers())) as CatalogError;
    expect(e.code).toBe('E_RESPONSE_TOO_LARGE');
    expect(e.limit).toBe(1024 * 1024);
  });

  it('aborts a chunked body early once it passes the limit', async () => {
    let written = 0;
    let closed = false;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"workers":[');
      res.on('close', () => {
        closed = true;
      });
      const pump = (): void => {
        while (!res.destroyed && written < 64 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end(']}');
      };
      pump();
    });
    const e = (await rejectionOf(client({ url: s.url, maxJsonBytes: 256 * 1024 }).listWorkers())) as CatalogError;
    expect(e.code).toBe('E_RESPONSE_TOO_LARGE');
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(true);
    expect(written).toBeLessThan(16 * 1024 * 1024);
  });

  it('applies the PKGBUILD limit to PKGBUILDs', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/workers/sample-worker') return json(res, sampleWorker());
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('#'.repeat(5000));
    });
    const c = client({ url: s.url, maxPkgbuildBytes: 4096 });
    const e = await rejectionOf(c.getPkgbuild(await c.resolve('sample-worker', linux)));
    expect(e.code).toBe('E_RESPONSE_TOO_LARGE');
  });
});

describe('timeouts, retries, unreachable catalogs and the stale cache', () => {
  it('E_TIMEOUT when the catalog accepts but never answers', async () => {
    const s = await serve(() => {
      /* stall */
    });
    const e = (await rejectionOf(client({ url: s.url, timeoutMs: 300, retries: 1 }).listWorkers())) as CatalogError;
    expect(e.code).toBe('E_TIMEOUT');
    expect(s.seen.length).toBe(2); // first try + one retry
  });

  it('E_CATALOG_UNREACHABLE with no cache when nothing listens', async () => {
    const s = await serve(() => undefined);
    const deadUrl = s.url;
    await open.pop()!.close();
    const e = (await rejectionOf(client({ url: deadUrl, retries: 1 }).listWorkers())) as CatalogError;
    expect(e.code).toBe('E_CATALOG_UNREACHABLE');
    expect(e.message).toContain(deadUrl);
  });

  it('retries 5xx with backoff, then succeeds', async () => {
    const s = await serve((_req, res, seen) => {
      if (seen.length < 3) return json(res, { error: 'busy' }, 503);
      json(res, { workers: [sampleWorker()] });
    });
    const workers = await client({ url: s.url, retries: 2 }).listWorkers();
    expect(workers.map((w) => w.id)).toEqual(['sample-worker']);
    expect(s.seen.length).toBe(3);
  });

  it('5xx after the retries and no cache: E_CATALOG_UNREACHABLE with the status', async () => {
    const s = await serve((_req, res) => json(res, { error: 'down' }, 502));
    const e = (await rejectionOf(client({ url: s.url, retries: 1 }).listWorkers())) as CatalogError;
    expect(e.code).toBe('E_CATALOG_UNREACHABLE');
    expect(e.status).toBe(502);
    expect(s.seen.length).toBe(2);
  });

  it('falls back to the cached answer, warning how old it is, when the catalog is down', async () => {
    const cache = await tempDir();
    try {
      let down = false;
      const s = await serve((req, res) => {
        if (down) return json(res, { error: 'down' }, 503);
        if (req.headers['if-none-match'] === '"v1"') {
          res.writeHead(304, { etag: '"v1"' });
          return res.end();
        }
        json(res, { workers: [sampleWorker()] }, 200, { etag: '"v1"' });
      });
      const fresh = client({ url: s.url, cacheDir: cache.dir });
      expect((await fresh.listWorkers()).length).toBe(1);
      expect((await fresh.listWorkers()).length).toBe(1);
      expect(s.seen[1]?.headers['if-none-match']).toBe('"v1"');

      down = true;
      const warnings: CatalogWarning[] = [];
      const stale = client({ url: s.url, cacheDir: cache.dir, retries: 1, onWarning: (w) => warnings.push(w) });
      expect((await stale.listWorkers()).map((w) => w.id)).toEqual(['sample-worker']);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ code: 'W_STALE_CACHE', reason: 'unreachable', url: `${s.url}workers` });
      expect(warnings[0]!.ageMs).toBeGreaterThanOrEqual(0);
      expect(warnings[0]!.message).toMatch(/from \d+ s ago/);

      // and when nothing listens at all
      await open.pop()!.close();
      const gone = client({ url: s.url, cacheDir: cache.dir, onWarning: (w) => warnings.push(w) });
      expect((await gone.listWorkers()).length).toBe(1);
      expect(warnings).toHaveLength(2);
      // an answer never cached still fails
      expect((await rejectionOf(gone.getWorker('sample-worker'))).code).toBe('E_CATALOG_UNREACHABLE');
    } finally {
      await cache.cleanup();
    }
  });

  it('falls back to the cache when a body stalls past the timeout', async () => {
    const cache = await tempDir();
    try {
      let stall = false;
      const s = await serve((_req, res) => {
        if (!stall) return json(res, { workers: [sampleWorker()] }, 200, { etag: '"a"' });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"workers":'); // …and nothing more
      });
      expect((await client({ url: s.url, cacheDir: cache.dir }).listWorkers()).length).toBe(1);
      stall = true;
      const warnings: CatalogWarning[] = [];
      const c = client({ url: s.url, cacheDir: cache.dir, timeoutMs: 300, onWarning: (w) => warnings.push(w) });
      expect((await c.listWorkers()).length).toBe(1);
      expect(warnings[0]?.message).toContain('did not answer within 300 ms');
    } finally {
      await cache.cleanup();
    }
  });

  it('cancels a stalled request with an AbortError', async () => {
    const s = await serve(() => undefined);
    const ac = new AbortController();
    const p = client({ url: s.url, timeoutMs: 60_000 }).listWorkers({ signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const e = await rejectionOf(p);
    expect(e.name).toBe('AbortError');
  });
});

describe('the token', () => {
  const TOKEN = 'tok-s3cret-value';

  it('goes to the catalog origin, also after a same-origin redirect', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/workers') {
        res.writeHead(302, { location: '/v2/workers' });
        return res.end();
      }
      json(res, { workers: [] });
    });
    await client({ url: s.url, token: TOKEN }).listWorkers();
    expect(s.seen.map((r) => r.headers.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
  });

  it('is read from RBEE_CATALOG_TOKEN', async () => {
    const s = await serve((_req, res) => json(res, { workers: [] }));
    const prev = process.env.RBEE_CATALOG_TOKEN;
    process.env.RBEE_CATALOG_TOKEN = TOKEN;
    try {
      await client({ url: s.url }).listWorkers();
    } finally {
      if (prev === undefined) delete process.env.RBEE_CATALOG_TOKEN;
      else process.env.RBEE_CATALOG_TOKEN = prev;
    }
    expect(s.seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('is never forwarded to another host after a redirect', async () => {
    let other: LoopbackServer;
    try {
      other = await serve((_req, res) => json(res, { workers: [sampleWorker()] }), '127.0.0.2');
    } catch {
      other = await serve((_req, res) => json(res, { workers: [sampleWorker()] }), 'localhost');
    }
    const s = await serve((_req, res) => {
      res.writeHead(307, { location: `${other.origin}/mirror/workers` });
      res.end();
    });
    expect(new URL(other.url).hostname).not.toBe('127.0.0.1');
    const workers = await client({ url: s.url, token: TOKEN }).listWorkers();
    expect(workers).toHaveLength(1);
    expect(s.seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(other.seen).toHaveLength(1);
    expect(other.seen[0]?.headers.authorization).toBeUndefined();
  });

  it('is not sent to a PKGBUILD on another origin, and never appears in errors', async () => {
    const cdn = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('pkgname=x\n');
    });
    const w = sampleWorker();
    (w.variants as Record<string, unknown>[])[0]!.pkgbuildUrl = `${cdn.url}x/PKGBUILD`;
    const s = await serve((req, res) => {
      if (req.url === '/workers/sample-worker') return json(res, w);
      if (req.url === '/workers/locked') return json(res, { error: 'no' }, 401);
      json(res, `{"broken ${String(req.headers.authorization)}`);
    });
    const c = client({ url: s.url, token: TOKEN });
    const pkg = await c.getPkgbuild(await c.resolve('sample-worker', linux));
    expect(pkg.text).toBe('pkgname=x\n');
    expect(cdn.seen[0]?.headers.authorization).toBeUndefined();

    const unauthorized = (await rejectionOf(c.getWorker('locked'))) as CatalogError;
    expect(unauthorized.code).toBe('E_UNAUTHORIZED');
    const broken = await rejectionOf(c.listWorkers());
    for (const e of [unauthorized, broken]) {
      expect(e.message).not.toContain(TOKEN);
      expect(JSON.stringify({ ...e, cause: String((e as { cause?: unknown }).cause) })).not.toContain(TOKEN);
    }
  });

  it('does not show in util.inspect or JSON of the client', async () => {
    const { inspect } = await import('node:util');
    const c = client({ url: 'http://127.0.0.1:9/', token: TOKEN });
    expect(inspect(c, { depth: 10, showHidden: true })).not.toContain(TOKEN);
    expect(JSON.stringify(c)).not.toContain(TOKEN);
  });

  it('E_TOO_MANY_REDIRECTS on a redirect loop', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(302, { location: '/workers' });
      res.end();
    });
    expect((await rejectionOf(client({ url: s.url, maxRedirects: 3 }).listWorkers())).code).toBe('E_TOO_MANY_REDIRECTS');
    expect(s.seen.length).toBe(4);
  });
});

describe('getFile and health over HTTP', () => {
  it('a local source over maxBytes errors the stream with E_RESPONSE_TOO_LARGE', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked: no length up front
      res.write(Buffer.alloc(64 * 1024));
      res.end(Buffer.alloc(64 * 1024));
    });
    const stream = await client({ url: s.url }).getFile(`${s.url}workers/x/cpu/`, 'big.tar.gz', { maxBytes: 100_000 });
    let caught: unknown;
    try {
      let total = 0;
      for await (const chunk of stream) total += (chunk as Buffer).length;
      expect(total).toBeLessThan(0); // not reached
    } catch (e) {
      caught = e;
    }
    expect((caught as CatalogError).code).toBe('E_RESPONSE_TOO_LARGE');
  });

  it('health() reads GET /health and rejects a document without status', async () => {
    const s = await serve((req, res) => (req.url === '/health' ? json(res, { status: 'ok' }) : json(res, { nope: 1 })));
    expect(await client({ url: s.url }).health()).toEqual({ status: 'ok' });
    const t = await serve((_req, res) => json(res, { up: true }));
    expect((await rejectionOf(client({ url: t.url }).health())).code).toBe('E_CATALOG_RESPONSE');
  });
});

describe('options', () => {
  it('E_INVALID_OPTIONS for unusable options', () => {
    for (const opts of [{ url: '' }, { url: 'ftp://x/' }, { url: 'http://127.0.0.1/', timeoutMs: -1 }, { url: 'http://127.0.0.1/', retries: 1.5 }]) {
      let code: string | undefined;
      try {
        const c = new CatalogClient(opts);
        void c.close();
      } catch (e) {
        code = (e as CatalogError).code;
      }
      expect(code, JSON.stringify(opts)).toBe('E_INVALID_OPTIONS');
    }
  });
});
