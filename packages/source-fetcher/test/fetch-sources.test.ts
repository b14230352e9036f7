import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fetchSources, FetchError, hasBsdtar, SCAN_VERSION, type ArchiveScan, type ProgressEvent } from '../src/index.js';
import { startTestServer, type TestServer } from './http-server.js';
import { b2, bytes, cleanupTempDirs, pkgbuild, rejectionOf, sha256, tempDir } from './helpers.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv.close();
});
afterEach(async () => {
  srv.routes.clear();
  srv.log.length = 0;
  await cleanupTempDirs();
});

async function dirs(): Promise<{ startdir: string; srcdest: string; srcdir: string }> {
  const base = await tempDir('rbee-job-');
  const startdir = join(base, 'pkg');
  mkdirSync(startdir);
  return { startdir, srcdest: join(base, 'sources'), srcdir: join(startdir, 'src') };
}

async function tarball(): Promise<Buffer> {
  const d = await tempDir();
  mkdirSync(join(d, 'demo-1.0'));
  writeFileSync(join(d, 'demo-1.0', 'main.c'), 'int main(void) { return 0; }\n');
  execFileSync('tar', ['-czf', join(d, 'demo.tgz'), '-C', d, 'demo-1.0']);
  return readFileSync(join(d, 'demo.tgz'));
}

