/**
 * Fuzzing across package boundaries (fast-check, FAST_CHECK_RUNS runs per property, default 25):
 * `parseSrcinfo` on arbitrary and mutated .SRCINFO, catalog JSON through the client against a
 * loopback server, and archive extraction of random and truncated archives. Each property: only
 * documented error codes come out, and nothing is written outside `srcdir`.
 *
 * The parser's own robustness properties (arbitrary and mutated PKGBUILDs: never throws, always
 * terminates, linear time) live in packages/pkgbuild-parser/test/robustness.test.ts and are not
 * repeated here.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogClient } from '@rbee/catalog-client';
import { parsePkgbuild, parseSrcinfo, toSrcinfo } from '@rbee/pkgbuild-parser';
import { extractArchive } from '@rbee/source-fetcher';
import { tar, tarGz, zip, type TarEntry } from './archives.js';
import { cleanupTemps, EXAMPLE_CATALOG, tempDir, tree, workerJson } from './helpers.js';

const RUNS = Math.max(1, Number(process.env.FAST_CHECK_RUNS ?? 25));
const params = { numRuns: RUNS, seed: process.env.RBEE_E2E_SEED ? Number(process.env.RBEE_E2E_SEED) : undefined };

afterAll(() => cleanupTemps());

/** Mutations of a text: delete, duplicate, or replace a slice; insert a line. */
function mutated(base: string): fc.Arbitrary<string> {
  const lines = base.split('\n');
  return fc
    .array(
      fc.oneof(
        fc.record({ op: fc.constant('del' as const), at: fc.nat(lines.length), n: fc.integer({ min: 1, max: 3 }) }),
        fc.record({ op: fc.constant('dup' as const), at: fc.nat(lines.length) }),
        fc.record({ op: fc.constant('ins' as const), at: fc.nat(lines.length), text: fc.oneof(fc.string(), fc.constantFrom('pkgbase = x', 'pkgname = ', '\tarch = ', ' = ', '\t', 'pkgname = a\n\tpkgver = 1', '#', '=', 'source_x86_64 = a::b')) }),
        fc.record({ op: fc.constant('chr' as const), at: fc.nat(base.length), ch: fc.constantFrom('=', '\t', ' ', '\n', '\r', '\0', 'é', ':') }),
      ),
      { maxLength: 6 },
    )
    .map((ops) => {
      let ls = [...lines];
      for (const o of ops) {
        if (o.op === 'del') ls.splice(o.at, o.n);
        else if (o.op === 'dup') ls.splice(o.at, 0, ls[o.at] ?? '');
        else if (o.op === 'ins') ls.splice(o.at, 0, o.text);
        else {
          const t = ls.join('\n');
          ls = (t.slice(0, o.at) + o.ch + t.slice(o.at + 1)).split('\n');
        }
      }
      return ls.join('\n');
    });
}

/** parseSrcinfo gives a model that round-trips through toSrcinfo, or E_SRCINFO_SYNTAX. */
const checkSrcinfo = (text: string): void => {
  try {
    const model = parseSrcinfo(text);
    // what it accepts it can write again, and that reads back the same
    const again = toSrcinfo(model);
    expect(toSrcinfo(parseSrcinfo(again))).toBe(again);
  } catch (e) {
    expect((e as { code?: string }).code, String(e)).toBe('E_SRCINFO_SYNTAX');
    expect((e as { name?: string }).name).toBe('SrcinfoParseError');
  }
};

describe('parseSrcinfo', () => {
  const seeds = ['demo-worker-rbee', 'demo-worker-rbee-bin'].map((w) => {
    const text = readFileSync(join(EXAMPLE_CATALOG, 'workers', w, 'cpu', 'PKGBUILD'), 'utf8');
    return toSrcinfo(parsePkgbuild(text, { carch: 'x86_64' }).pkgbuild);
  });

  it('arbitrary text: a model or E_SRCINFO_SYNTAX, nothing else', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), checkSrcinfo), params);
  });
  it('mutated .SRCINFO of the example workers: a model or E_SRCINFO_SYNTAX', () => {
    for (const s of seeds) fc.assert(fc.property(mutated(s), checkSrcinfo), params);
  });
});

const CATALOG_CODES = [
  'E_CATALOG_RESPONSE',
  'E_WORKER_NOT_FOUND',
  'E_VERSION_NOT_FOUND',
  'E_NO_COMPATIBLE_VARIANT',
  'E_RESPONSE_TOO_LARGE',
  'E_FILE_NOT_FOUND',
  'E_INVALID_WORKER_ID',
];

