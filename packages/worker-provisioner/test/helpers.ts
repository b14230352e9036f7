/**
 * Real parts for the end-to-end tests: a copy of the example catalog (plus the test workers of
 * test/fixtures) served by the reference catalog server on loopback, and a loopback file server
 * for http sources with switches for stalling.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCatalogServer } from '@rbee/catalog-client/server';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(here, 'fixtures');
export const REPO = join(here, '..', '..', '..');
export const EXAMPLE_CATALOG = join(REPO, 'examples', 'catalog');

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Generate the example catalog's prebuilt archives (idempotent, byte-reproducible). */
export function ensureExampleArchives(): void {
  const r = spawnSync(process.execPath, [join(REPO, 'scripts', 'make-example-archives.mjs')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make-example-archives failed: ${r.stderr}`);
}

/** A temp dir removed by `cleanup()`; files inside are made readable by the build user. */
export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A loopback static file server with a request counter and a stall switch. */
export interface FileServer {
  url: string;
  dir: string;
  requests: string[];
  /** Send this many bytes of each response, then stall until closed. */
  stallAfterBytes: number | undefined;
  close(): Promise<void>;
}

export async function startFileServer(dir: string): Promise<FileServer> {
  const sockets = new Set<import('node:net').Socket>();
  const fs: FileServer = {
    url: '',
    dir,
    requests: [],
    stallAfterBytes: undefined,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((req, res) => {
    fs.requests.push(req.url ?? '');
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    const path = join(dir, name);
    if (name.includes('..') || name.includes('/')) {
      res.writeHead(400).end();
      return;
    }
    stat(path).then(
      (st) => {
        res.writeHead(200, { 'content-length': st.size, 'content-type': 'application/octet-stream' });
        if (fs.stallAfterBytes === undefined) {
          createReadStream(path).pipe(res);
          return;
        }
        const stream = createReadStream(path, { end: Math.max(0, fs.stallAfterBytes - 1) });
        stream.on('data', (c) => res.write(c));
        // then nothing more: the client waits until it gives up or is cancelled
      },
      () => res.writeHead(404).end(),
    );
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address() as import('node:net').AddressInfo;
  fs.url = `http://127.0.0.1:${addr.port}`;
  return fs;
}

/** A tar.gz holding `payload/<binName>` (a shell script) and `payload/blob` of `blobBytes` random bytes. */
export async function makePayloadArchive(outFile: string, binName: string, blobBytes = 64 * 1024): Promise<string> {
  const work = await tempDir('rbee-payload-');
  try {
    await mkdir(join(work, 'payload'));
    await writeFile(join(work, 'payload', binName), `#!/bin/sh\necho "${binName} 1.0.0"\n`, { mode: 0o755 });
    const r0 = spawnSync('head', ['-c', String(blobBytes), '/dev/urandom'], { maxBuffer: 1 << 30 });
    await writeFile(join(work, 'payload', 'blob'), r0.stdout);
    const r = spawnSync('bsdtar', ['-czf', outFile, '-C', work, 'payload']);
    if (r.status !== 0) throw new Error(`bsdtar failed: ${r.stderr.toString()}`);
    return sha256(await readFile(outFile));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Copy a fixture PKGBUILD dir to `dest`, filling `@SHA256:<file>@` and the `replace` placeholders. */
export async function writeFixture(dest: string, fixture: string, replace: Record<string, string> = {}): Promise<{ text: string; pkgname: string }> {
  const src = join(FIXTURES, fixture);
  let text = await readFile(join(src, 'PKGBUILD'), 'utf8');
  const pkgname = /^pkgname=(\S+)/m.exec(text)?.[1] ?? fixture;
  await mkdir(dest, { recursive: true });
  for (const name of await readdir(src)) {
    if (name === 'PKGBUILD') continue;
    const data = await readFile(join(src, name));
    await writeFile(join(dest, name), data);
    text = text.replaceAll(`@SHA256:${name}@`, sha256(data));
  }
  for (const [k, v] of Object.entries(replace)) text = text.replaceAll(k, v);
  await writeFile(join(dest, 'PKGBUILD'), text);
  return { text, pkgname };
}

/** Add one test worker (a fixture PKGBUILD dir) to a catalog dir, with placeholders filled. */
export async function addWorker(
  catalogDir: string,
  fixture: string,
  opts: { id?: string; replace?: Record<string, string>; variant?: Record<string, unknown> } = {},
): Promise<string> {
  const probe = await readFile(join(FIXTURES, fixture, 'PKGBUILD'), 'utf8');
  const id = opts.id ?? /^pkgname=(\S+)/m.exec(probe)?.[1] ?? fixture;
  const { text, pkgname } = await writeFixture(join(catalogDir, 'workers', id, 'cpu'), fixture, opts.replace);
  const worker = {
    id,
    name: id,
    version: /^pkgver=(\S+)/m.exec(text)?.[1] ?? '0',
    license: 'MIT',
    description: `test worker ${id}`,
    variants: [
      {
        backend: 'cpu',
        platforms: ['linux'],
        architectures: ['x86_64', 'aarch64'],
        pkgbuildUrl: `workers/${id}/cpu/PKGBUILD`,
        build: { features: ['cpu'], profile: 'release' },
        depends: [],
        makedepends: [],
        binaryName: pkgname,
        installPath: `/usr/bin/${pkgname}`,
        ...opts.variant,
      },
    ],
    capabilities: { supportedFormats: ['gguf'], maxContextLength: 2048, supportsStreaming: true, supportsBatching: false },
  };
  await writeFile(join(catalogDir, 'workers', `${id}.json`), JSON.stringify(worker, null, 2));
  const listPath = join(catalogDir, 'workers.json');
  const list = JSON.parse(await readFile(listPath, 'utf8')) as { workers: { id: string }[] };
  list.workers = list.workers.filter((w) => w.id !== id).concat([worker]);
  await writeFile(listPath, JSON.stringify(list, null, 2));
  return id;
}

/** A private copy of the example catalog, served on loopback by the reference server. */
export interface TestCatalog {
  dir: string;
  url: string;
  close(): Promise<void>;
}

export async function startCatalog(prepare?: (dir: string) => Promise<void>): Promise<TestCatalog> {
  const dir = await tempDir('rbee-catalog-');
  await cp(EXAMPLE_CATALOG, dir, { recursive: true });
  await prepare?.(dir);
  const server = createCatalogServer({ dir });
  const url = await server.listen(0, '127.0.0.1');
  return {
    dir,
    url,
    close: async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Pids of live processes whose command line contains `marker`. */
export function pidsMatching(marker: string): number[] {
  const r = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter((l) => l.includes(marker) && !l.includes('ps -eo'))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
    .filter((n) => Number.isInteger(n) && n !== process.pid);
}
