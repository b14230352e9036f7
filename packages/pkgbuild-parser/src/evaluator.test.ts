/**
 * The static evaluator against real bash: each snippet is sourced by bash inside a function
 * (as makepkg's `source_safe` does) and the variables it leaves are compared with
 * `parsePkgbuild(...).pkgbuild.vars`. Snippets that must stay unknown are checked separately.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePkgbuild } from './parse.js';

const dir = mkdtempSync(join(tmpdir(), 'rbee-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs each snippet in bash (sourced from a function, CARCH set) and returns the named variables. */
function bashVars(snippets: { code: string; vars: string[]; carch?: string }[]): Record<string, string[] | string | null>[] {
  const dump = [
    'dump() {',
    '  local __v __d __f __e',
    '  for __v in "$@"; do',
    '    if ! __d=$(declare -p "$__v" 2>/dev/null); then printf "U\\0"; continue; fi',
    '    __f=${__d#declare -}; __f=${__f%% *}',
    '    if [[ $__f == *a* ]]; then',
    '      local -n __r=$__v',
    '      printf "A\\0%s\\0" "${#__r[@]}"',
    '      for __e in "${__r[@]}"; do printf "%s\\0" "$__e"; done',
    '      unset -n __r',
    '    else printf "S\\0%s\\0" "${!__v}"; fi',
    '  done',
    '}',
  ].join('\n');
  let driver = `set +e\nshopt -u extglob\n${dump}\n`;
  snippets.forEach((s, i) => {
    const file = join(dir, `s${i}.sh`);
    writeFileSync(file, s.code);
    driver += `( CARCH=${s.carch ?? 'x86_64'}; CHOST=x86_64-pc-linux-gnu; f() { source ${file} >/dev/null 2>&1; }; f; dump ${s.vars.join(' ')} ); printf 'END\\0'\n`;
  });
  const r = spawnSync('bash', ['-c', driver], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' } });
  const toks = r.stdout.split('\0');
  const out: Record<string, string[] | string | null>[] = [];
  let p = 0;
  for (const s of snippets) {
    const rec: Record<string, string[] | string | null> = {};
    for (const v of s.vars) {
      const kind = toks[p++];
      if (kind === 'U') rec[v] = null;
      else if (kind === 'S') rec[v] = toks[p++] as string;
      else {
        const n = Number(toks[p++]);
        rec[v] = toks.slice(p, p + n);
        p += n;
      }
    }
    if (toks[p++] !== 'END') throw new Error(`bash driver out of sync: ${r.stderr}`);
    out.push(rec);
  }
  return out;
}

/** [description, code, variables to compare] — each must be static and agree with bash. */
const CASES: [string, string, string[], string?][] = [
  ['scalars and quoting', `a=plain; b='single $x'; c="double $a"; d=$'ansi\\tc\\x41'; e=a\\ b; f="q\\"uote\\$"`, ['a', 'b', 'c', 'd', 'e', 'f']],
  ['line continuation', 'a=one\\\ntwo; b="x\\\ny"', ['a', 'b']],
  ['arrays, +=, indexed', `a=(x y); a+=(z); b[3]=q; b+=(r); c=s; c+=(t); d=v; d+=w; e=(1 2); e[-1]=9`, ['a', 'b', 'c', 'd', 'e']],
  ['multi-line array with comments', `a=(one # first\n  "two three" # second\n  four\n)`, ['a']],
  ['word splitting in arrays, not in scalars', `v="a b  c"; arr=($v "$v"); s=$v; IFS=:; w="1:2::3"; arr2=($w); unset IFS`, ['arr', 's', 'arr2']],
  ['default forms', `n=; u1=\${unset-d}; u2=\${unset:-d}; u3=\${n-d}; u4=\${n:-d}; u5=\${n+a}; u6=\${n:+a}; u7=\${unset+a}; s=v; u8=\${s:+alt}; : \${w:=assigned}; : \${n:=x}`, ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'w', 'n']],
  ['pattern removal', `v=a.b.c-1.tar.gz; r1=\${v%.*}; r2=\${v%%.*}; r3=\${v#*.}; r4=\${v##*.}; r5=\${v%.tar.*}; r6=\${v#[a-z].}; r7=\${v%"."gz}`, ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']],
  ['replacement', `v=hello-world-1; r1=\${v/-/_}; r2=\${v//-/_}; r3=\${v/#h/H}; r4=\${v/%1/2}; r5=\${v/o}; r6=\${v//[eo]/0}; r7=\${v/#/p}; r8=\${v/%/s}; r9=\${v//-}`, ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9']],
  ['case modification', `v=hello; w=WORLD; r1=\${v^}; r2=\${v^^}; r3=\${w,}; r4=\${w,,}; r5=\${v^^[lo]}`, ['r1', 'r2', 'r3', 'r4', 'r5']],
  ['substrings', `v=abcdef; r1=\${v:2}; r2=\${v:1:3}; r3=\${v: -2}; r4=\${v:(-3):2}; r5=\${v:1:-1}; r6=\${v:10}; r7=\${v::2}; r8=\${v:0:0}`, ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8']],
  ['array expansions', `a=(x y z); r1=("\${a[@]}"); r2="\${a[*]}"; r3=\${a[1]}; r4=\${#a[@]}; r5=\${a[-1]}; r6=("\${a[@]/y/Y}"); r7=("\${a[@]:1}"); r8=("\${a[@]^}"); r9=\${#a[0]}; r10=("\${!a[@]}"); r11=$a`, ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9', 'r10', 'r11']],
  ['empty array and empty strings', `e=(); r1=("\${e[@]}"); r2=("x\${e[@]}"); r3=("" ''); r4=(\${e[@]} $'')`, ['r1', 'r2', 'r3', 'r4']],
  ['indirection', `name=target; target=value; r1=\${!name}; arr=(a b); ref='arr[@]'; r2=("\${!ref}")`, ['r1', 'r2']],
  ['length', `v=hello; r1=\${#v}; a=(1 2 3); r2=\${#a[@]}`, ['r1', 'r2']],
  ['brace expansion', `a=(x{a,b}y {1..3} {a..c} {01..03} {3..1} {1..10..4} a{,.sig} {x,{y,z}} "{q,r}" {1} x{1..1} {c..c}y); s={a,b}`, ['a', 's']],
  ['arithmetic', `a=$((1 + 2 * 3)); b=$(( (1+2)*3 )); c=$((7/2)); d=$((-7%3)); e=$((2**10)); f=$((1<<4 | 1)); g=$((5 > 3 ? 10 : 20)); x=5; h=$((x++ + ++x)); i=$((0x1f + 010 + 2#11)); (( j = 3 * 4 )); let k=2+2 l++ m=1`, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'x', 'i', 'j', 'k', 'l', 'm']],
  ['declare -i and integer attribute', `declare -gi n=1+2; n+=3`, ['n']],
  ['if on CARCH', `if [[ $CARCH == x86_64 ]]; then a=x; elif [[ $CARCH = aarch64 ]]; then a=arm; else a=other; fi; [ "$CARCH" != i686 ] && b=ok; test -n "$CARCH" || c=never`, ['a', 'b', 'c']],
  ['if on CARCH (aarch64)', `if [[ $CARCH == x86_64 ]]; then a=x; elif [[ $CARCH = aarch64 ]]; then a=arm; else a=other; fi`, ['a'], 'aarch64'],
  ['case with patterns and fallthrough', `case $CARCH in i?86) a=x86;; x86_*|amd64) a=x64;& aarch64) b=fell;; *) c=no;; esac; case foo in f*) d=1 ;;& *o) e=2 ;; esac`, ['a', 'b', 'c', 'd', 'e']],
  ['for loops', `for x in a "b c" {1..2}; do l+=("p-$x"); done; for ((i=0; i<3; i++)); do n+=($i); done; for y in 1 2 3; do [[ $y == 2 ]] && continue; m+=($y); [[ $y == 3 ]] && break; done`, ['l', 'n', 'x', 'i', 'm']],
  ['while loop', `i=0; while (( i < 4 )); do w+=($i); i=$((i+1)); done; until [[ $i -le 0 ]]; do i=$((i-2)); done`, ['w', 'i']],
  ['&& || ! lists', `true && a=1 || a=2; false && b=1 || b=2; ! false && c=1; : && d=1`, ['a', 'b', 'c', 'd']],
  ['unset', `a=1; unset a; b=(1 2 3); unset 'b[1]'; c=x; unset -v c; d=(x y); unset 'd[0]'`, ['a', 'b', 'c', 'd']],
  ['declare scopes as in source_safe', `declare a=local; declare -g b=global; export c=exported; readonly d=ro; local e=loc; typeset f=t; g=$a$e`, ['a', 'b', 'c', 'd', 'e', 'f', 'g']],
  ['test and [ ]', `[ -z "" ] && a=1; [ 1 -lt 2 ] && b=1; [ abc = abc -a x != y ] && c=1; test ! -n "" && d=1; [[ -v a ]] && e=1; [[ -v nope ]] || f=1; [[ 10 -gt 9 && ( a < b || 0 ) ]] && g=1`, ['a', 'b', 'c', 'd', 'e', 'f', 'g']],
  ['nested expansions', `v=1.2.3; a=\${v//./_}; b="\${v%%.*}-\${v#*.}"; pkgname=foo-git; c=\${pkgname%-git}; d=\${c:-\${v}}; e="\${undefined:-\${v:0:1}}"`, ['a', 'b', 'c', 'd', 'e']],
  ['IFS and $*', `a=(x y z); IFS=,; s="\${a[*]}"; unset IFS; t="\${a[*]}"`, ['s', 't']],
  ['CHOST', `h=$CHOST`, ['h']],
  ['quoted words inside an unquoted default keep their quoting', `g=(\${_u:-"a b"} \${_u:-c d} \${_u:+x} \${_u-''}); s=v; h=(\${s:+"p q"} \${s:+r s}); d="\${_u:-'q' x}"`, ['g', 'h', 'd']],
  ['brace expansion happens before parameter expansion', `_v=X; _vz=Z; a=({$_v,y}z x{$_v,"q r"} {\${_v},w}); b=({a,b}$_v)`, ['a', 'b']],
  ['unicode escapes in the C locale', `a=$'\\u00e9 \\u41 \\U0001F600 \\u20ac'`, ['a']],
  ['regex and BASH_REMATCH', `v=1.2.3; [[ $v =~ ^([0-9]+)\\.([0-9]+) ]] && a=("\${BASH_REMATCH[@]}"); [[ x =~ [[:digit:]] ]] || b=no; [[ a.b =~ a"."b ]] && c=yes`, ['a', 'b', 'c']],
  ['subshells discard their assignments', `( a=1; d=(x) ); b=2; ( exit 3 ) || c=$?`, ['a', 'b', 'c', 'd']],
  ['quoted heredoc as input', `: <<'EOF'\ndepends=($(x))\nEOF\na=1`, ['a', 'depends']],
  ['non-ASCII text in the C locale', `u="日本語"; a=\${#u}; b=\${u:3:3}; c=\${u^^}x; d=\${u%語}`, ['a', 'b', 'c', 'd']],
  ['pattern replacement with &', `v=abc; x='&'; a=\${v/b/[&]}; b=\${v/b/\\&}; c=\${v/b/"&"}; d=\${v//[ac]/<&>}; e=\${v/b/$x}`, ['a', 'b', 'c', 'd', 'e']],
];

describe('static evaluation agrees with bash', () => {
  const results = bashVars(CASES.map(([, code, vars, carch]) => (carch ? { code, vars, carch } : { code, vars })));
  it.each(CASES.map((c, i) => [c[0], c, i] as const))('%s', (_name, c, i) => {
    const [, code, vars, carch] = c;
    const r = parsePkgbuild(code, carch ? { carch } : {});
    expect(r.diagnostics.filter((d) => d.code !== 'W_LOCAL_DECLARATION')).toEqual([]);
    expect(r.isStatic).toBe(true);
    const got: Record<string, string[] | string | null> = {};
    for (const v of vars) {
      const val = r.pkgbuild.vars[v];
      got[v] = val === undefined ? null : val;
    }
    expect(got).toEqual(results[i]);
  });
});

describe('unknown values are never guessed', () => {
  const cases: [string, string, string, string][] = [
    // [description, code, variable that must be unknown, expected diagnostic code]
    ['command substitution', 'pkgver=$(date +%Y)', 'pkgver', 'W_COMMAND_SUBSTITUTION'],
    ['backticks', 'pkgver=`date`', 'pkgver', 'W_COMMAND_SUBSTITUTION'],
    ['environment variable', 'x=$HOME/foo', 'x', 'W_UNKNOWN_VARIABLE'],
    ['makepkg path variable', 'x=$startdir', 'x', 'W_UNKNOWN_VARIABLE'],
    ['glob in an array element', 'source=(*.patch)', 'source', 'W_GLOB'],
    ['condition on an unknown value', 'if [[ $(uname -m) == x86_64 ]]; then depends=(a); else depends=(b); fi', 'depends', 'W_UNKNOWN_CONDITION'],
    ['case on an unknown value', 'case $HOME in /root) d=1;; esac', 'd', 'W_UNKNOWN_CONDITION'],
    ['read', 'read -r v <<< "x"', 'v', 'W_EXTERNAL_COMMAND'],
    ['function call at top level', 'f() { depends=(x); }; f', 'depends', 'W_FUNCTION_CALL'],
    ['eval poisons everything', 'a=1; eval "a=2"; b=$a', 'b', 'W_EVAL'],
    ['tilde', 'x=~/foo', 'x', 'W_DYNAMIC'],
    ['positional parameters', 'x=$1', 'x', 'W_UNKNOWN_VARIABLE'],
    ['file test', '[[ -f foo ]] && x=1', 'x', 'W_FILESYSTEM'],
  ];
  it.each(cases)('%s', (_d, code, name, diag) => {
    const r = parsePkgbuild(code);
    expect(r.isStatic).toBe(false);
    expect(r.pkgbuild.vars[name]).toBeUndefined();
    expect(r.pkgbuild.unknown).toContain(name);
    expect(r.diagnostics.map((d) => d.code)).toContain(diag);
  });

  it('points at the exact construct', () => {
    const r = parsePkgbuild('pkgname=foo\npkgver="1.$(date +%s)"\n');
    const d = r.diagnostics.find((x) => x.code === 'W_COMMAND_SUBSTITUTION');
    expect(d?.range.start).toEqual({ line: 2, column: 11, offset: 22 });
    expect(d?.range.end).toEqual({ line: 2, column: 22, offset: 33 });
  });

  it('keeps values that do not depend on the unknown construct', () => {
    const r = parsePkgbuild('a=1\nb=$(cmd)\nc=$a-2\n');
    expect(r.pkgbuild.vars).toMatchObject({ a: '1', c: '1-2' });
    expect(r.pkgbuild.unknown).toEqual(['b']);
  });

  it('reports top-level output', () => {
    const r = parsePkgbuild('pkgname=a\necho hello\nprintf x >&2\n');
    expect(r.isStatic).toBe(false);
    const out = r.diagnostics.filter((d) => d.code === 'W_TOPLEVEL_OUTPUT');
    expect(out.map((d) => d.range.start.line)).toEqual([2]);
  });

  it('decides a failing last command (makepkg: "Failed to source")', () => {
    const r = parsePkgbuild('pkgname=a\n[[ $CARCH == aarch64 ]] && depends+=(x)\n');
    expect(r.isStatic).toBe(false);
    expect(r.diagnostics.find((d) => d.code === 'E_SOURCE_FAILS')?.range.start.line).toBe(2);
    expect(parsePkgbuild('pkgname=a\n[[ $CARCH == aarch64 ]] && depends+=(x)\n', { carch: 'aarch64' }).isStatic).toBe(true);
  });

  it('refuses CRLF like makepkg', () => {
    const r = parsePkgbuild('pkgname=a\r\npkgver=1\r\n');
    expect(r.isStatic).toBe(false);
    expect(r.diagnostics[0]).toMatchObject({ code: 'E_CRLF', severity: 'error', range: { start: { line: 1, column: 10 } } });
  });

  it('a declare without -g is local to source_safe and lost', () => {
    const r = parsePkgbuild('declare -a depends=(x)\npkgname=a\n');
    expect(r.pkgbuild.vars.depends).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toContain('W_LOCAL_DECLARATION');
  });
});
