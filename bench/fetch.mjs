// Source fetcher benchmark (run after `pnpm --filter @rbee/source-fetcher build`):
//  1. a 512 MiB file from a loopback HTTP server (separate process, `Connection: close` after
//     every response): fetchSources download + sha256 + b2 verification vs
//     `curl -s URL | tee FILE | sha256sum` in the same run — target ≥ 1.5× curl's throughput;
//  2. extraction of a ≥ 200 MB tar.gz and tar.xz: extractArchive vs `bsdtar -xf` — target ≥ 0.95×;
//  3. a second fetchSources of the same sources makes zero requests (server-side count).
// Inputs are generated into a temp dir (deleted at the end). Medians of 3 alternating runs.
// Last stdout line: BENCH_ROWS <json>.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { extractArchive, fetchSources } from '../packages/source-fetcher/dist/index.js';
import { startFileServer } from './file-server.mjs';

const MiB = 1024 * 1024;
const FILE_MIB = Number(process.env.BENCH_FETCH_MIB ?? 512);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const work = mkdtempSync(join(tmpdir(), 'rbee-bench-fetch-'));
const shm = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/rbee-bench-x-') : mkdtempSync(join(tmpdir(), 'rbee-bench-x-'));
const log = (...a) => console.error(...a);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function sh(cmd) {
  execFileSync('bash', ['-c', cmd], { stdio: ['ignore', 'ignore', 'inherit'] });
}

