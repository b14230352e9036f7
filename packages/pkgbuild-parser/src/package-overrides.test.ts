/**
 * Package-function overrides against makepkg's own extraction code: each case is sourced by
 * bash and `get_pkgbuild_attribute` from /usr/share/makepkg/util/pkgbuild.sh is called for every
 * key, exactly as srcinfo.sh does; the result must equal `parsePkgbuild(...).pkgbuild.packages`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lineMatches, printedLines } from './package-overrides.js';
import { parsePkgbuild } from './parse.js';
import { parseScript } from './parser.js';

const LIB = '/usr/share/makepkg/util/pkgbuild.sh';
const haveMakepkg = existsSync(LIB);
const dir = mkdtempSync(join(tmpdir(), 'rbee-ovr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SCALARS = ['pkgdesc', 'url', 'install', 'changelog'];
const ARRAYS = ['arch', 'groups', 'license', 'depends', 'optdepends', 'provides', 'conflicts', 'replaces', 'options', 'backup', 'depends_x86_64', 'provides_aarch64'];

type Overrides = Record<string, Record<string, string | string[]>>;

/** makepkg's view for many PKGBUILDs in one bash process: pkg → key → value, for matched keys. */
function makepkgOverrides(texts: string[], pkgs: string[]): Overrides[] {
  let script = `LIBRARY=/usr/share/makepkg; source ${LIB}; shopt -u extglob\n`;
  texts.forEach((text, n) => {
    const file = join(dir, `p${n}`);
    writeFileSync(file, text);
    const keys = (list: string[]): string => list.filter((k) => text.includes(k)).join(' ');
    script += `(
      source_safe() { source "$1"; }; source_safe ${file} >/dev/null 2>&1
      for pkg in ${pkgs.join(' ')}; do
        for k in ${keys(SCALARS)}; do
          unset out; out=
          if extract_function_variable "package_$pkg" "$k" 0 out 2>/dev/null; then
            get_pkgbuild_attribute "$pkg" "$k" 0 out 2>/dev/null; printf 'S\\0%s\\0%s\\0%s\\0' "$pkg" "$k" "$out"; fi
        done
        for k in ${keys(ARRAYS)}; do
          unset out; out=()
          if extract_function_variable "package_$pkg" "$k" 1 out 2>/dev/null; then
            get_pkgbuild_attribute "$pkg" "$k" 1 out 2>/dev/null; printf 'A\\0%s\\0%s\\0%s\\0' "$pkg" "$k" "\${#out[@]}"
            for e in "\${out[@]}"; do printf '%s\\0' "$e"; done; fi
        done
      done ); printf 'END\\0'\n`;
  });
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', LC_ALL: 'C', CARCH: 'x86_64' } });
  const t = r.stdout.split('\0');
  const all: Overrides[] = [];
  let i = 0;
  for (let n = 0; n < texts.length; n++) {
    const out: Overrides = {};
    for (const p of pkgs) out[p] = {};
    for (;;) {
      const kind = t[i++];
      if (kind === 'END' || kind === undefined) break;
      const pkg = t[i++] as string;
      const key = t[i++] as string;
      const rec = out[pkg] as Record<string, string | string[]>;
      if (kind === 'S') rec[key] = t[i++] as string;
      else {
        const c = Number(t[i++]);
        rec[key] = t.slice(i, i + c);
        i += c;
      }
    }
    all.push(out);
  }
  return all;
}

const HEAD = 'pkgbase=b\npkgname=(a c)\npkgver=1\npkgrel=1\narch=(x86_64)\ndepends=(g1 g2)\npkgdesc="global desc"\n';

const CASES: [string, string][] = [
  ['plain overrides and +=', 'package_a() {\n  pkgdesc="A: $pkgver"\n  depends+=(extra)\n  license=(MIT)\n}\npackage_c() { :; }\n'],
  ['if/else: both lines run, last wins', 'package_a() {\n  if [[ $x ]]; then depends=(one); else depends=(two); fi\n}\npackage_c() {\n  if true; then\n    provides=(p)\n  fi\n}\n'],
  ['&& and subshell lines are ignored', 'package_a() {\n  [[ -n x ]] && provides=(p)\n  ( conflicts=(q) )\n  true\n}\npackage_c() { :; }\n'],
  ['locals and loop variables are unset', 'package_a() {\n  local _x=1\n  license=("L$_x")\n  for _y in a b; do depends+=("dep-$_y"); done\n}\npackage_c() { :; }\n'],
  ['pkgname is the current package', 'package_a() { pkgdesc="pkg $pkgname (${pkgname[1]})"; }\npackage_c() { pkgdesc="$pkgname"; }\n'],
  ['url= last is not seen, url= in the middle is', 'package_a() {\n  url=\n  true\n}\npackage_c() {\n  true\n  url=\n}\n'],
  ['one-liner with several statements', 'package_a() { depends=(c) ; pkgdesc=x; }\npackage_c() { groups=(g) ;license=(l) ; }\n'],
  ['heredoc body lines are picked up', 'package_a() {\n  cat > f <<EOF\n  replaces=(heredoc)\nreplaces=(nospace)\nEOF\n}\npackage_c() { :; }\n'],
  ['arch variants and empty overrides', 'package_a() {\n  depends_x86_64+=(xx)\n  depends=()\n  pkgdesc=""\n}\npackage_c() { provides_aarch64=(pa); }\n'],
  ['case and while bodies', 'package_a() {\n  case $CARCH in\n    x86_64) options=(!strip) ;;\n    *) options=(strip) ;;\n  esac\n}\npackage_c() {\n  while false; do backup=(etc/x); done\n}\n'],
  ['multi-line array with comments and continuation', 'package_a() {\n  depends=(a # c\n    b \\\n    "c d")\n  pkgdesc="x \\\ny"\n}\npackage_c() { :; }\n'],
  ['background job joins the next line', 'package_a() {\n  true & pkgdesc=hidden\n  url=seen\n}\npackage_c() { :; }\n'],
  ['conditions, time, pipelines, groups in lists', 'package_a() {\n  if true; depends=(cond); then :; fi\n  time provides=(t)\n  [[ 1 ]] && { conflicts=(g); }\n}\npackage_c() ( license=(sub); groups=(sub2) )\n'],
  ['fallback to package() for a missing package_<name>', 'package() {\n  pkgdesc=fallback\n  depends+=(f)\n}\npackage_c() { url=own; }\n'],
];

