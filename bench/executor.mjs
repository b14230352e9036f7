#!/usr/bin/env node
// bench/executor: @rbee/pkgbuild-executor against makepkg 6.0.2, measured in the same run.
//  1. inspectPkgbuild time per file (batch: inspectPkgbuilds, one bash for all; and one call per
//     file) vs `makepkg --printsrcinfo` per file (run as the unprivileged build user) on the
//     same PKGBUILDs.                                                       target ≤ 1/20
//  2. runPkgbuild fixed overhead (trivial prepare/build/check/package, sandbox auto, fakeroot)
//     vs `makepkg --noextract --nodeps --skipinteg` on the same PKGBUILD.   target ≤ 1/5
//  3. fakeroot's cost: package() doing `cp -a` of many small files, with and without fakeroot.
// Needs a build first (`pnpm bench executor` builds). Env: BENCH_MAKEPKG_FILES (default 6),
// BENCH_RUNS (default 5), BENCH_FILES (default 2000 files for the fakeroot row).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspectPkgbuild, inspectPkgbuilds, runPkgbuild } from '../packages/pkgbuild-executor/dist/index.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const user = process.env.MAKEPKG_USER ?? 'rbeebuild';
const runs = Number(process.env.BENCH_RUNS ?? 5);
const makepkgFiles = Number(process.env.BENCH_MAKEPKG_FILES ?? 6);
const nFiles = Number(process.env.BENCH_FILES ?? 2000);
const isRoot = process.getuid?.() === 0;
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};
const fmt = (n) => (n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(1) : n.toFixed(3));

function asUser(cmd, args, cwd) {
  const full = ['env', '-i', 'PATH=/usr/bin:/bin', `HOME=${cwd}`, 'LC_ALL=C', 'CARCH=x86_64', cmd, ...args];
  const t0 = performance.now();
  const r = isRoot ? spawnSync('runuser', ['-u', user, '--', ...full], { cwd, encoding: 'utf8' }) : spawnSync(full[0], full.slice(1), { cwd, encoding: 'utf8' });
  return { ms: performance.now() - t0, status: r.status, stderr: r.stderr };
}

