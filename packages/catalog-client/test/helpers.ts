/** Shared test helpers: temp dirs, the example catalog (archives generated first), loopback servers. */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const exampleCatalog = join(repoRoot, 'examples', 'catalog');

interface ArchiveResult {
  arch: string;
  file: string;
  written: boolean;
  sha256: string;
  b2: string;
}
interface ArchiveScript {
  makeExampleArchives(opts?: { root?: string }): ArchiveResult[];
  archiveName(arch: string): string;
  ARCHES: string[];
  TARGET_DIRS: string[];
}

/** The archive generator script (scripts/make-example-archives.mjs). */
export async function archiveScript(): Promise<ArchiveScript> {
  return (await import(join(repoRoot, 'scripts', 'make-example-archives.mjs'))) as ArchiveScript;
}

/** Generates the example catalog's archives (idempotent) so tests that serve them find them. */
export async function ensureExampleArchives(): Promise<ArchiveResult[]> {
  return (await archiveScript()).makeExampleArchives();
}

/** A fresh temp dir, removed by the returned cleanup. */
export async function tempDir(prefix = 'rbee-catalog-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A request as seen by a {@link LoopbackServer}. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

/** A plain node:http server on loopback whose behaviour each test scripts. */
export interface LoopbackServer {
  url: string;
  origin: string;
  port: number;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/** Starts a scripted server (fault injection: wrong JSON, stalls, 5xx, redirects, huge bodies…). */
export async function loopbackServer(
  handler: (req: IncomingMessage, res: ServerResponse, seen: SeenRequest[]) => unknown,
  host = '127.0.0.1',
): Promise<LoopbackServer> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    void Promise.resolve(handler(req, res, seen)).catch(() => res.destroy());
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, host, () => ok());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://${host}:${port}`;
  return {
    url: `${origin}/`,
    origin,
    port,
    seen,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

/** Answers JSON with an optional status/headers. */
export function json(res: ServerResponse, value: unknown, status = 200, headers: Record<string, string> = {}): void {
  const body = typeof value === 'string' ? value : JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

/** A minimal valid worker document. */
export function sampleWorker(id = 'sample-worker', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    name: 'Sample',
    version: '1.0.0',
    description: 'sample',
    license: 'MIT',
    variants: [
      {
        backend: 'cpu',
        platforms: ['linux'],
        architectures: ['x86_64', 'aarch64'],
        pkgbuildUrl: `workers/${id}/cpu/PKGBUILD`,
        depends: [],
        makedepends: [],
        binaryName: id,
      },
    ],
    capabilities: { supportedFormats: ['gguf'], supportsStreaming: true, supportsBatching: false },
    ...extra,
  };
}

/** Reads a Node stream to a string. */
export async function readAll(stream: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}

/** Captures the rejection of `p` (fails the test if it resolves). */
export async function rejectionOf(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected the promise to reject, but it resolved');
}
