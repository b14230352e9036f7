/**
 * Attacks, end to end through the provisioner (the packages' unit tests cover the pieces; this
 * proves the composition refuses them): hostile archives of a prebuilt worker, a catalog that
 * answers with traversal, redirects that would carry the catalog token or source credentials to
 * another host, a build() that tries to escape its sandbox, and a PKGBUILD whose top level never
 * finishes. Each asserts the refusal and that nothing was written where it must not be.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectPkgbuild } from '@rbee/pkgbuild-executor';
import { WorkerProvisioner, type ProvisionEvent } from '@rbee/worker-provisioner';
import { tarGz, zip, type TarEntry } from './archives.js';
import { binWorker, cleanupTemps, REPO, serveCatalog, sha256, tempDir, token, tree, workerJson, writeCatalog, type CatalogServer } from './helpers.js';

const T = token();
const PWNED = `pwned-${T}`;

/** Every path under `dir` whose name contains the attack token. */
function findPwned(dir: string): string[] {
  return tree(dir).filter((p) => p.includes(PWNED));
}

async function provision(
  home: string,
  catalog: unknown,
  id: string,
  extra: Record<string, unknown> = {},
): Promise<{ error?: { code?: string; name?: string; message?: string }; events: ProvisionEvent[] }> {
  const p = new WorkerProvisioner({ home, catalog: catalog as string, ...extra });
  const events: ProvisionEvent[] = [];
  try {
    await p.provision(id, { onEvent: (e) => events.push(e) });
    return { events };
  } catch (e) {
    return { events, error: e as { code?: string } };
  } finally {
    await p.close();
  }
}

/** Why bubblewrap cannot sandbox here (undefined: it works). */
function bwrapProblem(): string | undefined {
  const r = spawnSync('bwrap', ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-net', '--unshare-pid', 'true'], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  return r.error ? String(r.error.message) : (r.stderr.trim() || `exit ${r.status}`);
}
const BWRAP_PROBLEM = bwrapProblem();
const BWRAP = BWRAP_PROBLEM === undefined;

describe('hostile archives of a prebuilt worker are refused end to end', () => {
  let root: string;
  let outside: string;
  let catalog: string;
  let server: CatalogServer;
  const script = '#!/bin/sh\necho ok\n';

  beforeAll(async () => {
    root = tempDir('rbee-e2e-attack-');
    outside = join(root, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'sentinel'), 'original\n');
    catalog = join(root, 'catalog');
    writeCatalog(catalog, []);
    server = await serveCatalog(catalog);
  });
  afterAll(async () => {
    await server?.close();
  });

  const good: TarEntry[] = [
    { name: 'bin/', type: '5' },
    { name: 'bin/w', data: script, mode: 0o755 },
  ];
  const cases: { name: string; archive: () => Buffer; file: string }[] = [
    { name: '../ entry', file: 'a.tar.gz', archive: () => tarGz([...good, { name: `../../../${PWNED}`, data: 'x' }]) },
    { name: 'absolute path', file: 'a.tar.gz', archive: () => tarGz([...good, { name: `${outside}/${PWNED}`, data: 'x' }]) },
    {
      name: 'symlink then write through it',
      file: 'a.tar.gz',
      archive: () => tarGz([...good, { name: 'evil', type: '2', linkname: outside }, { name: `evil/${PWNED}`, data: 'x' }]),
    },
    {
      name: 'hardlink to a file outside, then overwrite',
      file: 'a.tar.gz',
      archive: () => tarGz([...good, { name: 'hl', type: '1', linkname: join(outside, 'sentinel') }, { name: 'hl', data: `${PWNED}\n` }]),
    },
    { name: 'relative hardlink out', file: 'a.tar.gz', archive: () => tarGz([...good, { name: 'hl2', type: '1', linkname: '../../../outside/sentinel' }]) },
    { name: 'device node', file: 'a.tar.gz', archive: () => tarGz([...good, { name: 'mem', type: '3' }]) },
    { name: 'zip-slip', file: 'a.zip', archive: () => zip([{ name: 'bin/w', data: script }, { name: `../../${PWNED}`, data: 'x' }]) },
  ];

  cases.forEach((c, i) => {
    it(`${c.name}: E_UNSAFE_ARCHIVE_ENTRY, nothing outside srcdir, nothing installed`, async () => {
      const id = `archive-attack-${i}-rbee`;
      const w = binWorker({ id, version: '1.0.0', archive: c.archive(), archiveName: c.file, packageBody: `  install -Dm755 "$srcdir/bin/w" "$pkgdir/usr/bin/${id}"` });
      writeCatalog(catalog, [w]);
      const home = join(root, `home-${i}`);
      const before = readdirSync(outside).sort();
      const r = await provision(home, server.url, id);
      expect(r.error?.code, r.error?.message).toBe('E_UNSAFE_ARCHIVE_ENTRY');
      expect(readdirSync(outside).sort()).toEqual(before);
      expect(readFileSync(join(outside, 'sentinel'), 'utf8')).toBe('original\n');
      expect(findPwned(root)).toEqual([]);
      expect(existsSync(`/tmp/${PWNED}`) || existsSync(`/${PWNED}`)).toBe(false);
      expect(existsSync(join(home, 'workers', id))).toBe(false);
    });
  });
});