describe('catalog JSON through the client', () => {
  let server: Server;
  let url = '';
  let body = '';

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url?.startsWith('/workers/fuzz-worker-rbee/PKGBUILD') || req.url?.endsWith('/PKGBUILD')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('pkgname=fuzz-worker-rbee\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const valid = workerJson({ id: 'fuzz-worker-rbee', version: '1.0.0', pkgbuild: '' });
  /** A valid worker with one field replaced by an arbitrary JSON value (or dropped). */
  const mutatedWorker = fc
    .record({
      path: fc.constantFrom('id', 'version', 'variants', 'variants.0', 'variants.0.backend', 'variants.0.platforms', 'variants.0.architectures', 'variants.0.pkgbuildUrl', 'variants.0.binaryName', 'capabilities', 'name'),
      value: fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.constantFrom('../../etc/passwd', '%2e%2e/x', 'C:\\x', '\0', '', 'http://127.0.0.2/x')),
    })
    .map(({ path, value }) => {
      const w = JSON.parse(JSON.stringify(valid)) as Record<string, unknown>;
      const keys = path.split('.');
      let o: Record<string, unknown> = w;
      for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
      const last = keys[keys.length - 1]!;
      if (value === undefined) delete o[last];
      else o[last] = value;
      return JSON.stringify(w);
    });

  const check = async (text: string): Promise<void> => {
    body = text;
    const client = new CatalogClient({ url, cacheDir: false, retries: 0, timeoutMs: 5000 });
    try {
      const w = await client.getWorker('fuzz-worker-rbee');
      expect(w.id).toBe('fuzz-worker-rbee');
      const r = await client.resolve('fuzz-worker-rbee', { platform: 'linux', arch: 'x86_64' });
      // whatever it accepted points inside the catalog's origin or is a plain http(s) URL
      expect(r.pkgbuildUrl).toMatch(/^https?:\/\//);
      expect(decodeURIComponent(new URL(r.pkgbuildUrl).pathname).split('/')).not.toContain('..');
    } catch (e) {
      expect(CATALOG_CODES, `${String(e)} for ${text.slice(0, 200)}`).toContain((e as { code?: string }).code);
    } finally {
      await client.close();
    }
  };

  it('arbitrary JSON answers: only documented codes', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.json(), fc.string({ maxLength: 200 })), check), params);
  });
  it('mutated worker entries: only documented codes, never a traversal URL', async () => {
    await fc.assert(fc.asyncProperty(mutatedWorker, check), params);
  });
});

const EXTRACT_CODES = ['E_EXTRACT_FAILED', 'E_UNSAFE_ARCHIVE_ENTRY', 'E_ARCHIVE_TOO_LARGE'];

describe('archive extraction (extractArchive)', () => {
  let n = 0;
  const entryName = fc.oneof(
    fc.stringMatching(/^[a-z]{1,8}(\/[a-z]{1,8}){0,2}$/),
    fc.constantFrom('../x', '../../x', '/abs/x', 'a/../../x', './a', 'a//b', '..', '.', 'a/', 'C:\\x'),
  );
  const entry = fc.record({
    name: entryName,
    type: fc.constantFrom('0', '0', '0', '1', '2', '5', '3', '6') as fc.Arbitrary<'0' | '1' | '2' | '5' | '3' | '6'>,
    data: fc.string({ maxLength: 64 }),
    linkname: fc.oneof(entryName, fc.constantFrom('/etc/passwd', '../../outside', 'a')),
  });
  const archive = fc.oneof(
    fc.record({ kind: fc.constant('tar.gz'), entries: fc.array(entry, { minLength: 1, maxLength: 5 }), cut: fc.option(fc.nat(), { nil: undefined }) }),
    fc.record({ kind: fc.constant('tar'), entries: fc.array(entry, { minLength: 1, maxLength: 5 }), cut: fc.option(fc.nat(), { nil: undefined }) }),
    fc.record({ kind: fc.constant('zip'), entries: fc.array(entry, { minLength: 1, maxLength: 4 }), cut: fc.option(fc.nat(), { nil: undefined }) }),
    fc.record({ kind: fc.constant('tar.gz'), entries: fc.constant([] as TarEntry[]), cut: fc.constant(undefined), raw: fc.uint8Array({ minLength: 1, maxLength: 600 }) }),
  );

  it('random and truncated archives: only documented codes, nothing outside srcdir', async () => {
    await fc.assert(
      fc.asyncProperty(archive, async (a) => {
        n += 1;
        const box = join(tempDir('rbee-e2e-fuzz-'), 'box');
        const srcdir = join(box, 'src');
        mkdirSync(srcdir, { recursive: true });
        let bytes: Buffer;
        if ('raw' in a && a.raw) bytes = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from(a.raw)]);
        else if (a.kind === 'zip') bytes = zip(a.entries.map((e) => ({ name: e.name, data: e.data })));
        else bytes = a.kind === 'tar' ? tar(a.entries) : tarGz(a.entries);
        if (a.cut !== undefined) bytes = bytes.subarray(0, a.cut % (bytes.length + 1));
        const file = join(box, '..', `a${n}.${a.kind}`);
        writeFileSync(file, bytes);
        try {
          await extractArchive({ file, dest: srcdir });
        } catch (e) {
          expect(EXTRACT_CODES, String(e)).toContain((e as { code?: string }).code);
        }
        // the only thing in the box is srcdir; the dir around the box holds only the box and the archive
        expect(readdirSync(box)).toEqual(['src']);
        expect(readdirSync(join(box, '..')).sort()).toEqual([`a${n}.${a.kind}`, 'box'].sort());
        // nothing in srcdir points or leads outside it
        for (const p of tree(srcdir)) expect(p.includes('..'), p).toBe(false);
        rmSync(join(box, '..'), { recursive: true, force: true });
      }),
      params,
    );
  });
});
