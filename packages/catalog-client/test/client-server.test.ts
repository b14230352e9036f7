/**
 * The client against the reference server on loopback, serving the example catalog — and the
 * same calls against the directory itself, which must agree.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CatalogClient, CatalogError, type CatalogWarning } from '../src/index.js';
import { createCatalogServer, type CatalogRequestLog, type CatalogServer } from '../src/server.js';
import { ensureExampleArchives, exampleCatalog, readAll, rejectionOf, tempDir } from './helpers.js';

let server: CatalogServer;
let url: string;
let cache: { dir: string; cleanup: () => Promise<void> };
const log: CatalogRequestLog[] = [];

beforeAll(async () => {
  await ensureExampleArchives();
  server = createCatalogServer({ dir: exampleCatalog, onRequest: (e) => log.push(e) });
  url = await server.listen(0, '127.0.0.1');
  cache = await tempDir();
});
afterAll(async () => {
  await server.close();
  await cache.cleanup();
});

const linux = { platform: 'linux', arch: 'x86_64' } as const;

describe.each([
  ['http', () => new CatalogClient({ url, cacheDir: false, retries: 0 })],
  ['directory', () => new CatalogClient({ url: exampleCatalog })],
])('%s catalog', (_kind, make) => {
  it('lists every worker, flat entries as one-variant workers', async () => {
    const client = make();
    const workers = await client.listWorkers();
    expect(workers.map((w) => w.id)).toEqual([
      'demo-worker-rbee',
      'demo-worker-rbee-bin',
      'demo-worker-rbee-dyn',
      'demo-worker-rbee-gpu',
      'demo-worker-rbee-legacy-cpu',
    ]);
    const legacy = workers.find((w) => w.id === 'demo-worker-rbee-legacy-cpu')!;
    expect(legacy.variants).toHaveLength(1);
    expect(legacy.variants[0]).toMatchObject({ backend: 'cpu', platforms: ['linux'], binaryName: 'demo-worker-rbee' });
    // unknown fields (workerType) do not leak into the result
    expect(legacy).not.toHaveProperty('workerType');
    await client.close();
  });

  it('gets one worker and resolves specs to variants and PKGBUILD URLs', async () => {
    const client = make();
    const w = await client.getWorker('demo-worker-rbee');
    expect(w.variants[0]?.binaryName).toBe('demo-worker-rbee');

    const plain = await client.resolve('demo-worker-rbee', linux);
    expect(plain.variant.backend).toBe('cpu');
    expect(plain.flavor).toBe('bin');
    expect(plain.pkgbuildUrl.endsWith('/workers/demo-worker-rbee/cpu/PKGBUILD')).toBe(true);

    // worker + backend suffix, with @version
    const suffixed = await client.resolve('demo-worker-rbee-cpu@0.1.0', { ...linux, arch: 'aarch64' });
    expect(suffixed.worker.id).toBe('demo-worker-rbee');
    expect(suffixed.variant.backend).toBe('cpu');

    // exact id wins over the suffix rule
    const legacy = await client.resolve('demo-worker-rbee-legacy-cpu', linux);
    expect(legacy.worker.id).toBe('demo-worker-rbee-legacy-cpu');

    // flavor git picks pkgbuildUrlGit
    const git = await client.resolve('demo-worker-rbee-bin', { ...linux, flavor: 'git' });
    expect(git.flavor).toBe('git');
    expect(git.pkgbuildUrl.endsWith('/workers/demo-worker-rbee/cpu/PKGBUILD')).toBe(true);

    // without a backend, the first variant for the platform: cuda on linux, metal on macos
    expect((await client.resolve('demo-worker-rbee-gpu', linux)).variant.backend).toBe('cuda');
    expect((await client.resolve('demo-worker-rbee-gpu', { platform: 'macos', arch: 'aarch64' })).variant.backend).toBe('metal');
    await client.close();
  });

  it('downloads a PKGBUILD and its local sources next to it', async () => {
    const client = make();
    const resolved = await client.resolve('demo-worker-rbee', linux);
    const pkg = await client.getPkgbuild(resolved);
    const onDisk = await readFile(join(exampleCatalog, 'workers/demo-worker-rbee/cpu/PKGBUILD'), 'utf8');
    expect(pkg.text).toBe(onDisk);
    expect(pkg.sha256).toBe(createHash('sha256').update(onDisk).digest('hex'));
    expect(pkg.baseUrl.endsWith('/workers/demo-worker-rbee/cpu/')).toBe(true);
    const source = await readAll(await client.getFile(pkg.baseUrl, 'demo-worker.c'));
    expect(source).toBe(await readFile(join(exampleCatalog, 'workers/demo-worker-rbee/cpu/demo-worker.c'), 'utf8'));

    const bin = await client.getPkgbuild(await client.resolve('demo-worker-rbee-bin', linux));
    const archive = await client.getFile(bin.baseUrl, 'demo-worker-rbee-0.1.0-x86_64.tar.gz');
    const chunks: Buffer[] = [];
    for await (const c of archive) chunks.push(c as Buffer);
    const expected = await readFile(join(exampleCatalog, 'workers/demo-worker-rbee-bin/cpu/demo-worker-rbee-0.1.0-x86_64.tar.gz'));
    expect(Buffer.concat(chunks).equals(expected)).toBe(true);
    await client.close();
  });

  it('E_WORKER_NOT_FOUND lists the ids the catalog has', async () => {
    const client = make();
    const e = await rejectionOf(client.resolve('no-such-worker', linux));
    expect(CatalogError.isInstance(e)).toBe(true);
    expect(e.code).toBe('E_WORKER_NOT_FOUND');
    expect(e.message).toContain('demo-worker-rbee-bin');
    expect((e as CatalogError).availableIds).toContain('demo-worker-rbee');
    expect((await rejectionOf(client.getWorker('no-such-worker'))).code).toBe('E_WORKER_NOT_FOUND');
    // a backend suffix on an unknown base is still not found
    expect((await rejectionOf(client.resolve('no-such-worker-cuda', linux))).code).toBe('E_WORKER_NOT_FOUND');
    await client.close();
  });

  it('E_NO_COMPATIBLE_VARIANT says what exists and what was asked', async () => {
    const client = make();
    const e = (await rejectionOf(client.resolve('demo-worker-rbee-gpu', { ...linux, backend: 'cpu' }))) as CatalogError;
    expect(e.code).toBe('E_NO_COMPATIBLE_VARIANT');
    expect(e.message).toContain('cuda (linux; x86_64; bin)');
    expect(e.message).toContain('metal (macos; aarch64; bin)');
    expect(e.message).toContain('backend cpu');
    expect(e.available?.map((a) => a.backend)).toEqual(['cuda', 'metal']);
    expect(e.requested).toMatchObject({ platform: 'linux', arch: 'x86_64', backend: 'cpu' });

    expect((await rejectionOf(client.resolve('demo-worker-rbee', { platform: 'windows', arch: 'x86_64' }))).code).toBe('E_NO_COMPATIBLE_VARIANT');
    expect((await rejectionOf(client.resolve('demo-worker-rbee-dyn', { ...linux, flavor: 'git' }))).code).toBe('E_NO_COMPATIBLE_VARIANT');
    // suffix backend and option backend disagree
    expect((await rejectionOf(client.resolve('demo-worker-rbee-cpu', { ...linux, backend: 'cuda' }))).code).toBe('E_NO_COMPATIBLE_VARIANT');
    await client.close();
  });

  it('E_VERSION_NOT_FOUND names the version the catalog has', async () => {
    const client = make();
    const e = (await rejectionOf(client.resolve('demo-worker-rbee@9.9.9', linux))) as CatalogError;
    expect(e.code).toBe('E_VERSION_NOT_FOUND');
    expect(e.availableVersions).toEqual(['0.1.0']);
    await client.close();
  });

  it('E_INVALID_WORKER_ID before any request or path is built', async () => {
    const client = make();
    const before = log.length;
    for (const bad of ['../etc/passwd', 'Demo', '-rf', '', 'a/b', 'a%2fb', 'a b', 'x\0y', '.hidden', 'demo@', '@1.0']) {
      const e = await rejectionOf(client.resolve(bad));
      expect(e.code, bad).toBe('E_INVALID_WORKER_ID');
    }
    expect((await rejectionOf(client.getWorker('../../workers'))).code).toBe('E_INVALID_WORKER_ID');
    expect(log.length).toBe(before);
    await client.close();
  });

  it('E_INVALID_FILE_NAME / E_FILE_NOT_FOUND for local sources', async () => {
    const client = make();
    const pkg = await client.getPkgbuild(await client.resolve('demo-worker-rbee', linux));
    for (const bad of ['../PKGBUILD', '..', 'a/b', '-rf', '', 'x\0', '..\\x']) {
      expect((await rejectionOf(client.getFile(pkg.baseUrl, bad))).code, bad).toBe('E_INVALID_FILE_NAME');
    }
    expect((await rejectionOf(client.getFile(pkg.baseUrl, 'missing.c'))).code).toBe('E_FILE_NOT_FOUND');
    await client.close();
  });

  it('cancellation rejects with an AbortError', async () => {
    const client = make();
    const ac = new AbortController();
    ac.abort();
    const e = await rejectionOf(client.listWorkers({ signal: ac.signal }));
    expect(e.name).toBe('AbortError');
    await client.close();
  });
});

describe('directory mode specifics', () => {
  it('returns the local directory of a PKGBUILD and refuses file URLs outside the catalog', async () => {
    const client = new CatalogClient({ url: exampleCatalog });
    const pkg = await client.getPkgbuild(await client.resolve('demo-worker-rbee-bin', linux));
    expect(pkg.dir).toBe(join(exampleCatalog, 'workers/demo-worker-rbee-bin/cpu'));
    expect(fileURLToPath(pkg.baseUrl)).toBe(`${pkg.dir}/`);
    expect((await rejectionOf(client.getPkgbuild({ pkgbuildUrl: 'file:///etc/passwd' }))).code).toBe('E_INVALID_OPTIONS');
    expect((await rejectionOf(client.getFile('file:///etc/', 'passwd'))).code).toBe('E_INVALID_OPTIONS');
  });

  it('E_INVALID_OPTIONS for a directory that does not exist', async () => {
    const client = new CatalogClient({ url: join(exampleCatalog, 'no-such-dir') });
    expect((await rejectionOf(client.listWorkers())).code).toBe('E_INVALID_OPTIONS');
    expect((await rejectionOf(client.getWorker('demo-worker-rbee'))).code).toBe('E_INVALID_OPTIONS');
  });

  it('works without workers.json (index built from workers/*.json)', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const { cp, rm } = await import('node:fs/promises');
      await cp(exampleCatalog, dir, { recursive: true });
      await rm(join(dir, 'workers.json'));
      const client = new CatalogClient({ url: dir });
      expect((await client.listWorkers()).length).toBe(5);
      const s = createCatalogServer(dir);
      const u = await s.listen();
      try {
        const http = new CatalogClient({ url: u, cacheDir: false });
        expect((await http.listWorkers()).map((w) => w.id)).toEqual((await client.listWorkers()).map((w) => w.id));
        await http.close();
      } finally {
        await s.close();
      }
    } finally {
      await cleanup();
    }
  });
});

describe('ETag revalidation against the reference server', () => {
  it('stores answers, revalidates with If-None-Match (304) and serves offline with an age warning', async () => {
    const warnings: CatalogWarning[] = [];
    const client = new CatalogClient({ url, cacheDir: cache.dir, retries: 0 });
    const first = await client.listWorkers();
    const before = log.length;
    const again = await client.listWorkers();
    expect(again).toEqual(first);
    const hit = log.slice(before).find((e) => e.path === '/workers');
    expect(hit?.status).toBe(304);
    const resolved = await client.resolve('demo-worker-rbee-bin', linux);
    const pkg = await client.getPkgbuild(resolved);
    // GET /workers/demo-worker-rbee-cpu is a 404, then /workers/demo-worker-rbee answers
    await client.resolve('demo-worker-rbee-cpu', linux);
    await client.close();

    const offline = new CatalogClient({ url, cacheDir: cache.dir, offline: true, onWarning: (w) => warnings.push(w) });
    const beforeOffline = log.length;
    const r2 = await offline.resolve('demo-worker-rbee-bin', linux);
    const pkg2 = await offline.getPkgbuild(r2);
    expect(pkg2.text).toBe(pkg.text);
    expect(pkg2.fromCache).toBe(true);
    expect(log.length).toBe(beforeOffline); // no request at all
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]).toMatchObject({ code: 'W_STALE_CACHE', reason: 'offline' });
    expect(warnings[0]!.message).toMatch(/from \d+ s ago/);
    // the remembered 404 lets the backend-suffix rule work offline too
    expect((await offline.resolve('demo-worker-rbee-cpu', linux)).worker.id).toBe('demo-worker-rbee');
    // never cached → offline has nothing to give
    expect((await rejectionOf(offline.getWorker('demo-worker-rbee-gpu'))).code).toBe('E_CATALOG_UNREACHABLE');
  });
});
