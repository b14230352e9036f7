#!/usr/bin/env node
// bench/parser: @rbee/pkgbuild-parser's parse + evaluate + toSrcinfo per PKGBUILD, against
// tree-sitter-bash (web-tree-sitter 0.25 WASM, parse only) on the same files in the same run, and
// against `makepkg --printsrcinfo` (run as the unprivileged build user) on a few of them.
// Files: every conformance fixture plus generated PKGBUILDs of realistic shape and size.
// Run after a build: `pnpm bench parser` (or `pnpm exec node bench/parser.mjs`).
// Last stdout line: BENCH_ROWS <json>.
import { spawnSync } from 'node:child_process';
import { cpSync, chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { parsePkgbuild, toSrcinfo } = await import(join(root, 'packages/pkgbuild-parser/dist/index.js'));
const require = createRequire(join(root, 'package.json'));
const { Parser, Language } = await import(require.resolve('web-tree-sitter'));

// ---- the files ----
const fixDir = join(root, 'packages/pkgbuild-parser/test/fixtures/conformance');
const files = readdirSync(fixDir)
  .filter((n) => !n.startsWith('rej-crlf'))
  .sort()
  .map((n) => ({ name: n, text: readFileSync(join(fixDir, n, 'PKGBUILD'), 'utf8') }));

// deterministic generated PKGBUILDs of the shape real ones have (metadata, arrays, split
// packages, build/package functions with shell code)
let seed = 12345;
const rnd = (n) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
const pick = (a) => a[rnd(a.length)];
const words = ['lib', 'python', 'cuda', 'rocm', 'qt6', 'gtk', 'rust', 'zlib', 'openssl', 'curl', 'llama', 'rbee', 'vulkan'];
for (let i = 0; i < 100; i++) {
  const split = rnd(4) === 0;
  const names = split ? [`gen${i}`, `gen${i}-docs`] : [`gen${i}`];
  const arr = (k) => Array.from({ length: 1 + rnd(k) }, () => `'${pick(words)}${rnd(3) ? '' : '>=1.' + rnd(9)}'`).join(' ');
  const lines = [
    '# Maintainer: Generated <gen@example.org>',
    split ? `pkgbase=gen${i}\npkgname=(${names.join(' ')})` : `pkgname=${names[0]}`,
    `_pkgver=${rnd(5)}.${rnd(20)}.${rnd(9)}-rc${rnd(3)}`,
    'pkgver=${_pkgver//-/.}',
    `pkgrel=${1 + rnd(3)}`,
    `pkgdesc="A generated package number ${i} for \${CARCH} with \${_pkgver%-*}"`,
    "arch=('x86_64' 'aarch64')",
    `url="https://example.org/\${pkgname}"`,
    "license=('MIT')",
    `depends=(${arr(6)})`,
    `makedepends=(${arr(4)} cmake git)`,
    `optdepends=('cuda: GPU support' 'rocm-hip-sdk: AMD GPU support')`,
    'source=("${pkgname}-${pkgver}.tar.gz::https://example.org/v${_pkgver}.tar.gz"\n        fix-build.patch)',
    "sha256sums=('SKIP'\n            '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef')",
    `source_x86_64=("https://example.org/bin-x86_64-\${pkgver}.tar.zst")\nsha256sums_x86_64=('SKIP')`,
    rnd(2) ? 'if [[ $CARCH == aarch64 ]]; then\n  makedepends+=(clang)\nfi' : '',
    'prepare() {\n  cd "$srcdir/$pkgname-$_pkgver"\n  patch -Np1 -i ../fix-build.patch\n}',
    'build() {\n  cd "$srcdir/$pkgname-$_pkgver"\n' +
      Array.from({ length: 10 + rnd(40) }, (_, k) => `  cmake --build build --target t${k} -j"$(nproc)" || return 1`).join('\n') +
      '\n}',
    ...(split
      ? [
          `package_${names[0]}() {\n  depends+=(glibc)\n  DESTDIR="$pkgdir" cmake --install build\n}`,
          `package_${names[1]}() {\n  arch=('any')\n  pkgdesc="Docs for ${names[0]}"\n  install -Dm644 README.md "$pkgdir/usr/share/doc/${names[0]}/README.md"\n}`,
        ]
      : ['package() {\n  DESTDIR="$pkgdir" cmake --install build\n  install -Dm644 LICENSE -t "$pkgdir/usr/share/licenses/$pkgname"\n}']),
  ];
  files.push({ name: `generated-${i}`, text: `${lines.filter(Boolean).join('\n')}\n` });
}

// ---- tree-sitter-bash ----
await Parser.init();
const bashWasm = join(dirname(require.resolve('tree-sitter-bash/package.json')), 'tree-sitter-bash.wasm');
const lang = await Language.load(bashWasm);
const ts = new Parser();
ts.setLanguage(lang);

const ours = (text) => {
  const r = parsePkgbuild(text, { carch: 'x86_64' });
  return toSrcinfo(r.pkgbuild);
};
const theirs = (text) => {
  const tree = ts.parse(text);
  const n = tree.rootNode.childCount;
  tree.delete();
  return n;
};

/** Median of per-file mean times (ms), both measured interleaved per file so load affects both alike. */
function measure(rounds) {
  const a = [];
  const b = [];
  for (const f of files) {
    for (let w = 0; w < 3; w++) {
      ours(f.text);
      theirs(f.text);
    }
    let ta = 0;
    let tb = 0;
    for (let r = 0; r < rounds; r++) {
      let t0 = performance.now();
      ours(f.text);
      ta += performance.now() - t0;
      t0 = performance.now();
      theirs(f.text);
      tb += performance.now() - t0;
    }
    a.push(ta / rounds);
    b.push(tb / rounds);
  }
  return { ours: median(a), ts: median(b), p90ours: pct(a, 0.9), p90ts: pct(b, 0.9) };
}
const median = (xs) => pct(xs, 0.5);
function pct(xs, p) {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

// warm-up pass over everything (JIT), then the measured pass
measure(2);
const m = measure(Number(process.env.BENCH_ROUNDS ?? 20));

// ---- makepkg --printsrcinfo on a few files ----
const makepkgFiles = ['basic-all-arrays', 'split-many-packages', 'case-carch'].filter((n) => files.some((f) => f.name === n));
let makepkgMs = null;
const makepkgTimes = [];
const user = process.env.MAKEPKG_USER ?? 'rbeebuild';
if (existsSync('/usr/bin/makepkg')) {
  const scratch = mkdtempSync(join(tmpdir(), 'bench-makepkg-'));
  chmodSync(scratch, 0o755);
  try {
    for (const n of makepkgFiles) {
      const d = join(scratch, n);
      cpSync(join(fixDir, n), d, { recursive: true });
      const cmd = ['env', '-i', 'PATH=/usr/bin:/bin', 'HOME=/tmp', 'LC_ALL=C', 'CARCH=x86_64', 'makepkg', '--printsrcinfo'];
      const argv = process.getuid?.() === 0 ? ['runuser', '-u', user, '--', ...cmd] : cmd;
      if (process.getuid?.() === 0) spawnSync('chown', ['-R', user, scratch]);
      const t0 = performance.now();
      const r = spawnSync(argv[0], argv.slice(1), { cwd: d, encoding: 'utf8' });
      const dt = performance.now() - t0;
      if (r.status === 0) {
        makepkgTimes.push(dt);
        const same = r.stdout === ours(readFileSync(join(d, 'PKGBUILD'), 'utf8'));
        console.log(`makepkg --printsrcinfo ${n}: ${dt.toFixed(0)} ms (our output ${same ? 'identical' : 'DIFFERS'})`);
      } else console.log(`makepkg --printsrcinfo ${n}: failed (${r.status}) ${r.stderr.trim()}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  if (makepkgTimes.length) makepkgMs = median(makepkgTimes);
} else console.log('makepkg not installed: skipping the makepkg reference');

const fmt = (x) => (x >= 1 ? x.toFixed(2) : x.toFixed(4));
console.log(`files: ${files.length} (${files.length - 100} conformance fixtures + 100 generated)`);
console.log('| measure | ours (ms/file) | reference (ms/file) | ratio |');
console.log('|---|---|---|---|');
console.log(`| median, parse+evaluate+toSrcinfo vs tree-sitter-bash parse | ${fmt(m.ours)} | ${fmt(m.ts)} | ${(m.ours / m.ts).toFixed(2)} |`);
console.log(`| p90 | ${fmt(m.p90ours)} | ${fmt(m.p90ts)} | ${(m.p90ours / m.p90ts).toFixed(2)} |`);
if (makepkgMs !== null) console.log(`| median vs makepkg --printsrcinfo (${makepkgTimes.length} files, wall) | ${fmt(m.ours)} | ${fmt(makepkgMs)} | ${(m.ours / makepkgMs).toExponential(2)} |`);

const rows = [
  {
    name: 'parser: parse+eval+toSrcinfo median/file vs tree-sitter-bash parse',
    ours: Number(m.ours.toFixed(4)),
    reference: Number(m.ts.toFixed(4)),
    refName: 'tree-sitter-bash 0.25.1 parse only (web-tree-sitter 0.25.10)',
    unit: 'ms',
    ratio: Number((m.ours / m.ts).toFixed(3)),
    target: '≤ 1',
    reproduce: 'pnpm bench parser',
  },
];
if (makepkgMs !== null) {
  rows.push({
    name: 'parser: parse+eval+toSrcinfo median/file vs makepkg --printsrcinfo',
    ours: Number(m.ours.toFixed(4)),
    reference: Number(makepkgMs.toFixed(1)),
    refName: `makepkg 6.0.2 --printsrcinfo (${makepkgTimes.length} files, wall)`,
    unit: 'ms',
    ratio: Number((m.ours / makepkgMs).toExponential(3)),
    target: '≤ 1/1000',
    reproduce: 'pnpm bench parser',
  });
}
console.log(`BENCH_ROWS ${JSON.stringify(rows)}`);
