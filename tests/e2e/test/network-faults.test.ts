/**
 * Network faults between the provisioner and the catalog/file servers, through a
 * fault-injecting loopback TCP proxy: resets, stalls, truncation, slow trickle and corruption.
 * Each install either succeeds (retry/resume) with the exact bytes the PKGBUILD's checksum names,
 * or fails with the documented code and installs nothing — never a file that did not verify.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchSources } from '@rbee/source-fetcher';
import { WorkerProvisioner, type ProvisionEvent } from '@rbee/worker-provisioner';
import { FaultProxy, type Fault } from './fault-proxy.js';
import { cleanupTemps, serveCatalog, sha256, tempDir, writeCatalog, type CatalogServer } from './helpers.js';

const PAYLOAD = randomBytes(1024 * 1024);
const PAYLOAD_SHA = sha256(PAYLOAD);
const ID = 'net-worker-rbee';

/** The payload inside a tar.gz (random bytes: the archive is about as large as the payload). */
function payloadArchive(dir: string): Buffer {
  mkdirSync(join(dir, 'tree'), { recursive: true });
  writeFileSync(join(dir, 'tree', 'payload.bin'), PAYLOAD);
  return execFileSync('tar', ['-czf', '-', '-C', join(dir, 'tree'), 'payload.bin'], { maxBuffer: 64 * 1024 * 1024 });
}
let ARCHIVE: Buffer;

function netWorker(proxyUrl: string): Parameters<typeof writeCatalog>[1][number] {
  const script = `#!/bin/sh\necho "${ID} 1.0.0"\n`;
  const pkgbuild = `pkgname=${ID}
pkgver=1.0.0
pkgrel=1
pkgdesc='e2e worker with a remote source'
arch=('x86_64' 'aarch64')
license=('MIT')
source=('payload.tar.gz::${proxyUrl}workers/${ID}/cpu/payload.tar.gz' '${ID}.sh')
sha256sums=('${sha256(ARCHIVE)}' '${sha256(script)}')

package() {
  install -Dm644 "$srcdir/payload.bin" "$pkgdir/usr/share/${ID}/payload.bin"
  install -Dm755 "$srcdir/${ID}.sh" "$pkgdir/usr/bin/${ID}"
}
`;
  return { id: ID, version: '1.0.0', pkgbuild, files: { 'payload.tar.gz': ARCHIVE, [`${ID}.sh`]: script }, binaryName: ID };
}

