import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LINT_RULES } from './lint-rules.js';
import { lintPkgbuild, type LintInput } from './lint.js';
import { parseSrcinfo } from './srcinfo-reader.js';
import type { Diagnostic } from './model.js';

const dir = fileURLToPath(new URL('../test/fixtures/lint/', import.meta.url));
const cases = readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory());

const codes = (ds: Diagnostic[], severity?: string): string[] =>
  [...new Set(ds.filter((d) => !severity || d.severity === severity).map((d) => d.code))].sort();
const errors = (text: string, opts = {}): Diagnostic[] => lintPkgbuild(text, opts).filter((d) => d.severity === 'error');
const head = 'pkgname=demo\npkgver=1.0\npkgrel=1\narch=(x86_64)\npkgdesc=d\nurl=https://x\nlicense=(MIT)\n';
const pkg = 'package() {\n  :\n}\n';

// Each fixture was run through makepkg 6.0.2 --printsrcinfo (scripts/srcinfo-oracle.sh, CARCH=x86_64);
// its verdict is stored beside it: expected.x86_64.srcinfo (accepted) or expected.x86_64.error
// ("exit N" then makepkg's stderr).
describe('makepkg lint_pkgbuild checks, against the stored makepkg verdicts', () => {
  it('covers a failing and a passing case of every makepkg check but lint_pkglist', () => {
    const makepkgCodes = LINT_RULES.filter((r) => r.code.startsWith('lint_') && r.code !== 'lint_pkglist').map((r) => r.code);
    for (const code of makepkgCodes) {
      expect(cases.some((c) => c.startsWith(`${code}-fail`)), code).toBe(true);
      expect(cases.includes(`${code}-pass`), code).toBe(true);
    }
  });

  it.each(cases)('%s', (name) => {
    const caseDir = join(dir, name);
    const text = readFileSync(join(caseDir, 'PKGBUILD'), 'utf8');
    const errorFile = join(caseDir, 'expected.x86_64.error');
    const ds = lintPkgbuild(text, { carch: 'x86_64', fileExists: (p) => existsSync(join(caseDir, p)) });
    const ours = ds.filter((d) => d.severity === 'error');
    for (const d of ds) {
      expect(d.range.start.line).toBeGreaterThanOrEqual(1);
      expect(d.range.start.column).toBeGreaterThanOrEqual(1);
    }
    if (existsSync(errorFile)) {
      const [status, ...stderr] = readFileSync(errorFile, 'utf8').split('\n');
      expect(status).toBe('exit 12');
      const theirs = stderr
        .filter((l) => l.startsWith('==> ERROR: '))
        .map((l) => l.slice('==> ERROR: '.length).replace('$startdir/PKGBUILD', 'PKGBUILD'));
      // same messages as makepkg (makepkg prints duplicates for values it collects twice)
      expect([...new Set(ours.map((d) => d.message))].sort()).toEqual([...new Set(theirs)].sort());
      const code = name.replace(/-fail.*$/, '');
      expect(ours.map((d) => d.code)).toContain(code);
    } else {
      expect(existsSync(join(caseDir, 'expected.x86_64.srcinfo'))).toBe(true);
      expect(ours).toEqual([]);
    }
  });
});

