import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './http-server.js';
import { bytes, cleanupTempDirs, pkgbuild, sha256, tempDir } from './helpers.js';

const run = promisify(execFile);
let srv: TestServer;
let bundle: string;

beforeAll(async () => {
  srv = await startTestServer();
  // Bundle the sources so a plain `node` child can run them.
  const out = await tempDir('rbee-bundle-');
  bundle = join(out, 'fetcher.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('../src/index.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: bundle,
    logLevel: 'silent',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
});
afterAll(async () => {
  await srv.close();
  await cleanupTempDirs();
});

describe('two processes sharing srcdest', () => {
  it('download the same file once, both get a verified copy, no .part or lock is left', async () => {
    const body = bytes(6 * 1024 * 1024, 21);
    srv.routes.set('/shared.bin', { body, headerDelay: 300 });
    const base = await tempDir();
    const srcdest = join(base, 'sources');
    const pb = pkgbuild({ source: [`${srv.base()}/shared.bin`], sha256sums: [sha256(body)] });
    const job = (n: number): string => JSON.stringify({ pkgbuild: pb, startdir: base, srcdest, srcdir: join(base, `src${n}`) });
    const child = fileURLToPath(new URL('./concurrent-child.mjs', import.meta.url));
    const [a, b] = await Promise.all([1, 2].map((n) => run(process.execPath, [child, bundle, job(n)])));
    const ra = JSON.parse(a?.stdout ?? '{}') as { ok: boolean; fromCache: boolean; sha256: string };
    const rb = JSON.parse(b?.stdout ?? '{}') as { ok: boolean; fromCache: boolean; sha256: string };
    expect(ra.ok && rb.ok).toBe(true);
    expect([ra.fromCache, rb.fromCache].sort()).toEqual([false, true]);
    expect(srv.count('/shared.bin')).toBe(1);
    expect(sha256(readFileSync(join(srcdest, 'shared.bin')))).toBe(sha256(body));
    expect(readdirSync(srcdest)).toEqual(['shared.bin']);
    expect(readFileSync(join(base, 'src1', 'shared.bin')).length).toBe(body.length);
    expect(readFileSync(join(base, 'src2', 'shared.bin')).length).toBe(body.length);
  });
});
