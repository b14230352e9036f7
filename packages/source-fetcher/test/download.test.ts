import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { downloadFile, FetchError, USER_AGENT } from '../src/index.js';
import { startTestServer, type TestServer } from './http-server.js';
import { b2, bytes, cleanupTempDirs, rejectionOf, sha256, tempDir } from './helpers.js';

let srv: TestServer;
const fast = { retry: { retries: 2, minDelay: 10, maxDelay: 50 } };
const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv.close();
});
afterEach(async () => {
  srv.routes.clear();
  await cleanupTempDirs();
});

describe('downloadFile', () => {
  it('downloads, hashes in one pass with every algorithm, and renames into place', async () => {
    const body = bytes(300_000);
    srv.routes.set('/a.bin', { body });
    const dir = await tempDir();
    const dest = join(dir, 'a.bin');
    const r = await downloadFile({ url: `${srv.base()}/a.bin`, dest, checksums: { sha256: sha256(body), b2: b2(body).toUpperCase() }, algorithms: ['md5', 'ck'] });
    expect(r.fromCache).toBe(false);
    expect(r.bytes).toBe(body.length);
    expect(r.checksums.sha256).toBe(sha256(body));
    expect(r.checksums.b2).toBe(b2(body));
    expect(readFileSync(dest).equals(body)).toBe(true);
    expect(existsSync(`${dest}.part`)).toBe(false);
    expect(srv.log.at(-1)?.headers['user-agent']).toBe(USER_AGENT);
    expect(USER_AGENT).toMatch(/^rbee-source-fetcher\/\d+\.\d+\.\d+/);
  });

  it('uses the worker-thread hasher for large bodies with the same digests', async () => {
    const body = bytes(9 * 1024 * 1024, 7);
    srv.routes.set('/big.bin', { body });
    const dir = await tempDir();
    const r = await downloadFile({ url: `${srv.base()}/big.bin`, dest: join(dir, 'big.bin'), checksums: { sha256: sha256(body), b2: b2(body) }, hashWorker: true });
    expect(r.checksums.sha256).toBe(sha256(body));
  });

  it('hashes on worker threads across a resume: the hash state covers the .part and the rest', async () => {
    // Larger than the shared ring many times over, cut at an offset that is not slot-aligned.
    const body = bytes(12 * 1024 * 1024 + 5, 21);
    srv.routes.set('/big-cut', { body, dropAfter: 5 * 1024 * 1024 + 333, dropTimes: 1 });
    const dir = await tempDir();
    const dest = join(dir, 'big-cut.bin');
    const r = await downloadFile({ url: `${srv.base()}/big-cut`, dest, checksums: { sha256: sha256(body), b2: b2(body), md5: md5(body) }, hashWorker: true, ...fast });
    expect(r.resumed).toBe(true);
    expect(r.attempts).toBe(2);
    expect(r.checksums.b2).toBe(b2(body));
    expect(readFileSync(dest).equals(body)).toBe(true);
  });

  it('a cancelled worker-hashed download keeps its .part, and the next downloads (pooled hashers) are right', async () => {
    const body = bytes(10 * 1024 * 1024, 22);
    const stallAt = 6 * 1024 * 1024 + 17;
    srv.routes.set('/big-stall', { body, stallAfter: stallAt });
    const dir = await tempDir();
    const dest = join(dir, 'big-stall.bin');
    const ctrl = new AbortController();
    const e = await rejectionOf(
      downloadFile({ url: `${srv.base()}/big-stall`, dest, checksums: { sha256: sha256(body) }, hashWorker: true, signal: ctrl.signal, onProgress: (ev) => { if (ev.done >= stallAt) ctrl.abort(); } }),
    );
    expect(e.name).toBe('AbortError');
    expect(readFileSync(`${dest}.part`).length).toBe(stallAt);
    // Another file through the same (pooled) hashing threads and ring.
    const other = bytes(9 * 1024 * 1024 + 1, 23);
    srv.routes.set('/other', { body: other });
    const o = await downloadFile({ url: `${srv.base()}/other`, dest: join(dir, 'other.bin'), checksums: { sha256: sha256(other), b2: b2(other) }, hashWorker: true });
    expect(o.checksums).toEqual({ sha256: sha256(other), b2: b2(other) });
    // The cancelled one resumes: its .part is hashed again on the workers, then the rest.
    srv.routes.set('/big-stall', { body });
    const r = await downloadFile({ url: `${srv.base()}/big-stall`, dest, checksums: { sha256: sha256(body), b2: b2(body) }, hashWorker: true });
    expect(r.resumed).toBe(true);
    expect(srv.log.at(-1)?.headers.range).toBe(`bytes=${stallAt}-`);
    expect(readFileSync(dest).equals(body)).toBe(true);
  });

  it('makes zero requests for a cached file that verifies', async () => {
    const body = bytes(1000);
    srv.routes.set('/c.bin', { body });
    const dir = await tempDir();
    const dest = join(dir, 'c.bin');
    await downloadFile({ url: `${srv.base()}/c.bin`, dest, checksums: { sha256: sha256(body) } });
    const before = srv.count('/c.bin');
    const r = await downloadFile({ url: `${srv.base()}/c.bin`, dest, checksums: { sha256: sha256(body) } });
    expect(r.fromCache).toBe(true);
    expect(srv.count('/c.bin')).toBe(before);
  });

  it('moves a cached file that fails verification aside and fetches it again once', async () => {
    const body = bytes(1000, 3);
    srv.routes.set('/d.bin', { body });
    const dir = await tempDir();
    const dest = join(dir, 'd.bin');
    writeFileSync(dest, 'stale content');
    const r = await downloadFile({ url: `${srv.base()}/d.bin`, dest, checksums: { sha256: sha256(body) } });
    expect(r.fromCache).toBe(false);
    expect(readFileSync(`${dest}.invalid`, 'utf8')).toBe('stale content');
    expect(srv.count('/d.bin')).toBe(1);
  });

  it('takes over a lock left by a process that died', async () => {
    const body = bytes(500, 31);
    srv.routes.set('/locked', { body });
    const dir = await tempDir();
    const dest = join(dir, 'locked.bin');
    writeFileSync(`${dest}.lock`, '2147483646\n');
    const r = await downloadFile({ url: `${srv.base()}/locked`, dest, checksums: { sha256: sha256(body) } });
    expect(r.bytes).toBe(500);
    expect(existsSync(`${dest}.lock`)).toBe(false);
  });

  it('E_HTTP_STATUS on 404 without retrying', async () => {
    const dir = await tempDir();
    const e = await rejectionOf(downloadFile({ url: `${srv.base()}/missing`, dest: join(dir, 'm'), ...fast }));
    expect(FetchError.isInstance(e)).toBe(true);
    expect(e.code).toBe('E_HTTP_STATUS');
    expect(e.status).toBe(404);
    expect(srv.count('/missing')).toBe(1);
  });

  it('E_HTTP_STATUS on 500 after the retries', async () => {
    srv.routes.set('/e500', { body: Buffer.from('x'), statuses: [500, 500, 500, 500, 500] });
    const dir = await tempDir();
    const e = await rejectionOf(downloadFile({ url: `${srv.base()}/e500`, dest: join(dir, 'e'), ...fast }));
    expect(e.code).toBe('E_HTTP_STATUS');
    expect(e.status).toBe(500);
    expect(srv.count('/e500')).toBe(3);
  });

  it('retries 503 and 429 (honouring Retry-After) and then succeeds', async () => {
    const body = bytes(5000, 9);
    srv.routes.set('/flaky', { body, statuses: [503, 429], retryAfter: '0' });
    const dir = await tempDir();
    const r = await downloadFile({ url: `${srv.base()}/flaky`, dest: join(dir, 'f'), checksums: { sha256: sha256(body) }, ...fast });
    expect(r.attempts).toBe(3);
  });

  it('E_DOWNLOAD_INCOMPLETE when the connection is cut more often than the retries allow (the .part is kept)', async () => {
    const body = bytes(200_000, 4);
    srv.routes.set('/cut', { body, dropAfter: 50_000, ranges: false });
    const dir = await tempDir();
    const dest = join(dir, 'cut.bin');
    const e = await rejectionOf(downloadFile({ url: `${srv.base()}/cut`, dest, checksums: { sha256: sha256(body) }, ...fast }));
    expect(e.code).toBe('E_DOWNLOAD_INCOMPLETE');
    expect(srv.count('/cut')).toBe(3);
    expect(existsSync(`${dest}.part`)).toBe(true);
    expect(existsSync(dest)).toBe(false);
  });

  it('E_DOWNLOAD_INCOMPLETE when the body is shorter than Content-Length', async () => {
    const body = bytes(10_000, 5);
    srv.routes.set('/short', { body, contentLength: 20_000 });
    const dir = await tempDir();
    const e = await rejectionOf(downloadFile({ url: `${srv.base()}/short`, dest: join(dir, 's'), retry: { retries: 1, minDelay: 5 } }));
    expect(e.code).toBe('E_DOWNLOAD_INCOMPLETE');
  });

  it('resumes a cut download with Range + If-Range and gets the right bytes', async () => {
    const body = bytes(400_000, 6);
    srv.routes.set('/resume', { body, dropAfter: 150_000, dropTimes: 1 });
    const dir = await tempDir();
    const r = await downloadFile({ url: `${srv.base()}/resume`, dest: join(dir, 'r.bin'), checksums: { sha256: sha256(body), b2: b2(body) }, ...fast });
    expect(r.resumed).toBe(true);
    const second = srv.log.filter((l) => l.path === '/resume')[1];
    expect(second?.headers.range).toBe('bytes=150000-');
    expect(second?.headers['if-range']).toBe(`"rbee-${body.length.toString(16)}"`);
    expect(readFileSync(join(dir, 'r.bin')).equals(body)).toBe(true);
  });

  it('resumes a .part left by an earlier (cancelled) run, across calls', async () => {
    const body = bytes(300_000, 8);
    srv.routes.set('/later', { body, dropAfter: 100_000, dropTimes: 1 });
    const dir = await tempDir();
    const dest = join(dir, 'later.bin');
    await rejectionOf(downloadFile({ url: `${srv.base()}/later`, dest, retry: { retries: 0 } }));
    expect(readFileSync(`${dest}.part`).length).toBe(100_000);
    const r = await downloadFile({ url: `${srv.base()}/later`, dest, checksums: { sha256: sha256(body) } });
    expect(r.resumed).toBe(true);
    expect(srv.log.at(-1)?.headers.range).toBe('bytes=100000-');
  });

  it('restarts from zero when the server ignores Range (200 reply)', async () => {
    const body = bytes(100_000, 10);
    srv.routes.set('/norange', { body, ranges: false, dropAfter: 30_000, dropTimes: 1 });
    const dir = await tempDir();
    const r = await downloadFile({ url: `${srv.base()}/norange`, dest: join(dir, 'n'), checksums: { sha256: sha256(body) }, ...fast });
    expect(r.resumed).toBe(false);
    expect(r.bytes).toBe(body.length);
  });

  it('E_CHECKSUM_MISMATCH carries expected and actual and leaves neither file nor .part', async () => {
    const body = bytes(2000, 11);
    srv.routes.set('/bad', { body });
    const dir = await tempDir();
    const dest = join(dir, 'bad');
    const e = await rejectionOf(downloadFile({ url: `${srv.base()}/bad`, dest, checksums: { sha256: '0'.repeat(64) } }));
    expect(e.code).toBe('E_CHECKSUM_MISMATCH');
    expect(e.expected).toBe('0'.repeat(64));
    expect(e.actual).toBe(sha256(body));
    expect(e.algorithm).toBe('sha256');
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('E_TIMEOUT when the server stalls mid-body', async () => {
    srv.routes.set('/stall', { body: bytes(100_000), stallAfter: 1000 });
    const dir = await tempDir();
    const e = await rejectionOf(downloadFile({ url: `${srv.base()}/stall`, dest: join(dir, 's'), idleTimeout: 300, retry: { retries: 1, minDelay: 5 } }));
    expect(e.code).toBe('E_TIMEOUT');
  });

  it('E_TIMEOUT when headers never come', async () => {
    srv.routes.set('/slowhead', { body: bytes(10), headerDelay: 5000 });
    const dir = await tempDir();
    const e = await rejectionOf(downloadFile({ url: `${srv.base()}/slowhead`, dest: join(dir, 's'), idleTimeout: 200, retry: { retries: 0 } }));
    expect(e.code).toBe('E_TIMEOUT');
  });

  it('follows redirects, and E_TOO_MANY_REDIRECTS past the limit', async () => {
    const body = bytes(1000, 12);
    srv.routes.set('/r1', { redirect: '/r2' });
    srv.routes.set('/r2', { redirect: `${srv.base('127.0.0.2')}/r3` });
    srv.routes.set('/r3', { body });
    const dir = await tempDir();
    const r = await downloadFile({ url: `${srv.base()}/r1`, dest: join(dir, 'r'), checksums: { sha256: sha256(body) } });
    expect(r.finalUrl).toBe(`${srv.base('127.0.0.2')}/r3`);
    srv.routes.set('/loop', { redirect: '/loop' });
    const e = await rejectionOf(downloadFile({ url: `${srv.base()}/loop`, dest: join(dir, 'l'), maxRedirects: 3 }));
    expect(e.code).toBe('E_TOO_MANY_REDIRECTS');
    expect(srv.count('/loop')).toBe(4);
  });

  it('sends credentials only to their host and drops them on a cross-host redirect', async () => {
    const body = bytes(100, 13);
    srv.routes.set('/private', { redirect: `${srv.base('127.0.0.2')}/cdn` });
    srv.routes.set('/cdn', { body });
    const dir = await tempDir();
    await downloadFile({ url: `${srv.base()}/private`, dest: join(dir, 'p'), auth: { '127.0.0.1': 'Bearer s3cret' }, env: {} });
    const first = srv.log.find((l) => l.path === '/private');
    const second = srv.log.find((l) => l.path === '/cdn');
    expect(first?.headers.authorization).toBe('Bearer s3cret');
    expect(second?.host).toBe(`127.0.0.2:${srv.port}`);
    expect(second?.headers.authorization).toBeUndefined();
  });

  it('reads credentials from RBEE_SOURCE_AUTH_<HOST> and RBEE_SOURCE_AUTH (JSON)', async () => {
    srv.routes.set('/env', { body: bytes(10) });
    const dir = await tempDir();
    await downloadFile({ url: `${srv.base()}/env`, dest: join(dir, 'e1'), env: { RBEE_SOURCE_AUTH_127_0_0_1: 'Token one' } });
    expect(srv.log.at(-1)?.headers.authorization).toBe('Token one');
    await downloadFile({ url: `${srv.base('127.0.0.2')}/env`, dest: join(dir, 'e2'), env: { RBEE_SOURCE_AUTH: JSON.stringify({ [`127.0.0.2:${srv.port}`]: { header: 'X-Api-Key', value: 'k2' } }) } });
    expect(srv.log.at(-1)?.headers['x-api-key']).toBe('k2');
    expect(srv.log.at(-1)?.headers.authorization).toBeUndefined();
  });

  it('survives Connection: close and HTTP/1.0-style close-delimited bodies', async () => {
    const body = bytes(3 * 1024 * 1024, 14);
    srv.routes.set('/close', { body, closeDelimited: true });
    srv.routes.set('/cc', { body, connectionClose: true });
    const dir = await tempDir();
    for (let i = 0; i < 3; i++) {
      const r = await downloadFile({ url: `${srv.base()}/close`, dest: join(dir, `c${i}`), checksums: { sha256: sha256(body) }, hashWorker: i === 1 });
      expect(r.bytes).toBe(body.length);
      const r2 = await downloadFile({ url: `${srv.base()}/cc`, dest: join(dir, `cc${i}`), checksums: { sha256: sha256(body) } });
      expect(r2.bytes).toBe(body.length);
    }
  });

  it('rejects with an AbortError on cancel and keeps the .part', async () => {
    srv.routes.set('/slow', { body: bytes(100_000), stallAfter: 20_000 });
    const dir = await tempDir();
    const dest = join(dir, 'slow');
    const ctrl = new AbortController();
    const p = downloadFile({ url: `${srv.base()}/slow`, dest, signal: ctrl.signal, onProgress: (ev) => { if (ev.done >= 20_000) ctrl.abort(); } });
    const e = await rejectionOf(p);
    expect(e.name).toBe('AbortError');
    expect(readFileSync(`${dest}.part`).length).toBe(20_000);
  });

  it('reports throttled progress with done/total/rate', async () => {
    const body = bytes(2 * 1024 * 1024, 15);
    srv.routes.set('/prog', { body });
    const dir = await tempDir();
    const events: { done: number; total?: number; phase: string }[] = [];
    await downloadFile({ url: `${srv.base()}/prog`, dest: join(dir, 'p'), onProgress: (e) => events.push(e) });
    expect(events.at(-1)).toMatchObject({ done: body.length, total: body.length, phase: 'done' });
    expect(events.length).toBeLessThan(50);
  });
});
