#!/usr/bin/env node
// rbee-worker startup: `--version` and `pkgbuild lint` wall time, each against a reference run
// in the same process on the same machine:
//   --version        vs `node -e 0` (the floor: starting Node 24 itself)
//   pkgbuild lint    vs `makepkg --printsrcinfo` (what makepkg runs to read and lint a PKGBUILD,
//                    as the unprivileged build user)
// Median of N runs (BENCH_RUNS, default 15; makepkg runs are capped at 5: ~3 CPU-s each).
// Last stdout line: BENCH_ROWS <json>.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const cli = join(root, 'packages/cli/dist/cli.js');
const node = process.execPath;
const runs = Number(process.env.BENCH_RUNS ?? 15);
const pkgbuild = join(root, 'examples/catalog/workers/demo-worker-rbee/cpu/PKGBUILD');

function time(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' }, ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/** Single-quotes a word for bash. */
const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/**
 * CPU time (user + sys) per run, in ms: `n` runs inside one bash, whose `times` builtin prints
 * the children's cumulative CPU. Much less sensitive than wall time to other load on the machine.
 */
function cpuPerRun(cmd, args, n, opts = {}) {
  const line = [cmd, ...args].map(q).join(' ');
  const script = `for i in $(seq ${n}); do ${line} >/dev/null 2>&1; done; times`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, ...opts });
  const children = r.stdout.trim().split('\n').at(-1) ?? '';
  const secs = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((a, m) => a + Number(m[1]) * 60 + Number(m[2]), 0);
  return (secs * 1000) / n;
}

function median(cmd, args, n, opts) {
  time(cmd, args, opts); // warm the page cache
  const xs = Array.from({ length: n }, () => time(cmd, args, opts)).sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)];
}

const rows = [];
const round = (x) => Math.round(x * 10) / 10;

const ver = median(node, [cli, '--version'], runs);
const floor = median(node, ['-e', '0'], runs);
const cpu = {
  version: cpuPerRun(node, [cli, '--version'], runs),
  help: cpuPerRun(node, [cli, '--help'], runs),
  lint: cpuPerRun(node, [cli, 'pkgbuild', 'lint', pkgbuild], runs),
  floor: cpuPerRun(node, ['-e', '0'], runs),
};
rows.push({
  name: 'rbee-worker --version startup',
  ours: round(ver),
  reference: round(floor),
  refName: 'node -e 0 (Node start-up alone)',
  unit: 'ms',
  ratio: Number((ver / floor).toPrecision(3)),
  target: '≤ 150 ms absolute',
  reproduce: 'pnpm bench cli',
});

const help = median(node, [cli, '--help'], runs);
rows.push({
  name: 'rbee-worker --help (loads the whole command tree)',
  ours: round(help),
  reference: round(floor),
  refName: 'node -e 0 (Node start-up alone)',
  unit: 'ms',
  ratio: Number((help / floor).toPrecision(3)),
  target: '≤ 150 ms absolute',
  reproduce: 'pnpm bench cli',
});

const lint = median(node, [cli, 'pkgbuild', 'lint', pkgbuild], runs, { allowFail: true });
let makepkg;
const dir = mkdtempSync(join(tmpdir(), 'rbee-bench-cli-'));
try {
  chmodSync(dir, 0o777);
  copyFileSync(pkgbuild, join(dir, 'PKGBUILD'));
  chmodSync(join(dir, 'PKGBUILD'), 0o644);
  const asUser = process.getuid?.() === 0 ? ['runuser', ['-u', process.env.MAKEPKG_USER ?? 'rbeebuild', '--', 'env', 'LC_ALL=C', 'CARCH=x86_64', 'makepkg', '--printsrcinfo']] : ['makepkg', ['--printsrcinfo']];
  makepkg = median(asUser[0], asUser[1], Math.min(runs, 5), { cwd: dir });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
rows.push({
  name: 'rbee-worker pkgbuild lint (one PKGBUILD, process start to exit)',
  ours: round(lint),
  reference: round(makepkg),
  refName: 'makepkg --printsrcinfo',
  unit: 'ms',
  ratio: Number((lint / makepkg).toPrecision(3)),
  target: '≤ 1/20',
  reproduce: 'pnpm bench cli',
});

rows.push({
  name: 'rbee-worker --version CPU time (user+sys; robust to machine load)',
  ours: round(cpu.version),
  reference: round(cpu.floor),
  refName: 'node -e 0 CPU time',
  unit: 'ms',
  ratio: Number((cpu.version / cpu.floor).toPrecision(3)),
  target: '≈ 1 (nothing beyond Node start-up)',
  reproduce: 'pnpm bench cli',
});

console.log(`runs: ${runs} (median wall time), node ${process.version}`);
for (const r of rows) console.log(`${r.name.padEnd(64)} ${String(r.ours).padStart(8)} ${r.unit}   ref ${r.refName}: ${r.reference} ${r.unit}   ratio ${r.ratio}`);
console.log(
  `CPU time (user+sys) per run: --version ${round(cpu.version)} ms, --help ${round(cpu.help)} ms, pkgbuild lint ${round(cpu.lint)} ms; node -e 0 ${round(cpu.floor)} ms`,
);
console.log(`BENCH_ROWS ${JSON.stringify(rows)}`);
