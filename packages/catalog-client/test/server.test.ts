/**
 * The reference server on its own: routes, ETag/HEAD, JSON errors, and traversal refusals
 * (sent with raw sockets so nothing normalises the paths first).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import fc from 'fast-check';
import { connect } from 'node:net';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { createCatalogServer, type CatalogServer } from '../src/server.js';
import { ensureExampleArchives, exampleCatalog, rejectionOf, tempDir } from './helpers.js';

let server: CatalogServer;
let base: string;
let copy: { dir: string; cleanup: () => Promise<void> };
let catalogDir: string;
const MARKER = 'SECRET-OUTSIDE-THE-CATALOG';

beforeAll(async () => {
  await ensureExampleArchives();
  copy = await tempDir();
  catalogDir = join(copy.dir, 'catalog');
  await cp(exampleCatalog, catalogDir, { recursive: true });
  await writeFile(join(copy.dir, 'SECRET'), MARKER);
  // a symlink pointing out of the catalog must not be followed
  await symlink(join(copy.dir, 'SECRET'), join(catalogDir, 'workers', 'demo-worker-rbee', 'cpu', 'leak'));
  server = createCatalogServer({ dir: catalogDir, platform: 'linux', arch: 'x86_64' });
  base = await server.listen(0, '127.0.0.1');
});
afterAll(async () => {
  await server.close();
  await copy.cleanup();
});

/** Sends a raw request line, returns status and body. */
function raw(target: string, method = 'GET'): Promise<{ status: number; body: string }> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), '127.0.0.1', () => {
      sock.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    });
    const chunks: Buffer[] = [];
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', reject);
    sock.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

async function get(path: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') {
  const res = await request(new URL(path, base), { method, headers });
  const body = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body };
}

describe('routes', () => {
  it('reports where it listens', () => {
    expect(server.url).toBe(base);
    expect(server.port).toBe(Number(new URL(base).port));
    expect(server.address()?.address).toBe('127.0.0.1');
  });

  it('GET /health', async () => {
    const r = await get('/health');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ status: 'ok', workers: 5 });
  });

  it('GET /workers serves the index, GET /workers/:id one worker', async () => {
    const list = await get('/workers');
    expect(list.headers['content-type']).toBe('application/json');
    expect(list.body).toBe(await readFile(join(catalogDir, 'workers.json'), 'utf8'));
    const one = await get('/workers/demo-worker-rbee-bin');
    expect(JSON.parse(one.body).id).toBe('demo-worker-rbee-bin');
  });

  it('GET /workers/:id/PKGBUILD picks the variant by query, defaulting to the server platform, flavor bin', async () => {
    const def = await get('/workers/demo-worker-rbee-bin/PKGBUILD');
    expect(def.status).toBe(200);
    expect(def.body).toContain('pkgname=demo-worker-rbee-bin');
    expect(def.headers['content-location']).toBe('/workers/demo-worker-rbee-bin/cpu/PKGBUILD');
    expect(def.headers['x-rbee-flavor']).toBe('bin');
    const git = await get('/workers/demo-worker-rbee-bin/PKGBUILD?flavor=git&backend=cpu');
    expect(git.body).toContain('pkgname=demo-worker-rbee\n');
    expect(git.headers['x-rbee-flavor']).toBe('git');
    const mac = await get('/workers/demo-worker-rbee-gpu/PKGBUILD?platform=macos&arch=aarch64');
    expect(mac.headers['x-rbee-variant']).toBe('metal');
    const none = await get('/workers/demo-worker-rbee-gpu/PKGBUILD?backend=cpu');
    expect(none.status).toBe(404);
    expect(JSON.parse(none.body).error.code).toBe('E_NO_COMPATIBLE_VARIANT');
    expect(JSON.parse(none.body).error.message).toContain('cuda (linux; x86_64; bin)');
    expect(JSON.parse((await get('/workers/demo-worker-rbee/PKGBUILD?backend=gpu')).body).error.code).toBe('E_BAD_QUERY');
  });

  it('serves local sources as static files', async () => {
    const r = await get('/workers/demo-worker-rbee/cpu/Makefile');
    expect(r.status).toBe(200);
    expect(r.body).toBe(await readFile(join(catalogDir, 'workers/demo-worker-rbee/cpu/Makefile'), 'utf8'));
    const gz = await get('/workers/demo-worker-rbee-bin/cpu/demo-worker-rbee-0.1.0-aarch64.tar.gz', {}, 'HEAD');
    expect(gz.headers['content-type']).toBe('application/gzip');
    expect(gz.body).toBe('');
    expect(Number(gz.headers['content-length'])).toBeGreaterThan(0);
  });

  it('JSON 404s, 405 for writes', async () => {
    const nf = await get('/workers/nope');
    expect(nf.status).toBe(404);
    expect(JSON.parse(nf.body)).toEqual({ error: { code: 'E_WORKER_NOT_FOUND', message: expect.any(String) } });
    expect(JSON.parse((await get('/nothing/here')).body).error.code).toBe('E_NOT_FOUND');
    expect(JSON.parse((await get('/workers/Not_Valid')).body).error.code).toBe('E_INVALID_WORKER_ID');
    const post = await request(new URL('/workers', base), { method: 'POST', body: '{}' });
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect(JSON.parse(await post.body.text()).error.code).toBe('E_METHOD_NOT_ALLOWED');
  });
});