function expectInstalledVerified(home: string): void {
  const file = join(home, 'workers', ID, '1.0.0-1', 'usr', 'share', ID, 'payload.bin');
  expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(PAYLOAD_SHA);
}
function expectNothingInstalled(home: string): void {
  const dir = join(home, 'workers', ID);
  expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  // the download cache never holds an unverified file under its final name (a .part may stay for a resume)
  const cached = join(home, 'sources', 'payload.tar.gz');
  if (existsSync(cached)) expect(sha256(readFileSync(cached))).toBe(sha256(ARCHIVE));
}
describe('network faults through a loopback proxy', () => {
  let server: CatalogServer;
  let proxy: FaultProxy;

  beforeAll(async () => {
    const root = tempDir('rbee-e2e-net-');
    ARCHIVE = payloadArchive(root);
    const catalog = join(root, 'catalog');
    writeCatalog(catalog, []);
    server = await serveCatalog(catalog);
    const u = new URL(server.url);
    proxy = new FaultProxy({ host: u.hostname, port: Number(u.port) });
    const url = await proxy.listen();
    writeCatalog(catalog, [netWorker(url)]);
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.close();
    cleanupTemps();
  });

  /** A provisioner talking to the catalog through the proxy, with short (documented) timeouts/backoffs so faults resolve fast. */
  function provisioner(home: string): WorkerProvisioner {
    return new WorkerProvisioner({
      home,
      catalog: { url: proxy.url, retries: 2, retryDelayMs: 20, timeoutMs: 3000, cacheDir: false },
      stages: {
        fetchSources: (o) => fetchSources({ ...o, idleTimeout: 1500, retry: { retries: 3, minDelay: 20, maxDelay: 100 } }) as never,
      },
    });
  }

  async function install(fault: Fault | undefined): Promise<{ home: string; events: ProvisionEvent[]; applied: number; error?: { code?: string; name?: string } }> {
    const home = tempDir();
    proxy.setFault(fault);
    const p = provisioner(home);
    const events: ProvisionEvent[] = [];
    try {
      await p.provision(ID, { onEvent: (e) => events.push(e) });
      return { home, events, applied: proxy.applied };
    } catch (e) {
      return { home, events, applied: proxy.applied, error: e as { code?: string } };
    } finally {
      proxy.setFault(undefined);
      await p.close();
    }
  }

  /** install() with a fault that must actually hit at least one connection. */
  async function fired(fault: Fault): ReturnType<typeof install> {
    const r = await install(fault);
    expect(r.applied, `the ${fault.kind} fault hit a connection`).toBeGreaterThan(0);
    return r;
  }





  it('no fault: baseline install through the proxy', async () => {
    const r = await install(undefined);
    expect(r.error).toBeUndefined();
    expectInstalledVerified(r.home);
  });

  it('connection reset mid-download (twice): retried/resumed, installs the verified bytes', async () => {
    const r = await fired({ kind: 'reset', afterBytes: 300_000, times: 2 });
    expect(r.error, JSON.stringify(r.error)).toBeUndefined();
    expectInstalledVerified(r.home);
  });

  it('truncated body (clean FIN short of Content-Length, twice): succeeds by resuming', async () => {
    const r = await fired({ kind: 'truncate', afterBytes: 500_000, times: 2 });
    expect(r.error, JSON.stringify(r.error)).toBeUndefined();
    expectInstalledVerified(r.home);
  });

  it('truncated on every connection: E_DOWNLOAD_INCOMPLETE, nothing installed', async () => {
    const r = await fired({ kind: 'truncate', afterBytes: 200_000 });
    // every attempt resumes from the .part and is cut again 200 kB later: a 1 MiB body can still
    // complete within the retries, so both outcomes are allowed — but only these two
    if (r.error) {
      expect(r.error.code).toBe('E_DOWNLOAD_INCOMPLETE');
      expectNothingInstalled(r.home);
    } else expectInstalledVerified(r.home);
  });

  it('a reset on every connection of the download: E_DOWNLOAD_INCOMPLETE or E_NETWORK, nothing installed', async () => {
    const r = await fired({ kind: 'reset', afterBytes: 100_000 });
    if (r.error) {
      expect(['E_DOWNLOAD_INCOMPLETE', 'E_NETWORK']).toContain(r.error.code);
      expectNothingInstalled(r.home);
    } else expectInstalledVerified(r.home);
  });

  it('a bounded stall (1 s, under the idle timeout): succeeds', async () => {
    const r = await fired({ kind: 'stall', afterBytes: 300_000, stallMs: 1000, times: 1 });
    expect(r.error, JSON.stringify(r.error)).toBeUndefined();
    expectInstalledVerified(r.home);
  });

  it('a stall on every connection beyond the idle timeout: E_TIMEOUT, nothing installed', async () => {
    const r = await fired({ kind: 'stall', afterBytes: 300_000, stallMs: Infinity });
    expect(r.error?.code).toBe('E_TIMEOUT');
    expectNothingInstalled(r.home);
  });

  it('slow trickle (4 KiB every 10 ms): succeeds', async () => {
    const r = await fired({ kind: 'trickle', afterBytes: 100_000, trickleBytes: 8192, trickleMs: 10 });
    expect(r.error, JSON.stringify(r.error)).toBeUndefined();
    expectInstalledVerified(r.home);
  });

  it('one flipped byte on every connection: E_CHECKSUM_MISMATCH, nothing installed, and the cache is not poisoned', async () => {
    const r = await fired({ kind: 'corrupt', afterBytes: 400_000 });
    expect(r.error?.code).toBe('E_CHECKSUM_MISMATCH');
    expectNothingInstalled(r.home);
    // same home, network healthy again: installs the right bytes
    proxy.setFault(undefined);
    const p = provisioner(r.home);
    await p.provision(ID);
    await p.close();
    expectInstalledVerified(r.home);
  });

  it('catalog connections reset twice: the catalog client retries and the install succeeds', async () => {
    const r = await fired({ kind: 'reset', afterBytes: 0, times: 2 });
    expect(r.error, JSON.stringify(r.error)).toBeUndefined();
    expectInstalledVerified(r.home);
  });

  it('catalog unreachable (every connection reset): E_CATALOG_UNREACHABLE, nothing written', async () => {
    const r = await fired({ kind: 'reset', afterBytes: 0 });
    expect(r.error?.code).toBe('E_CATALOG_UNREACHABLE');
    expectNothingInstalled(r.home);
  });

  // (The fetcher's own test "resumes a .part left by an earlier (cancelled) run, across calls"
  // fails when the first call had no checksums; the provisioner always passes them, and this
  // end-to-end path resumes correctly.)
  it('an install cancelled mid-download leaves a .part that the next install resumes and verifies', async () => {
    const home = tempDir();
    proxy.setFault({ kind: 'trickle', afterBytes: 200_000, trickleBytes: 4096, trickleMs: 20 });
    const p = provisioner(home);
    const ac = new AbortController();
    const first = await p
      .provision(ID, {
        signal: ac.signal,
        onEvent: (e) => {
          if (e.type === 'progress' && e.phase === 'fetch' && e.label === 'payload.tar.gz' && e.current > 300_000) ac.abort();
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    proxy.setFault(undefined);
    expect(first?.name).toBe('AbortError');
    expect(existsSync(join(home, 'sources', 'payload.tar.gz.part'))).toBe(true);
    await p.provision(ID);
    await p.close();
    expectInstalledVerified(home);
  });
});