const work = mkdtempSync(join(tmpdir(), 'rbee-bench-executor-'));
chmodSync(work, 0o755);
try {
  // ---- 1. inspect vs makepkg --printsrcinfo ----
  const dirs = [];
  const pick = (base, limit) => {
    if (!existsSync(base)) return;
    for (const d of readdirSync(base).sort()) {
      if (dirs.length >= limit) break;
      if (existsSync(join(base, d, 'PKGBUILD')) && existsSync(join(base, d, 'expected.x86_64.srcinfo'))) dirs.push(join(base, d));
    }
  };
  pick(join(root, 'packages/pkgbuild-executor/test/fixtures/inspect'), 100);
  pick(join(root, 'packages/pkgbuild-parser/test/fixtures/conformance'), 60);
  const files = dirs.map((d, i) => {
    const c = join(work, `f${i}`);
    cpSync(d, c, { recursive: true });
    return join(c, 'PKGBUILD');
  });
  if (isRoot) execFileSync('chown', ['-R', user, work]);

  await inspectPkgbuilds(files.slice(0, 2), { carch: 'x86_64' }); // warm-up (sandbox probe, driver load)
  const batch = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const out = await inspectPkgbuilds(files, { carch: 'x86_64' });
    batch.push((performance.now() - t0) / files.length);
    if (r === 0) {
      const bad = out.filter((o) => !o.ok);
      if (bad.length) console.log(`  (${bad.length} files failed to inspect)`);
    }
  }
  const single = [];
  for (const f of files.slice(0, Math.min(files.length, 20))) {
    const t0 = performance.now();
    await inspectPkgbuild(f, { carch: 'x86_64' });
    single.push(performance.now() - t0);
  }
  const mk = [];
  for (const f of files.slice(0, makepkgFiles)) {
    const r = asUser('makepkg', ['--printsrcinfo'], dirname(f));
    if (r.status === 0) mk.push(r.ms);
  }
  const batchMs = median(batch);
  const singleMs = median(single);
  const mkMs = median(mk);
  console.log(`inspect: ${files.length} PKGBUILDs`);
  console.log('| measure | ours (ms/file) | makepkg --printsrcinfo (ms/file) | ratio |');
  console.log('|---|---|---|---|');
  console.log(`| inspectPkgbuilds (batch, median of ${runs}) | ${fmt(batchMs)} | ${fmt(mkMs)} (${mk.length} files) | 1/${fmt(mkMs / batchMs)} |`);
  console.log(`| inspectPkgbuild (one call per file, median) | ${fmt(singleMs)} | ${fmt(mkMs)} | 1/${fmt(mkMs / singleMs)} |`);

  // ---- 2. runPkgbuild fixed overhead vs makepkg -e -d --skipinteg ----
  const trivial = join(work, 'trivial');
  mkdirSync(trivial);
  writeFileSync(
    join(trivial, 'PKGBUILD'),
    'pkgname=trivial\npkgver=1\npkgrel=1\narch=(any)\nprepare() { :; }\nbuild() { :; }\ncheck() { :; }\npackage() { :; }\n',
  );
  if (isRoot) execFileSync('chown', ['-R', user, trivial]);
  const ours = [];
  let used = '';
  for (let r = 0; r < runs + 1; r++) {
    const d = join(work, `run${r}`);
    const t0 = performance.now();
    const res = await runPkgbuild({ pkgbuildPath: join(trivial, 'PKGBUILD'), startdir: trivial, srcdir: join(d, 'src'), pkgdir: join(d, 'pkg') });
    if (r > 0) ours.push(performance.now() - t0);
    used = `sandbox ${res.sandbox}, fakeroot ${res.fakeroot}`;
  }
  const ref = [];
  for (let r = 0; r < Math.max(2, Math.min(runs, 4)); r++) {
    rmSync(join(trivial, 'src'), { recursive: true, force: true });
    rmSync(join(trivial, 'pkg'), { recursive: true, force: true });
    for (const f of readdirSync(trivial)) if (f.includes('.pkg.tar')) rmSync(join(trivial, f));
    const res = asUser('makepkg', ['--noextract', '--nodeps', '--skipinteg', '-f'], trivial);
    if (res.status === 0) ref.push(res.ms);
    else console.log(`  makepkg failed: ${res.stderr.trim().split('\n').pop()}`);
  }
  const oursMs = median(ours);
  const refMs = median(ref);
  console.log(`\nrunPkgbuild fixed overhead (${used}): ${fmt(oursMs)} ms; makepkg --noextract --nodeps --skipinteg: ${fmt(refMs)} ms; ratio 1/${fmt(refMs / oursMs)}`);

  // ---- 3. fakeroot cost ----
  const fr = join(work, 'fakeroot');
  mkdirSync(fr);
  writeFileSync(
    join(fr, 'PKGBUILD'),
    `pkgname=many\npkgver=1\npkgrel=1\narch=(any)\nbuild() { mkdir -p tree; for i in $(seq ${nFiles}); do echo $i > tree/f$i; done; }\npackage() { cp -a tree "$pkgdir/"; }\n`,
  );
  const pkgMs = { true: [], false: [] };
  for (let r = 0; r < Math.max(2, Math.min(runs, 3)); r++) {
    for (const fk of [false, true]) {
      const d = join(work, `fr-${fk}-${r}`);
      const res = await runPkgbuild({ pkgbuildPath: join(fr, 'PKGBUILD'), startdir: fr, srcdir: join(d, 'src'), pkgdir: join(d, 'pkg'), fakeroot: fk });
      pkgMs[String(fk)].push(res.durations.package);
    }
  }
  const plain = median(pkgMs.false);
  const faked = median(pkgMs.true);
  console.log(`package() cp -a of ${nFiles} files: plain ${fmt(plain)} ms, under fakeroot ${fmt(faked)} ms (×${(faked / plain).toFixed(1)})`);

  const rows = [
    {
      name: 'executor: inspectPkgbuilds per file (batch) vs makepkg --printsrcinfo',
      ours: Number(batchMs.toFixed(2)),
      reference: Number(mkMs.toFixed(1)),
      refName: 'makepkg 6.0.2 --printsrcinfo (wall, as build user)',
      unit: 'ms',
      ratio: Number((batchMs / mkMs).toFixed(4)),
      target: '≤ 1/20',
      reproduce: 'pnpm bench executor',
    },
    {
      name: 'executor: inspectPkgbuild one call per file vs makepkg --printsrcinfo',
      ours: Number(singleMs.toFixed(1)),
      reference: Number(mkMs.toFixed(1)),
      refName: 'makepkg 6.0.2 --printsrcinfo (wall, as build user)',
      unit: 'ms',
      ratio: Number((singleMs / mkMs).toFixed(4)),
      target: '≤ 1/20',
      reproduce: 'pnpm bench executor',
    },
    {
      name: `executor: runPkgbuild fixed overhead, trivial functions (${used})`,
      ours: Number(oursMs.toFixed(1)),
      reference: Number(refMs.toFixed(1)),
      refName: 'makepkg --noextract --nodeps --skipinteg (wall, as build user)',
      unit: 'ms',
      ratio: Number((oursMs / refMs).toFixed(4)),
      target: '≤ 1/5',
      reproduce: 'pnpm bench executor',
    },
    {
      name: `executor: package() cp -a of ${nFiles} files under fakeroot vs plain`,
      ours: Number(faked.toFixed(1)),
      reference: Number(plain.toFixed(1)),
      refName: 'same package() with fakeroot: false',
      unit: 'ms',
      ratio: Number((faked / plain).toFixed(2)),
      target: 'informational (fakeroot cost)',
      reproduce: 'pnpm bench executor',
    },
  ];
  console.log(`BENCH_ROWS ${JSON.stringify(rows)}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