/** A raw HTTP server (not the validating reference server) that answers whatever the test says. */
async function rawServer(
  host: string,
  handler: (req: IncomingMessage, res: import('node:http').ServerResponse, base: string) => void,
): Promise<{ server: Server; url: string; requests: { url: string; headers: IncomingMessage['headers'] }[] }> {
  const requests: { url: string; headers: IncomingMessage['headers'] }[] = [];
  let base = '';
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    handler(req, res, base);
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const a = server.address();
  base = `http://${host}:${typeof a === 'object' && a ? a.port : 0}/`;
  return { server, url: base, requests };
}
const json = (res: import('node:http').ServerResponse, body: unknown, status = 200): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('a catalog that answers with traversal', () => {
  afterAll(() => cleanupTemps());

  it('traversal in a worker id is refused before any request (E_INVALID_WORKER_ID)', async () => {
    const s = await rawServer('127.0.0.1', (_q, res) => json(res, { workers: [] }));
    try {
      for (const id of ['../../etc/passwd', 'x/../../y', '..', '%2e%2e']) {
        const r = await provision(tempDir(), { url: s.url, cacheDir: false }, id);
        expect(r.error?.code, id).toBe('E_INVALID_WORKER_ID');
      }
      expect(s.requests).toEqual([]);
    } finally {
      s.server.close();
    }
  });

  for (const bad of ['../../../../etc/passwd', 'workers/%2e%2e/%2e%2e/%2e%2e/etc/passwd', 'workers/..%2f..%2fsecret/PKGBUILD', '/workers/../../etc/passwd']) {
    it(`pkgbuildUrl ${bad}: E_CATALOG_RESPONSE, never requested`, async () => {
      const w = workerJson({ id: 'evil-worker-rbee', version: '1.0.0', pkgbuild: '', pkgbuildUrl: bad });
      const s = await rawServer('127.0.0.1', (req, res) => {
        if (req.url?.startsWith('/workers/evil-worker-rbee')) json(res, w);
        else if (req.url === '/workers') json(res, { workers: [w] });
        else {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('pkgname=x\n');
        }
      });
      try {
        const home = tempDir();
        const r = await provision(home, { url: s.url, cacheDir: false }, 'evil-worker-rbee');
        expect(r.error?.code, r.error?.message).toBe('E_CATALOG_RESPONSE');
        expect(s.requests.filter((q) => !q.url.startsWith('/workers'))).toEqual([]);
        expect(existsSync(join(home, 'workers')) ? readdirSync(join(home, 'workers')) : []).toEqual([]);
      } finally {
        s.server.close();
      }
    });
  }

  it('an answer whose worker id differs (traversal id) is not used', async () => {
    const w = workerJson({ id: '../../evil', version: '1.0.0', pkgbuild: '' });
    const s = await rawServer('127.0.0.1', (req, res) => (req.url === '/workers' ? json(res, { workers: [w] }) : json(res, w)));
    try {
      const r = await provision(tempDir(), { url: s.url, cacheDir: false }, 'evil-worker-rbee');
      expect(['E_CATALOG_RESPONSE', 'E_WORKER_NOT_FOUND'], r.error?.message).toContain(r.error?.code);
    } finally {
      s.server.close();
    }
  });

  it('a directory catalog whose pkgbuildUrl leaves the catalog: refused, the file outside is never used', async () => {
    const root = tempDir();
    const catalog = join(root, 'catalog');
    // a perfectly valid worker outside the catalog directory
    const outsideDir = join(root, 'secret');
    mkdirSync(outsideDir);
    writeFileSync(join(outsideDir, 'PKGBUILD'), `pkgname=outside-worker-rbee\npkgver=1\npkgrel=1\narch=(any)\npackage() { install -Dm755 /bin/true "$pkgdir/usr/bin/outside-worker-rbee"; }\n`);
    writeCatalog(catalog, [{ id: 'dir-evil-rbee', version: '1.0.0', pkgbuild: 'pkgname=x\n', pkgbuildUrl: '../secret/PKGBUILD' }]);
    const home = join(root, 'home');
    const r = await provision(home, catalog, 'dir-evil-rbee');
    expect(['E_CATALOG_RESPONSE', 'E_FILE_NOT_FOUND'], r.error?.message).toContain(r.error?.code);
    expect(existsSync(join(home, 'workers', 'outside-worker-rbee'))).toBe(false);
  });

  it('a PKGBUILD whose pkgname or local source name traverses: refused, nothing written outside the home', async () => {
    const root = tempDir();
    const catalog = join(root, 'catalog');
    writeFileSync(join(root, 'secret.txt'), 'top secret\n');
    writeCatalog(catalog, [
      { id: 'name-evil-rbee', version: '1', pkgbuild: `pkgname='../../${PWNED}'\npkgver=1\npkgrel=1\narch=(any)\npackage() { :; }\n` },
      {
        id: 'src-evil-rbee',
        version: '1',
        pkgbuild: `pkgname=src-evil-rbee\npkgver=1\npkgrel=1\narch=(any)\nsource=('../../../secret.txt')\nsha256sums=('SKIP')\npackage() { install -Dm644 "$srcdir/secret.txt" "$pkgdir/usr/share/s"; install -Dm755 /bin/true "$pkgdir/usr/bin/src-evil-rbee"; }\n`,
      },
    ]);
    const server = await serveCatalog(catalog);
    try {
      const home = join(root, 'home');
      const a = await provision(home, server.url, 'name-evil-rbee');
      expect(a.error?.code, a.error?.message).toBe('E_PKGBUILD_INVALID');
      const b = await provision(home, server.url, 'src-evil-rbee');
      expect(['E_INVALID_FILE_NAME', 'E_INVALID_SOURCE', 'E_PKGBUILD_INVALID', 'E_FILE_NOT_FOUND', 'E_SOURCE_NOT_FOUND'], b.error?.message).toContain(b.error?.code);
      expect(findPwned(root)).toEqual([]);
      expect(tree(home).filter((p) => p.includes('secret') || p.startsWith('d workers/'))).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('redirects never carry credentials to another host', () => {
  it('catalog token and source credentials stay on 127.0.0.1 when redirected to 127.0.0.2', async () => {
    const archive = tarGz([
      { name: 'bin/', type: '5' },
      { name: 'bin/w', data: '#!/bin/sh\necho ok\n', mode: 0o755 },
    ]);
    // B: the other host, records everything it is sent
    const b = await rawServer('127.0.0.2', (req, res, base) => {
      if (req.url === '/PKGBUILD') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(
          `pkgname=redir-worker-rbee\npkgver=1.0.0\npkgrel=1\narch=(x86_64 aarch64)\nsource=('w.tar.gz::${aUrl}src/w.tar.gz')\nsha256sums=('${sha256(archive)}')\npackage() { install -Dm755 "$srcdir/bin/w" "$pkgdir/usr/bin/redir-worker-rbee"; }\n`,
        );
      } else if (req.url === '/w.tar.gz') {
        res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': archive.length });
        res.end(archive);
      } else json(res, { error: { code: 'E_NOT_FOUND', message: base } }, 404);
    });
    let aUrl = '';
    const w = { ...workerJson({ id: 'redir-worker-rbee', version: '1.0.0', pkgbuild: '' }) };
    // A: the catalog and the source host; both redirect to B
    const a = await rawServer('127.0.0.1', (req, res, base) => {
      const variants = (w.variants as Record<string, unknown>[]).map((v) => ({ ...v, pkgbuildUrl: `${base}p/PKGBUILD` }));
      if (req.url === '/workers') json(res, { workers: [{ ...w, variants }] });
      else if (req.url?.startsWith('/workers/redir-worker-rbee')) json(res, { ...w, variants });
      else if (req.url === '/p/PKGBUILD') {
        res.writeHead(302, { location: `${b.url}PKGBUILD` });
        res.end();
      } else if (req.url === '/src/w.tar.gz') {
        res.writeHead(302, { location: `${b.url}w.tar.gz` });
        res.end();
      } else json(res, { error: { code: 'E_NOT_FOUND', message: 'no' } }, 404);
    });
    aUrl = a.url;
    const aHostPort = new URL(a.url).host;
    const saved = process.env.RBEE_SOURCE_AUTH;
    process.env.RBEE_SOURCE_AUTH = JSON.stringify({ [aHostPort]: 'Bearer SOURCE-SECRET' });
    try {
      const r = await provision(tempDir(), { url: a.url, token: 'CATALOG-SECRET', cacheDir: false, retries: 0 }, 'redir-worker-rbee');
      // the install itself may succeed (the hop is allowed, only without credentials)
      expect(r.error, r.error?.message).toBeUndefined();
      const sentToA = a.requests.map((q) => q.headers.authorization ?? '');
      // positive controls: the credentials were in use for their own host
      expect(sentToA).toContain('Bearer CATALOG-SECRET');
      expect(sentToA).toContain('Bearer SOURCE-SECRET');
      expect(b.requests.length).toBeGreaterThanOrEqual(2);
      for (const q of b.requests) {
        expect(JSON.stringify(q.headers), q.url).not.toMatch(/SECRET/);
      }
    } finally {
      if (saved === undefined) delete process.env.RBEE_SOURCE_AUTH;
      else process.env.RBEE_SOURCE_AUTH = saved;
      a.server.close();
      b.server.close();
    }
  });
});

describe.skipIf(!BWRAP)(BWRAP ? 'build() cannot escape its sandbox (bubblewrap)' : `build() sandbox escapes SKIPPED: bubblewrap does not work here (${BWRAP_PROBLEM})`, () => {
  const secretValue = `secret-${T}-${Math.random()}`;
  const secretFile = join(homedir(), `.rbee-e2e-secret-${T}`);
  const repoOut = join(REPO, 'tests', 'e2e', `.attack-${T}`);
  let outside: string;

  beforeAll(() => {
    writeFileSync(secretFile, `${secretValue}\n`, { mode: 0o644 });
    mkdirSync(repoOut, { recursive: true });
    outside = join(tempDir(), 'outside');
    mkdirSync(outside);
  });
  afterAll(() => {
    rmSync(secretFile, { force: true });
    rmSync(repoOut, { recursive: true, force: true });
    cleanupTemps();
  });

  it('writes outside its dirs, reads the user files, reaches the network: all fail, the install is clean', async () => {
    let connections = 0;
    const tcp = createTcpServer((s) => {
      connections += 1;
      s.destroy();
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const port = (tcp.address() as { port: number }).port;
    const id = 'escape-worker-rbee';
    const pkgbuild = `pkgname=${id}
pkgver=1.0.0
pkgrel=1
arch=(x86_64 aarch64)
license=(MIT)

build() {
  echo x > "${outside}/${PWNED}" 2>/dev/null && echo "WROTE outside" || echo "outside: refused"
  echo x > "${repoOut}/${PWNED}" 2>/dev/null && echo "WROTE repo" || echo "repo: refused"
  echo x > "$startdir/${PWNED}" 2>/dev/null && echo "WROTE startdir" || echo "startdir: refused"
  echo x > "$srcdir/../../../workers/${PWNED}" 2>/dev/null || true
  if cat "${secretFile}" >"$srcdir/leak" 2>/dev/null; then echo "READ secret"; else echo "secret: hidden"; fi
  if (exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null; then echo "NET reached"; else echo "network: off"; fi
}

package() {
  mkdir -p "$pkgdir/usr/bin" "$pkgdir/usr/share/${id}"
  printf '#!/bin/sh\\necho ok\\n' > "$pkgdir/usr/bin/${id}"
  chmod 755 "$pkgdir/usr/bin/${id}"
  cp "$srcdir/leak" "$pkgdir/usr/share/${id}/leak" 2>/dev/null || true
}
`;
    const root = tempDir();
    const catalog = join(root, 'catalog');
    writeCatalog(catalog, [{ id, version: '1.0.0', pkgbuild }]);
    const home = join(root, 'home');
    const logs: string[] = [];
    const p = new WorkerProvisioner({ home, catalog, sandbox: 'bwrap' });
    try {
      const worker = await p.provision(id, {
        onEvent: (e) => {
          if (e.type === 'log') logs.push(e.line);
        },
      });
      expect(logs).toEqual(expect.arrayContaining(['outside: refused', 'repo: refused', 'startdir: refused', 'secret: hidden', 'network: off']));
      expect(logs.join('\n')).not.toMatch(/WROTE|READ secret|NET reached/);
      expect(connections).toBe(0);
      expect(findPwned(root)).toEqual([]);
      expect(findPwned(outside)).toEqual([]);
      expect(existsSync(join(repoOut, PWNED))).toBe(false);
      // nothing of the secret in the installed tree or its log
      for (const f of tree(worker.installDir).filter((x) => x.startsWith('f '))) {
        const text = readFileSync(join(worker.installDir, f.slice(2)), 'utf8');
        expect(text, f).not.toContain(secretValue);
      }
    } finally {
      await p.close();
      tcp.close();
    }
  });
});

describe('a PKGBUILD whose top level never finishes', () => {
  it('loops forever during inspection: E_TIMEOUT (default limit), nothing installed', async () => {
    const root = tempDir();
    const catalog = join(root, 'catalog');
    writeCatalog(catalog, [
      { id: 'loop-worker-rbee', version: '1', pkgbuild: `pkgname=loop-worker-rbee\npkgver=$(echo 1.0)\npkgrel=1\narch=(any)\nwhile :; do :; done\npackage() { :; }\n` },
    ]);
    const home = join(root, 'home');
    const r = await provision(home, catalog, 'loop-worker-rbee');
    expect(r.error?.code, r.error?.message).toBe('E_TIMEOUT');
    expect(existsSync(join(home, 'workers', 'loop-worker-rbee'))).toBe(false);
  }, 60_000);

  it('prints forever during inspection: E_TIMEOUT within the limit, output bounded', async () => {
    const root = tempDir();
    const catalog = join(root, 'catalog');
    writeCatalog(catalog, [
      { id: 'spam-worker-rbee', version: '1', pkgbuild: `pkgname=spam-worker-rbee\npkgver=$(echo 1.0)\npkgrel=1\narch=(any)\nwhile :; do echo spam spam spam; done\npackage() { :; }\n` },
    ]);
    const home = join(root, 'home');
    const before = process.memoryUsage().rss;
    const r = await provision(home, catalog, 'spam-worker-rbee', {
      stages: { inspectPkgbuild: (path: string, o: Parameters<typeof inspectPkgbuild>[1]) => inspectPkgbuild(path, { ...o, timeoutMs: 3000 }) },
    });
    expect(r.error?.code, r.error?.message).toBe('E_TIMEOUT');
    // the warning (if any) quotes a bounded excerpt, never the whole flood
    for (const e of r.events) expect(JSON.stringify(e).length).toBeLessThan(64 * 1024);
    expect(process.memoryUsage().rss - before).toBeLessThan(512 * 1024 * 1024);
    expect(existsSync(join(home, 'workers', 'spam-worker-rbee'))).toBe(false);
  }, 60_000);
});