describe('lint options and unknown values', () => {
  it('lint_pkglist checks the packages requested with --pkg', () => {
    const text = `${head}${pkg}`;
    expect(codes(errors(text, { pkglist: ['demo'] }))).toEqual([]);
    const ds = errors(text, { pkglist: ['nope'] });
    expect(codes(ds)).toEqual(['lint_pkglist']);
    expect(ds[0]!.message).toBe('Requested package nope is not provided in PKGBUILD');
  });

  it('lint_arch reports a missing CARCH only with ignoreArch: false', () => {
    const text = `${head.replace('arch=(x86_64)', 'arch=(aarch64)')}${pkg}`;
    expect(errors(text, { carch: 'x86_64' })).toEqual([]);
    const ds = errors(text, { carch: 'x86_64', ignoreArch: false });
    expect(ds.map((d) => d.message)).toEqual(["demo is not available for the 'x86_64' architecture."]);
    expect(errors(text, { carch: 'aarch64', ignoreArch: false })).toEqual([]);
  });

  it('skips install/changelog existence without fileExists', () => {
    expect(errors(`${head}install=nope.install\nchangelog=nope\n${pkg}`)).toEqual([]);
    expect(codes(errors(`${head}install=nope.install\nchangelog=nope\n${pkg}`, { fileExists: () => false }))).toEqual(['lint_changelog', 'lint_install']);
  });

  it('does not lint values the parser could not settle', () => {
    const text = `${head.replace('pkgver=1.0', 'pkgver=$(date +%Y-%m)')}depends=("$(echo 'bad name')")\n${pkg}`;
    expect(errors(text)).toEqual([]);
  });

  it('points at the offending element', () => {
    const text = `${head}depends=(\n  ok\n  'bad name'\n)\n${pkg}`;
    const [d] = errors(text);
    expect(d?.code).toBe('lint_depends');
    expect(d?.range.start.line).toBe(10);
    expect(d?.range.start.column).toBe(3);
  });

  it('accepts a parse result as input', () => {
    const input: LintInput = {
      pkgbuild: {
        pkgbase: 'x', pkgname: ['x'], vars: { pkgname: 'x', pkgver: '1-1', pkgrel: '1', arch: ['x86_64'] },
        packages: [{ name: 'x', overrides: {} }], functions: [{ name: 'package', body: '' }], unknown: [], carch: 'x86_64',
      },
      isStatic: true,
    };
    expect(codes(lintPkgbuild(input), 'error')).toEqual(['lint_pkgver']);
  });

  it('lints a model read from .SRCINFO without inventing missing package functions', () => {
    const model = parseSrcinfo('pkgbase = b\n\tpkgver = 1:2\n\tpkgrel = 1\n\tarch = x86_64\n\npkgname = a\n\npkgname = c\n');
    expect(codes(lintPkgbuild({ pkgbuild: model, isStatic: true }), 'error')).toEqual(['lint_pkgver']);
  });

  it('reports CRLF, which makepkg refuses before linting (exit 12)', () => {
    expect(codes(errors(`${head}${pkg}`.replace(/\n/g, '\r\n')))).toContain('E_CRLF');
  });
});

const w = (text: string): string[] => codes(lintPkgbuild(text), 'warning');