// CPU of this process (main thread + worker threads) plus the children it reaped (for extraction:
// the bsdtar processes): /proc/self/stat's cutime/cstime, in clock ticks (100 per second on Linux).
function cpuNow() {
  const u = process.cpuUsage();
  const st = readFileSync('/proc/self/stat', 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return (u.user + u.system) / 1e6 + (Number(f[13]) + Number(f[14])) / 100;
}

async function digest(file, alg) {
  const h = createHash(alg);
  for await (const c of createReadStream(file, { highWaterMark: 4 * MiB })) h.update(c);
  return h.digest('hex');
}

const rows = [];
let server;
try {
  // ---- 1. download + verify -------------------------------------------------------------
  log(`generating ${FILE_MIB} MiB of random data…`);
  const big = join(work, 'big.bin');
  sh(`head -c ${FILE_MIB * MiB} /dev/urandom > ${big}`);
  const [sha256, b2] = [await digest(big, 'sha256'), await digest(big, 'blake2b512')];
  server = await startFileServer(work, { fromMemory: true });
  const url = `${server.base}/big.bin`;
  const pkgbuild = (srcUrl) => ({ pkgbase: 'b', pkgname: ['b'], vars: { source: [srcUrl], sha256sums: [sha256], b2sums: [b2] }, packages: [], functions: [], unknown: [], carch: 'x86_64' });
  const ours = [];
  const curl = [];
  const oursCpu = [];
  const curlCpu = [];
  for (let i = 0; i < RUNS; i++) {
    const job = join(work, `job${i}`);
    mkdirSync(job);
    const c0 = process.cpuUsage();
    let t = performance.now();
    await fetchSources({ pkgbuild: pkgbuild(url), startdir: job, srcdest: join(job, 'sources'), srcdir: join(job, 'src') });
    ours.push((performance.now() - t) / 1000);
    const c = process.cpuUsage(c0);
    oursCpu.push((c.user + c.system) / 1e6);
    t = performance.now();
    // CPU of the whole pipeline (curl + tee + sha256sum) from bash's `times` for its children.
    const out = execFileSync('bash', ['-c', `curl -s ${url} | tee ${join(job, 'curl.bin')} | sha256sum; times`], { encoding: 'utf8' });
    curl.push((performance.now() - t) / 1000);
    if (!out.startsWith(sha256)) throw new Error('curl reference produced a wrong digest');
    const times = out.trim().split('\n').at(-1).match(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/);
    curlCpu.push(times ? Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]) : NaN);
    if (i < RUNS - 1) rmSync(job, { recursive: true, force: true });
  }
  const mbs = (s) => (FILE_MIB * MiB) / 1e6 / s;
  const oursMBs = mbs(median(ours));
  const curlMBs = mbs(median(curl));
  log(`download+verify ${FILE_MIB} MiB: fetchSources (sha256+b2) ${median(ours).toFixed(2)} s = ${oursMBs.toFixed(0)} MB/s; curl|tee|sha256sum ${median(curl).toFixed(2)} s = ${curlMBs.toFixed(0)} MB/s (runs: ${ours.map((x) => x.toFixed(2))} / ${curl.map((x) => x.toFixed(2))})`);
  const effOurs = (FILE_MIB * MiB) / 1e6 / median(oursCpu);
  const effCurl = (FILE_MIB * MiB) / 1e6 / median(curlCpu);
  log(`CPU used: fetchSources ${median(oursCpu).toFixed(2)} s (main + hash workers; sha256 AND b2), curl pipeline ${median(curlCpu).toFixed(2)} s (sha256 only) → ${effOurs.toFixed(0)} vs ${effCurl.toFixed(0)} MB per CPU-second`);
  rows.push({ name: `fetch ${FILE_MIB} MiB download + sha256 + b2`, ours: +oursMBs.toFixed(1), reference: +curlMBs.toFixed(1), refName: 'curl -s URL | tee FILE | sha256sum', unit: 'MB/s', ratio: +(oursMBs / curlMBs).toFixed(2), target: '≥ 1.5×', reproduce: 'pnpm bench fetch' });

  rows.push({ name: `fetch ${FILE_MIB} MiB: MB per CPU-second`, ours: +effOurs.toFixed(1), reference: +effCurl.toFixed(1), refName: 'curl | tee | sha256sum (user+sys)', unit: 'MB/CPU-s', ratio: +(effOurs / effCurl).toFixed(2), target: 'info', reproduce: 'pnpm bench fetch' });

  // ---- 3. second fetch: zero requests --------------------------------------------------------
  const lastJob = join(work, `job${RUNS - 1}`);
  const before = await server.count();
  const again = await fetchSources({ pkgbuild: pkgbuild(url), startdir: lastJob, srcdest: join(lastJob, 'sources'), srcdir: join(lastJob, 'src-again') });
  const requests = (await server.count()) - before;
  log(`second fetch of the same sources: ${requests} request(s), fromCache=${again[0].fromCache}`);
  rows.push({ name: 'second fetch of the same sources', ours: requests, reference: 1, refName: 'first fetch (requests)', unit: 'requests', ratio: requests, target: '= 0', reproduce: 'pnpm bench fetch' });
  server.stop();
  server = undefined;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  // ---- 2. extraction ------------------------------------------------------------------------
  log('generating the extraction tree (/usr/include + random files)…');
  const tree = join(work, 'tree');
  mkdirSync(join(tree, 'data'), { recursive: true });
  sh(`cp -a /usr/include ${tree}/include`);
  sh(`for i in $(seq 1 400); do head -c 524288 /dev/urandom > ${tree}/data/blob$i.bin; done`);
  const tgz = join(work, 'src.tar.gz');
  const txz = join(work, 'src.tar.xz');
  sh(`tar -C ${tree} -cf - include data | gzip -1 > ${tgz}`);
  sh(`tar -C ${tree} -cf - include data | xz -T2 -1 > ${txz}`);
  rmSync(tree, { recursive: true, force: true });
  for (const [kind, file] of [['tar.gz', tgz], ['tar.xz', txz]]) {
    const size = statSync(file).size;
    const o = [];
    const p = [];
    const r = [];
    const oc = [];
    const rc = [];
    for (let i = 0; i < RUNS; i++) {
      const d1 = join(shm, `ours${i}`);
      const d3 = join(shm, `par${i}`);
      const d2 = join(shm, `ref${i}`);
      mkdirSync(d1);
      mkdirSync(d2);
      mkdirSync(d3);
      let c = cpuNow();
      let t = performance.now();
      await extractArchive({ file, dest: d1 });
      o.push((performance.now() - t) / 1000);
      oc.push(cpuNow() - c);
      t = performance.now();
      await extractArchive({ file, dest: d3, check: 'parallel' });
      p.push((performance.now() - t) / 1000);
      c = cpuNow();
      t = performance.now();
      execFileSync('bsdtar', ['-xf', file, '-C', d2]);
      r.push((performance.now() - t) / 1000);
      rc.push(cpuNow() - c);
      for (const d of [d1, d2, d3]) rmSync(d, { recursive: true, force: true });
    }
    const oM = size / 1e6 / median(o);
    const pM = size / 1e6 / median(p);
    const rM = size / 1e6 / median(r);
    log(`extract ${kind} (${(size / 1e6).toFixed(0)} MB): extractArchive ${median(o).toFixed(2)} s (check: 'stream'), ${median(p).toFixed(2)} s (check: 'parallel'), bsdtar -xf ${median(r).toFixed(2)} s (runs: ${o.map((x) => x.toFixed(2))} / ${p.map((x) => x.toFixed(2))} / ${r.map((x) => x.toFixed(2))})`);
    log(`  CPU used (user+sys, all processes and threads): extractArchive 'stream' ${median(oc).toFixed(2)} s, bsdtar -xf ${median(rc).toFixed(2)} s`);
    rows.push({ name: `extract ${(size / 1e6).toFixed(0)} MB ${kind} (default stream check)`, ours: +oM.toFixed(1), reference: +rM.toFixed(1), refName: 'bsdtar -xf', unit: 'MB/s', ratio: +(oM / rM).toFixed(2), target: '≥ 0.95×', reproduce: 'pnpm bench fetch' });
    rows.push({ name: `extract ${(size / 1e6).toFixed(0)} MB ${kind}: CPU-seconds`, ours: +median(oc).toFixed(2), reference: +median(rc).toFixed(2), refName: 'bsdtar -xf (user+sys)', unit: 'CPU-s', ratio: +(median(oc) / median(rc)).toFixed(2), target: 'info', reproduce: 'pnpm bench fetch' });
    rows.push({ name: `extract ${(size / 1e6).toFixed(0)} MB ${kind} (check: 'parallel')`, ours: +pM.toFixed(1), reference: +rM.toFixed(1), refName: 'bsdtar -xf', unit: 'MB/s', ratio: +(pM / rM).toFixed(2), target: 'info', reproduce: 'pnpm bench fetch' });
  }
} finally {
  server?.stop();
  rmSync(work, { recursive: true, force: true });
  rmSync(shm, { recursive: true, force: true });
}

console.table(rows.map((r) => ({ name: r.name, ours: r.ours, reference: r.reference, unit: r.unit, ratio: r.ratio, target: r.target })));
console.log(`BENCH_ROWS ${JSON.stringify(rows)}`);
