#!/usr/bin/env node
// bench/provision: installing the prebuilt demo worker with a ≥ 50 MiB archive served from
// loopback, against the bare floor of the same work measured in the same run:
//   curl URL | tee file | sha256sum   then   bsdtar -xf file   then   cp -r (the package step)
// Also: a forced re-install from the source cache (vs the first install) and an install of a
// version already present (absolute, target ≤ 50 ms).
//
//   pnpm bench provision            (or: pnpm exec node bench/provision.mjs after a build)
//   BENCH_PROVISION_MIB=50 BENCH_PROVISION_RUNS=3
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCatalogServer } from '../packages/catalog-client/dist/server.js';
import { WorkerProvisioner } from '../packages/worker-provisioner/dist/index.js';
import { startFileServer } from './file-server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const MIB = Number(process.env.BENCH_PROVISION_MIB ?? 50);
const RUNS = Math.max(1, Number(process.env.BENCH_PROVISION_RUNS ?? 3));
const carch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
const fmt = (x) => `${x.toFixed(0).padStart(7)} ms`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const execFileAsync = promisify(execFile);
async function shAsync(cmd) {
  const { stdout } = await execFileAsync('bash', ['-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return stdout;
}

function sh(cmd, opts = {}) {
  const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  return r.stdout;
}

const work = await mkdtemp(join(tmpdir(), 'rbee-bench-provision-'));
const servers = [];
try {
  // 1. the big prebuilt archive: the demo worker plus MIB MiB of incompressible payload
  const dirName = `demo-worker-rbee-0.1.0-${carch}`;
  const stage = join(work, 'stage', dirName);
  await mkdir(stage, { recursive: true });
  await writeFile(join(stage, 'demo-worker-rbee'), '#!/bin/sh\necho "demo-worker-rbee 0.1.0"\n', { mode: 0o755 });
  await writeFile(join(stage, 'LICENSE'), 'MIT\n');
  sh(`head -c ${MIB * 1024 * 1024} /dev/urandom > '${join(stage, 'weights.bin')}'`);
  const files = join(work, 'files');
  await mkdir(files);
  const archive = join(files, `${dirName}.tar.gz`);
  sh(`bsdtar -czf '${archive}' -C '${join(work, 'stage')}' '${dirName}'`);
  const bytes = (await stat(archive)).size;
  const sha = createHash('sha256').update(await readFile(archive)).digest('hex');

  // 2. a loopback file server for the archive, in its own process (as a real one is)
  const fileServer = await startFileServer(files);
  servers.push(async () => fileServer.stop());
  const fileUrl = `${fileServer.base}/${dirName}.tar.gz`;

  // 3. a temp copy of the example catalog whose -bin worker downloads the big archive
  const catalogDir = join(work, 'catalog');
  await cp(join(root, 'examples', 'catalog'), catalogDir, { recursive: true });
  await writeFile(
    join(catalogDir, 'workers/demo-worker-rbee-bin/cpu/PKGBUILD'),
    `pkgname=demo-worker-rbee-bin
_pkgname=demo-worker-rbee
pkgver=0.1.0
pkgrel=1
pkgdesc='Demo rbee worker, prebuilt, with a ${MIB} MiB payload (bench)'
arch=('x86_64' 'aarch64')
url='https://github.com/rbee-keeper/rbee-worker'
license=('MIT')
options=('!strip')
source_${carch}=("${dirName}.tar.gz::${fileUrl}")
sha256sums_${carch}=('${sha}')

package() {
  cd "$srcdir/${dirName}"
  install -Dm755 demo-worker-rbee "$pkgdir/usr/bin/demo-worker-rbee"
  install -Dm644 weights.bin "$pkgdir/usr/share/demo-worker-rbee/weights.bin"
  install -Dm644 LICENSE "$pkgdir/usr/share/licenses/$pkgname/LICENSE"
}
`,
  );
  const catalog = createCatalogServer({ dir: catalogDir });
  const catalogUrl = await catalog.listen(0, '127.0.0.1');
  servers.push(() => catalog.close());

  // 4. the floor (curl | tee | sha256sum, bsdtar -xf, cp -r of the extracted tree) and ours
  // (a first install into a fresh home, a forced re-install from the source cache, the fast
  // path), interleaved run by run, each after a `sync` so that neither pays for the other's
  // dirty pages being written back
  const floorRuns = [];
  const firstRuns = [];
  const forcedRuns = [];
  const presentRuns = [];
  for (let i = 0; i < RUNS; i++) {
    const d = join(work, `floor-${i}`);
    await mkdir(join(d, 'src'), { recursive: true });
    await shAsync('sync');
    let t = performance.now();
    const sum = (await shAsync(`curl -s '${fileUrl}' | tee '${d}/a.tar.gz' | sha256sum`)).split(' ')[0];
    const t1 = performance.now();
    await shAsync(`bsdtar -xf '${d}/a.tar.gz' -C '${d}/src'`);
    const t2 = performance.now();
    await shAsync(`cp -r '${d}/src/${dirName}' '${d}/pkg'`);
    floorRuns.push(performance.now() - t);
    console.log(`floor: download+sha256 ${(t1 - t).toFixed(0)} ms, bsdtar ${(t2 - t1).toFixed(0)} ms, cp ${(performance.now() - t2).toFixed(0)} ms`);
    if (sum !== sha) throw new Error('floor: checksum differs');
    await rm(d, { recursive: true, force: true });

    const home = join(work, `home-${i}`);
    const p = new WorkerProvisioner({ home, catalog: { url: catalogUrl, cacheDir: false }, detectBackend: () => 'cpu' });
    await shAsync('sync');
    t = performance.now();
    const timeline = [];
    const w = await p.provision('demo-worker-rbee-bin', {
      onEvent: (e) => {
        if (e.type === 'phase' && e.status !== 'skipped') timeline.push(`${e.phase}:${e.status}@${(performance.now() - t).toFixed(0)}`);
      },
    });
    firstRuns.push(performance.now() - t);
    console.log(`provision phases (ms since start): ${timeline.join(' ')}`);
    if ((await stat(join(w.installDir, 'usr/share/demo-worker-rbee/weights.bin'))).size !== MIB * 1024 * 1024) throw new Error('payload not installed');
    await shAsync('sync');
    t = performance.now();
    await p.provision('demo-worker-rbee-bin', { force: true });
    forcedRuns.push(performance.now() - t);
    for (let k = 0; k < 5; k++) {
      t = performance.now();
      await p.provision('demo-worker-rbee-bin');
      presentRuns.push(performance.now() - t);
    }
    await p.close();
    await rm(home, { recursive: true, force: true });
  }

  const floor = median(floorRuns);
  const first = median(firstRuns);
  const forced = median(forcedRuns);
  const present = median(presentRuns);
  console.log(`archive: ${(bytes / 1048576).toFixed(1)} MiB from loopback, ${RUNS} runs each, medians`);
  console.log(`floor (curl|tee|sha256sum + bsdtar -xf + cp -r) ${fmt(floor)}   runs: ${floorRuns.map((x) => x.toFixed(0)).join(' ')}`);
  console.log(`provision, first install                      ${fmt(first)}   runs: ${firstRuns.map((x) => x.toFixed(0)).join(' ')}   ratio ${(first / floor).toFixed(2)} (target ≤ 1.5)`);
  console.log(`provision, forced re-install (source cache)   ${fmt(forced)}   runs: ${forcedRuns.map((x) => x.toFixed(0)).join(' ')}   ratio ${(forced / first).toFixed(2)} of the first (target ≤ 0.5)`);
  console.log(`provision, already installed                  ${fmt(present)}   (target ≤ 50 ms)`);
  const reproduce = 'pnpm bench provision';
  const rows = [
    { name: `provision prebuilt worker (${MIB} MiB archive)`, ours: +first.toFixed(1), reference: +floor.toFixed(1), refName: 'curl|sha256sum + bsdtar -xf + cp', unit: 'ms', ratio: +(first / floor).toFixed(3), target: '≤ 1.5', reproduce },
    { name: 'forced re-install from the source cache', ours: +forced.toFixed(1), reference: +first.toFixed(1), refName: 'first install (same run)', unit: 'ms', ratio: +(forced / first).toFixed(3), target: '≤ 0.5', reproduce },
    { name: 'install of a version already present', ours: +present.toFixed(1), reference: 50, refName: 'budget 50 ms', unit: 'ms', ratio: +(present / 50).toFixed(3), target: '≤ 1 (≤ 50 ms)', reproduce },
  ];
  console.log(`BENCH_ROWS ${JSON.stringify(rows)}`);
} finally {
  for (const close of servers) await close();
  await rm(work, { recursive: true, force: true });
}