describe.skipIf(!haveMakepkg)('override extraction agrees with makepkg', () => {
  const expectedAll = haveMakepkg ? makepkgOverrides(CASES.map(([, fns]) => HEAD + fns), ['a', 'c']) : [];
  it.each(CASES.map((c, i) => [c[0], c[1], i] as const))('%s', (_name, fns, i) => {
    const text = HEAD + fns;
    const expected = expectedAll[i];
    const r = parsePkgbuild(text);
    const got: Record<string, Record<string, string | string[]>> = {};
    for (const p of r.pkgbuild.packages) {
      got[p.name] = {};
      for (const [k, v] of Object.entries(p.overrides)) if (SCALARS.includes(k) || ARRAYS.includes(k)) (got[p.name] as Record<string, string | string[]>)[k] = v;
    }
    expect(r.pkgbuild.packages.every((p) => !p.unknown)).toBe(true);
    expect(got).toEqual(expected);
  });
});

describe('declare -f emulation', () => {
  it('puts each statement of a one-liner on its own line, keeping `;` except at the end', () => {
    const s = parseScript('f() { a=1; b=(x  y); url=; }').script;
    const def = s.body[0]?.list.pipelines[0]?.commands[0];
    if (def?.type !== 'FunctionDefinition') throw new Error('no function');
    expect(printedLines(def).map((l) => l.text)).toEqual(['    a=1;', '    b=(x y);', '    url=']);
  });

  it('applies makepkg\'s grep patterns', () => {
    expect(lineMatches('    depends=(a)', 'depends', true)).toBe(true);
    expect(lineMatches('    depends+=(a)', 'depends', true)).toBe(true);
    expect(lineMatches('    depends="a"', 'depends', true)).toBe(false);
    expect(lineMatches('    url=', 'url', false)).toBe(false);
    expect(lineMatches('    url=;', 'url', false)).toBe(true);
    expect(lineMatches('\tdepends=(a)', 'depends', true)).toBe(false);
    expect(lineMatches('depends=(a)', 'depends', true)).toBe(false);
    expect(lineMatches('    depends_x86_64=(a)', 'depends', true)).toBe(false);
  });

  it('warns where the grep rule disagrees with control flow', () => {
    const r = parsePkgbuild(HEAD + 'package_a() {\n  if false; then depends=(x); fi\n  [[ 1 ]] && provides=(p)\n}\npackage_c() { :; }\n');
    const w = r.diagnostics.filter((d) => d.code === 'W_OVERRIDE_CONTROL_FLOW');
    expect(w.map((d) => d.range.start.line).sort((x, y) => x - y)).toEqual([9, 10]);
    expect(r.pkgbuild.packages[0]?.overrides.depends).toEqual(['x']);
    expect(r.pkgbuild.packages[0]?.overrides.provides).toBeUndefined();
  });

  it('records where each override is assigned', () => {
    const r = parsePkgbuild(HEAD + 'package_a() {\n  pkgdesc=x\n}\npackage_c() { :; }\n');
    expect(r.locations.packages.a?.pkgdesc?.start.line).toBe(9);
  });

  it('a plain override replaces an unknown global value', () => {
    const r = parsePkgbuild(HEAD.replace('depends=(g1 g2)', 'depends=($(cmd))') + 'package_a() {\n  depends=(own)\n}\npackage_c() {\n  depends+=(more)\n}\n');
    expect(r.pkgbuild.packages[0]?.overrides.depends).toEqual(['own']);
    expect(r.pkgbuild.packages[1]?.unknown).toEqual(['depends']);
  });

  it('an override that needs a command substitution is unknown', () => {
    const r = parsePkgbuild(HEAD + 'package_a() {\n  provides=($(ls "$pkgdir"))\n}\npackage_c() { :; }\n');
    expect(r.isStatic).toBe(false);
    expect(r.pkgbuild.packages[0]?.unknown).toEqual(['provides']);
  });
});