describe('a broken catalog directory', () => {
  it('answers 500 E_CATALOG_RESPONSE for malformed documents, and the client reports it', async () => {
    const broken = await tempDir();
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(join(broken.dir, 'workers'));
    await writeFile(join(broken.dir, 'workers.json'), '{"workers": [');
    await writeFile(join(broken.dir, 'workers', 'half.json'), JSON.stringify({ id: 'half', name: 'h', version: '1', variants: [{ backend: 'cpu' }] }));
    const s = createCatalogServer(broken.dir);
    const u = await s.listen();
    try {
      const list = await request(new URL('/workers', u));
      expect(list.statusCode).toBe(500);
      expect(JSON.parse(await list.body.text()).error.code).toBe('E_CATALOG_RESPONSE');
      const pkg = await request(new URL('/workers/half/PKGBUILD', u));
      expect(pkg.statusCode).toBe(500);
      const err = JSON.parse(await pkg.body.text()).error;
      expect(err.code).toBe('E_CATALOG_RESPONSE');
      expect(err.message).toContain('variants[0].platforms');
      expect(err.message).not.toContain(broken.dir); // no server paths in answers
      const { CatalogClient } = await import('../src/index.js');
      const c = new CatalogClient({ url: u, cacheDir: false, retries: 0 });
      expect((await rejectionOf(c.getWorker('half'))).code).toBe('E_CATALOG_RESPONSE');
      await c.close();
    } finally {
      await s.close();
      await broken.cleanup();
    }
  });
});

describe('ETag and HEAD', () => {
  it('answers 304 to a matching If-None-Match, on API routes and static files', async () => {
    for (const path of ['/workers', '/workers/demo-worker-rbee', '/workers/demo-worker-rbee/PKGBUILD', '/workers/demo-worker-rbee/cpu/demo-worker.c']) {
      const first = await get(path);
      const etag = first.headers.etag as string;
      expect(etag, path).toMatch(/"/);
      const again = await get(path, { 'if-none-match': etag });
      expect(again.status, path).toBe(304);
      expect(again.body).toBe('');
      expect((await get(path, { 'if-none-match': '"other"' })).status).toBe(200);
    }
  });

  it('HEAD has the headers of GET and no body', async () => {
    const g = await get('/workers');
    const h = await get('/workers', {}, 'HEAD');
    expect(h.status).toBe(200);
    expect(h.body).toBe('');
    expect(h.headers['content-length']).toBe(g.headers['content-length']);
    expect(h.headers.etag).toBe(g.headers.etag);
  });
});

describe('traversal is refused', () => {
  const attempts: [string, number, string][] = [
    ['/../etc/passwd', 400, 'E_BAD_PATH'],
    ['/workers/../../etc/passwd', 400, 'E_BAD_PATH'],
    ['/workers/%2e%2e/%2e%2e/etc/passwd', 400, 'E_BAD_PATH'],
    ['/workers/%2E%2E/workers.json', 400, 'E_BAD_PATH'],
    ['/workers/demo-worker-rbee/cpu/..%2f..%2f..%2fworkers.json', 400, 'E_BAD_PATH'],
    ['/workers/..%5c..%5cetc', 400, 'E_BAD_PATH'],
    ['/workers/x%00.json', 400, 'E_BAD_PATH'],
    ['//etc/passwd', 400, 'E_BAD_PATH'],
    ['http://127.0.0.1/etc/passwd', 400, 'E_BAD_PATH'],
    ['/workers/./demo-worker-rbee', 400, 'E_BAD_PATH'],
    ['/%2fetc%2fpasswd', 400, 'E_BAD_PATH'],
    ['/workers/%ff%fe', 400, 'E_BAD_PATH'],
    ['/.git/config', 404, 'E_NOT_FOUND'],
    ['/workers/demo-worker-rbee/cpu/leak', 404, 'E_NOT_FOUND'],
  ];
  it.each(attempts)('%s → %i %s', async (target, status, code) => {
    const r = await raw(target);
    expect(r.status).toBe(status);
    expect(JSON.parse(r.body).error.code).toBe(code);
    expect(r.body).not.toContain('root:');
    expect(r.body).not.toContain(MARKER);
  });

  it('no path built from traversal pieces ever reaches a file outside the catalog', async () => {
    const piece = fc.constantFrom(
      '..', '%2e%2e', '%2E%2e', '.%2e', '.', '', '%00', 'SECRET', 'catalog', 'workers',
      'workers/demo-worker-rbee/cpu/leak', '..%2fSECRET', '%2fSECRET', '%5c..%5cSECRET', '%252e%252e',
    );
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 4 }), async (parts) => {
        const r = await raw(`/${parts.join('/')}`);
        expect([200, 304, 400, 404]).toContain(r.status);
        expect(r.body).not.toContain(MARKER);
      }),
      { numRuns: Number(process.env.FAST_CHECK_RUNS ?? 300) },
    );
  });
});
