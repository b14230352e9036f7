#!/usr/bin/env node
// @rbee/catalog-client: `resolve` + `getPkgbuild` round trips per second against the reference
// server on loopback (serving the example catalog), each measured next to a reference in the
// same run:
//   cold cache   CatalogClient (no cache: 2 GETs + validation)   vs raw undici `request` of the same 2 URLs
//   warm cache   CatalogClient (ETag cache: 2 conditional GETs → 304s, answered from disk)
//                                                                vs raw undici with If-None-Match (304s)
//   directory    CatalogClient on the directory itself            vs fs.readFile of the same 2 files
// Each figure: ops/s over BENCH_MS windows (default 1000 ms) after a warm-up, best of BENCH_ROUNDS (5),
// ours and the reference alternating window by window.
// Run after `pnpm --filter @rbee/catalog-client build`. Last stdout line: BENCH_ROWS <json>.
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CatalogClient } from '../packages/catalog-client/dist/index.js';
import { createCatalogServer } from '../packages/catalog-client/dist/server.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const catalogDir = join(root, 'examples/catalog');
const { Agent, request } = await import(join(root, 'packages/catalog-client/node_modules/undici/index.js'));
const windowMs = Number(process.env.BENCH_MS ?? 1000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const SPEC = 'demo-worker-rbee-bin';
const target = { platform: 'linux', arch: 'x86_64' };

/** ops/s of `a` and `b`, measured in alternating windows (so load changes hit both), best window each. */
async function compare(a, b) {
  for (let i = 0; i < 50; i++) {
    await a(); // warm-up: JIT, connections, page cache
    await b();
  }
  const best = [0, 0];
  for (let r = 0; r < rounds; r++) {
    for (const [k, fn] of [a, b].entries()) {
      let n = 0;
      const t0 = performance.now();
      let t = t0;
      while (t - t0 < windowMs) {
        await fn();
        n++;
        t = performance.now();
      }
      best[k] = Math.max(best[k], (n * 1000) / (t - t0));
    }
  }
  return best;
}

const server = createCatalogServer({ dir: catalogDir });
const url = await server.listen(0, '127.0.0.1');
const cacheDir = mkdtempSync(join(tmpdir(), 'rbee-catalog-bench-'));
const rows = [];
const round1 = (x) => Math.round(x * 10) / 10;
const push = (name, ours, reference, refName) =>
  rows.push({
    name,
    ours: round1(ours),
    reference: round1(reference),
    refName,
    unit: 'ops/s',
    ratio: Number((ours / reference).toPrecision(3)),
    target: '≥ 0.5 (ours/reference ops/s)',
    reproduce: 'pnpm bench catalog',
  });

try {
  // The two URLs a resolve + getPkgbuild costs.
  const workerUrl = new URL(`workers/${SPEC}`, url);
  const pkgbuildUrl = new URL(`workers/${SPEC}/cpu/PKGBUILD`, url);
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  const raw = async (etags) => {
    for (const [i, u] of [workerUrl, pkgbuildUrl].entries()) {
      const headers = etags?.[i] ? { 'if-none-match': etags[i] } : {};
      const res = await request(u, { dispatcher: agent, headers });
      const body = await res.body.text();
      if (res.statusCode !== 200 && res.statusCode !== 304) throw new Error(`raw ${u}: ${res.statusCode}`);
      if (i === 0 && res.statusCode === 200) JSON.parse(body);
    }
  };

  const cold = new CatalogClient({ url, cacheDir: false });
  const roundTrip = async (client) => {
    const resolved = await client.resolve(SPEC, target);
    const pkg = await client.getPkgbuild(resolved);
    if (!pkg.text.includes('pkgname=')) throw new Error('bad PKGBUILD');
  };
  const [oursCold, refCold] = await compare(() => roundTrip(cold), () => raw());
  push('resolve + getPkgbuild, cold cache (loopback reference server)', oursCold, refCold, 'raw undici request() of the same 2 URLs');

  const warm = new CatalogClient({ url, cacheDir });
  await roundTrip(warm); // fill the cache
  const etags = [];
  for (const u of [workerUrl, pkgbuildUrl]) {
    const res = await request(u, { dispatcher: agent });
    await res.body.dump();
    etags.push(res.headers.etag);
  }
  const [oursWarm, refWarm] = await compare(() => roundTrip(warm), () => raw(etags));
  push('resolve + getPkgbuild, warm ETag cache (304 revalidation)', oursWarm, refWarm, 'raw undici request() with If-None-Match (304s)');

  const dirClient = new CatalogClient({ url: catalogDir });
  const [oursDir, refDir] = await compare(() => roundTrip(dirClient), async () => {
    JSON.parse(await readFile(join(catalogDir, 'workers', `${SPEC}.json`), 'utf8'));
    await readFile(join(catalogDir, 'workers', SPEC, 'cpu', 'PKGBUILD'), 'utf8');
  });
  push('resolve + getPkgbuild, directory catalog', oursDir, refDir, 'fs.readFile of the same 2 files + JSON.parse');

  await Promise.all([cold.close(), warm.close(), dirClient.close(), agent.close()]);
} finally {
  await server.close();
  rmSync(cacheDir, { recursive: true, force: true });
}

const pad = (s, n) => String(s).padEnd(n);
console.log(`${pad('benchmark', 64)} ${pad('ours', 10)} ${pad('reference', 10)} ratio`);
for (const r of rows) console.log(`${pad(r.name, 64)} ${pad(r.ours, 10)} ${pad(r.reference, 10)} ${r.ratio}  (${r.refName}, ${r.unit})`);
console.log(`BENCH_ROWS ${JSON.stringify(rows)}`);