describe('warnings beyond makepkg', () => {
  const sha = 'a'.repeat(64);

  it('W_CHECKSUM_COUNT per architecture', () => {
    expect(w(`${head}source=(https://e/a https://e/b)\nsha256sums=(${sha})\n${pkg}`)).toContain('W_CHECKSUM_COUNT');
    expect(w(`${head}source_x86_64=(https://e/a)\nsha256sums_x86_64=(${sha} ${sha})\n${pkg}`)).toContain('W_CHECKSUM_COUNT');
    expect(w(`${head}source=(https://e/a)\nsha256sums=(${sha})\nsource_x86_64=(https://e/b)\nb2sums_x86_64=(${'b'.repeat(128)})\n${pkg}`)).toEqual([]);
  });

  it('W_CHECKSUM_FORMAT', () => {
    expect(w(`${head}source=(https://e/a)\nsha256sums=(abc)\n${pkg}`)).toContain('W_CHECKSUM_FORMAT');
    expect(w(`${head}source=(https://e/a)\ncksums=(12ab)\n${pkg}`)).toContain('W_CHECKSUM_FORMAT');
    expect(w(`${head}source=(https://e/a https://e/b)\ncksums=(1234 567)\nmd5sums=(${'A'.repeat(32)} ${'0'.repeat(32)})\nsha256sums=(${sha} ${sha})\n${pkg}`)).toEqual([]);
  });

  it('W_DUPLICATE_PKGNAME and W_DUPLICATE_ARCH', () => {
    const split = 'pkgbase=b\npkgname=(a a)\npkgver=1\npkgrel=1\narch=(x86_64 x86_64)\npkgdesc=d\nurl=u\nlicense=(MIT)\npackage_a() { :; }\n';
    expect(w(split)).toEqual(['W_DUPLICATE_ARCH', 'W_DUPLICATE_PKGNAME']);
    expect(w(`${head}${pkg}`)).toEqual([]);
  });

  it('W_MISSING_ARCH, W_MISSING_PKGDESC, W_MISSING_URL, W_MISSING_LICENSE', () => {
    expect(w(`pkgname=x\npkgver=1\npkgrel=1\n${pkg}`)).toEqual(['W_MISSING_ARCH', 'W_MISSING_LICENSE', 'W_MISSING_PKGDESC', 'W_MISSING_URL']);
    // split packages may set them per package
    const split = 'pkgbase=b\npkgname=(a c)\npkgver=1\npkgrel=1\narch=(any)\nurl=u\nlicense=(MIT)\npackage_a() {\n  pkgdesc=A\n}\npackage_c() {\n  pkgdesc=C\n}\n';
    expect(w(split)).toEqual([]);
    expect(w(split.replace('pkgdesc=C', 'depends=(x)'))).toEqual(['W_MISSING_PKGDESC']);
  });

  it('W_TOPLEVEL_OUTPUT for top-level commands that print, not for redirected ones or functions', () => {
    expect(w(`${head}echo hello\n${pkg}`)).toEqual(['W_TOPLEVEL_OUTPUT']);
    expect(w(`${head}if true; then printf '%s\\n' banner; fi\n${pkg}`)).toEqual(['W_TOPLEVEL_OUTPUT']);
    expect(w(`${head}printf -v _x '%s' y\necho hello >&2\necho x > /dev/null\n{ echo a; } 2>&1 >/dev/null\necho a | grep -q a\n${pkg}`)).toEqual([]);
    expect(w(`${head}_v=$(echo 1)\nbuild() {\n  echo inside\n}\n${pkg}`)).not.toContain('W_TOPLEVEL_OUTPUT');
  });

  it('W_MISSPELT_KEY for near-miss names, wrong arch names and aliases', () => {
    for (const v of ['makedepend=(x)', 'sha256sum=(SKIP)', 'licence=(MIT)', 'dependencies=(x)', 'source_amd64=(a)', 'depend=(x)', 'sha256sum_x86_64=(SKIP)']) {
      expect(w(`${head}${v}\n${pkg}`), v).toEqual(['W_MISSPELT_KEY']);
    }
    expect(w(`${head}_commit=abc\nCFLAGS=x\nsource_x86_64=(a)\nsha256sums_x86_64=(SKIP)\n_pkgname=y\n${pkg}`)).toEqual([]);
    // helpers the file reads, and aliases inside package functions, are not flagged
    expect(w(`${head}version=1.2\nsrc=x\nsources=(a)\nbuild() {\n  echo "$version $src \${sources[@]}"\n}\npackage() {\n  desc=x\n  cp $desc .\n}\n`)).toEqual([]);
    expect(w(`${head}package() {\n  depend=(x)\n}\n`)).toEqual(['W_MISSPELT_KEY']);
    const [d] = lintPkgbuild(`${head}source_amd64=(a)\n${pkg}`).filter((x) => x.code === 'W_MISSPELT_KEY');
    expect(d?.message).toContain('source_x86_64');
    expect(d?.range.start.line).toBe(8);
  });

  it('W_SKIP_NON_VCS for SKIP on downloads, not on VCS, local files or signatures', () => {
    expect(w(`${head}source=(https://e/a.tar.gz)\nsha256sums=(SKIP)\n${pkg}`)).toEqual(['W_SKIP_NON_VCS']);
    expect(w(`${head}source=(git+https://e/r.git local.patch https://e/a.tar.gz.sig)\nsha256sums=(SKIP SKIP SKIP)\n${pkg}`)).toEqual([]);
  });

  it('W_INSECURE_SOURCE for plain http/ftp without a strong checksum', () => {
    expect(w(`${head}source=(http://e/a.tar.gz)\nmd5sums=(${'0'.repeat(32)})\n${pkg}`)).toEqual(['W_INSECURE_SOURCE']);
    expect(w(`${head}source=(ftp://e/a.tar.gz)\nsha256sums=(SKIP)\n${pkg}`)).toContain('W_INSECURE_SOURCE');
    expect(w(`${head}source=(http://e/a.tar.gz)\nsha256sums=(${sha})\n${pkg}`)).toEqual([]);
  });

  it('LINT_RULES lists every code the linter reports', () => {
    const all = new Set(LINT_RULES.map((r) => r.code));
    expect(all.size).toBe(LINT_RULES.length);
    expect(LINT_RULES.filter((r) => r.severity === 'error' && r.code.startsWith('lint_'))).toHaveLength(22);
  });
});