describe('fetchSources', () => {
  it('fetches http + arch-specific + local sources, verifies every algorithm, links and extracts like makepkg', async () => {
    const tgz = await tarball();
    const blob = bytes(5000, 2);
    srv.routes.set('/demo-1.0.tar.gz', { body: tgz });
    srv.routes.set('/dl.php', { body: blob });
    const d = await dirs();
    writeFileSync(join(d.startdir, 'fix.patch'), 'patch\n');
    const pb = pkgbuild({
      source: [`${srv.base()}/demo-1.0.tar.gz`, 'fix.patch'],
      source_x86_64: [`blob-x86_64.bin::${srv.base()}/dl.php?id=3`],
      source_aarch64: [`${srv.base()}/never`],
      sha256sums: [sha256(tgz), sha256('patch\n')],
      b2sums: [b2(tgz), 'SKIP'],
      sha256sums_x86_64: [sha256(blob)],
      sha256sums_aarch64: ['SKIP'],
    });
    const events: ProgressEvent[] = [];
    const r = await fetchSources({ pkgbuild: pb, carch: 'x86_64', ...d, onProgress: (e) => events.push(e) });
    expect(r.map((x) => x.entry.filename)).toEqual(['demo-1.0.tar.gz', 'fix.patch', 'blob-x86_64.bin']);
    expect(r[0]?.checksums).toEqual({ sha256: sha256(tgz), b2: b2(tgz) });
    expect(r[1]?.path).toBe(join(d.startdir, 'fix.patch'));
    expect(readlinkSync(join(d.srcdir, 'demo-1.0.tar.gz'))).toBe(join(d.srcdest, 'demo-1.0.tar.gz'));
    expect(readlinkSync(join(d.srcdir, 'fix.patch'))).toBe(join(d.startdir, 'fix.patch'));
    expect(readFileSync(join(d.srcdir, 'demo-1.0', 'main.c'), 'utf8')).toContain('main');
    expect(readFileSync(join(d.srcdest, 'blob-x86_64.bin')).equals(blob)).toBe(true);
    expect(srv.count('/never')).toBe(0);
    expect(events.some((e) => e.label === 'demo-1.0.tar.gz' && e.phase === 'done')).toBe(true);
  });

  it('a second fetch of the same sources makes zero requests', async () => {
    const tgz = await tarball();
    srv.routes.set('/demo-1.0.tar.gz', { body: tgz });
    const d = await dirs();
    const pb = pkgbuild({ source: [`${srv.base()}/demo-1.0.tar.gz`], sha256sums: [sha256(tgz)] });
    await fetchSources({ pkgbuild: pb, ...d });
    const n = srv.log.length;
    const r = await fetchSources({ pkgbuild: pb, ...d, srcdir: join(d.startdir, 'src2') });
    expect(r[0]?.fromCache).toBe(true);
    expect(srv.log.length).toBe(n);
    expect(existsSync(join(d.startdir, 'src2', 'demo-1.0', 'main.c'))).toBe(true);
  });

  it.skipIf(!hasBsdtar())('reports each archive\'s scan, and extracts with a scan it is given without checking again', async () => {
    const tgz = await tarball();
    srv.routes.set('/demo-1.0.tar.gz', { body: tgz });
    const d = await dirs();
    const pb = pkgbuild({ source: [`${srv.base()}/demo-1.0.tar.gz`], sha256sums: [sha256(tgz)] });
    const [first] = await fetchSources({ pkgbuild: pb, ...d });
    const scan = first?.extracted?.scan;
    expect(scan).toEqual({ version: SCAN_VERSION, entries: first?.extracted?.entries, bytes: first?.extracted?.bytes });
    // the given scan's totals come back (no checking pass counted anything)
    const [again] = await fetchSources({ pkgbuild: pb, ...d, srcdir: join(d.startdir, 'src2'), scans: { 'demo-1.0.tar.gz': { ...(scan as ArchiveScan), entries: 999 } } });
    expect(again?.extracted?.entries).toBe(999);
    expect(existsSync(join(d.startdir, 'src2', 'demo-1.0', 'main.c'))).toBe(true);
  });

  it('honours noextract (the file is linked, not unpacked)', async () => {
    const tgz = await tarball();
    srv.routes.set('/demo-1.0.tar.gz', { body: tgz });
    const d = await dirs();
    await fetchSources({ pkgbuild: pkgbuild({ source: [`${srv.base()}/demo-1.0.tar.gz`], sha256sums: ['SKIP'], noextract: ['demo-1.0.tar.gz'] }), ...d });
    expect(readdirSync(d.srcdir)).toEqual(['demo-1.0.tar.gz']);
    expect(lstatSync(join(d.srcdir, 'demo-1.0.tar.gz')).isSymbolicLink()).toBe(true);
  });

  it('copies file:// sources into srcdest', async () => {
    const other = await tempDir();
    writeFileSync(join(other, 'data.txt'), 'from file url\n');
    const d = await dirs();
    const r = await fetchSources({ pkgbuild: pkgbuild({ source: [pathToFileURL(join(other, 'data.txt')).href], sha256sums: [sha256('from file url\n')] }), ...d });
    expect(r[0]?.path).toBe(join(d.srcdest, 'data.txt'));
    expect(readFileSync(join(d.srcdir, 'data.txt'), 'utf8')).toBe('from file url\n');
  });

  it('E_CHECKSUM_COUNT when a checksum array differs in length, or a source array has none', async () => {
    const d = await dirs();
    const e1 = await rejectionOf(fetchSources({ pkgbuild: pkgbuild({ source: ['a', 'b'], sha256sums: ['SKIP'] }), ...d }));
    expect(e1.code).toBe('E_CHECKSUM_COUNT');
    expect(e1.algorithm).toBe('sha256');
    const e2 = await rejectionOf(fetchSources({ pkgbuild: pkgbuild({ source: ['a'], sha256sums: ['SKIP'], source_x86_64: ['b'] }), ...d }));
    expect(e2.code).toBe('E_CHECKSUM_COUNT');
    expect(srv.log.length).toBe(0);
  });

  it('E_CHECKSUM_MISMATCH for a local file, with expected and actual', async () => {
    const d = await dirs();
    writeFileSync(join(d.startdir, 'x.patch'), 'x');
    const e = await rejectionOf(fetchSources({ pkgbuild: pkgbuild({ source: ['x.patch'], md5sums: ['0'.repeat(32)] }), ...d }));
    expect(e.code).toBe('E_CHECKSUM_MISMATCH');
    expect(e.expected).toBe('0'.repeat(32));
    expect(e.actual).toBe('9dd4e461268c8034f5c8564e155c67a6');
  });

  it('E_SOURCE_NOT_FOUND for a missing local file', async () => {
    const d = await dirs();
    const e = await rejectionOf(fetchSources({ pkgbuild: pkgbuild({ source: ['missing.patch'], sha256sums: ['SKIP'] }), ...d }));
    expect(e.code).toBe('E_SOURCE_NOT_FOUND');
  });

  it('E_UNSUPPORTED_PROTOCOL for ftp, scp, bzr and fossil, before any download', async () => {
    const d = await dirs();
    for (const s of ['ftp://ftp.example.org/a.tar.gz', 'scp://host/a.tar.gz', 'bzr+lp:foo', 'fossil+https://example.org/proj']) {
      const e = await rejectionOf(fetchSources({ pkgbuild: pkgbuild({ source: [`${srv.base()}/x`, s], sha256sums: ['SKIP', 'SKIP'] }), ...d }));
      expect(FetchError.isInstance(e)).toBe(true);
      expect(e.code).toBe('E_UNSUPPORTED_PROTOCOL');
    }
    expect(srv.log.length).toBe(0);
  });

  it('E_INVALID_SOURCE for a name that would leave srcdest', async () => {
    const d = await dirs();
    const e = await rejectionOf(fetchSources({ pkgbuild: pkgbuild({ source: [`../../evil::${srv.base()}/x`], sha256sums: ['SKIP'] }), ...d }));
    expect(e.code).toBe('E_INVALID_SOURCE');
  });

  it('stops every download on cancel (AbortError), keeps .part files and leaves srcdir empty', async () => {
    srv.routes.set('/s1', { body: bytes(100_000, 1), stallAfter: 10_000 });
    srv.routes.set('/s2', { body: bytes(100_000, 2), stallAfter: 10_000 });
    const d = await dirs();
    const ctrl = new AbortController();
    const seen = new Set<string>();
    const p = fetchSources({
      pkgbuild: pkgbuild({ source: [`${srv.base()}/s1`, `${srv.base()}/s2`], sha256sums: ['SKIP', 'SKIP'] }),
      ...d,
      signal: ctrl.signal,
      onProgress: (e) => {
        if (e.done >= 10_000) seen.add(e.label);
        if (seen.size === 2) ctrl.abort();
      },
    });
    const e = await rejectionOf(p);
    expect(e.name).toBe('AbortError');
    expect(readFileSync(join(d.srcdest, 's1.part')).length).toBe(10_000);
    expect(readFileSync(join(d.srcdest, 's2.part')).length).toBe(10_000);
    expect(existsSync(d.srcdir)).toBe(false);
  });

  it('runs downloads concurrently up to `concurrency`', async () => {
    for (let i = 0; i < 6; i++) srv.routes.set(`/c${i}`, { body: bytes(1000, i), headerDelay: 150 });
    const d = await dirs();
    let open = 0;
    let peak = 0;
    const active = new Set<string>();
    await fetchSources({
      pkgbuild: pkgbuild({ source: Array.from({ length: 6 }, (_, i) => `${srv.base()}/c${i}`), sha256sums: Array(6).fill('SKIP') }),
      ...d,
      concurrency: 3,
      onProgress: (e) => {
        if (e.phase === 'download' && !active.has(e.label)) {
          active.add(e.label);
          open++;
          peak = Math.max(peak, open);
        }
        if (e.phase === 'done') open--;
      },
    });
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
  });
});
