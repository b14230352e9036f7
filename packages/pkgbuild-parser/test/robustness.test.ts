/**
 * Robustness: parsePkgbuild and lintPkgbuild never throw and always terminate, on arbitrary
 * strings, on mutated fixture PKGBUILDs and on pathological inputs; and the work they do grows
 * linearly with the input. Linearity is checked on sizes, not clocks: the AST of a file repeated
 * k times has k times the nodes (± a constant), as do its diagnostics.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lintPkgbuild, parsePkgbuild } from '../src/index.js';
import { parseScript } from '../src/parser.js';
import { conformanceFixtures } from './oracle.js';

const runs = Number(process.env.FAST_CHECK_RUNS ?? 100);
const fixtures = conformanceFixtures();

/** Runs both entry points; any throw fails the property. */
function exercise(text: string): void {
  const r = parsePkgbuild(text, { carch: 'x86_64' });
  expect(typeof r.isStatic).toBe('boolean');
  expect(Array.isArray(r.diagnostics)).toBe(true);
  for (const d of r.diagnostics) {
    expect(d.range.start.offset).toBeGreaterThanOrEqual(0);
    expect(d.range.end.offset).toBeLessThanOrEqual(text.length);
    expect(d.range.start.offset).toBeLessThanOrEqual(d.range.end.offset);
  }
  expect(Array.isArray(lintPkgbuild(text, { carch: 'x86_64' }))).toBe(true);
  expect(Array.isArray(lintPkgbuild(r, { carch: 'aarch64' }))).toBe(true);
}

/** Bash-significant characters, so random strings hit quoting, expansion and nesting paths. */
const bashish = fc.constantFrom(
  ...'(){}[]$"\'`\\\n\t ;&|<>#=+-*?!~:%/^,@'.split(''),
  '$(', '${', '$((', '<<', '<<-', "$'", '((', '[[', ']]', 'if ', 'then ', 'fi', 'case ', ' in ', 'esac', ';;',
  'for ', 'do ', 'done', 'function ', 'EOF', 'pkgname=', 'depends=(', 'package() {', '\\\n', '\r',
);
const bashText = fc.array(fc.oneof(bashish, fc.string({ maxLength: 4 })), { maxLength: 60 }).map((a) => a.join(''));

/** Deletes, inserts or duplicates a slice of a fixture PKGBUILD. */
const mutated = fc
  .tuple(
    fc.constantFrom(...fixtures.map((f) => f.text)),
    fc.array(
      fc.tuple(fc.constantFrom('delete', 'insert', 'duplicate'), fc.nat(), fc.nat({ max: 12 }), bashish),
      { minLength: 1, maxLength: 5 },
    ),
  )
  .map(([text, edits]) => {
    let t = text;
    for (const [op, at, len, ins] of edits) {
      const i = t.length ? at % t.length : 0;
      if (op === 'delete') t = t.slice(0, i) + t.slice(i + len);
      else if (op === 'insert') t = t.slice(0, i) + ins + t.slice(i);
      else t = t.slice(0, i) + t.slice(i, i + len) + t.slice(i);
    }
    return t;
  });

const rep = (s: string, n: number): string => s.repeat(n);
/** AST size of a `$(` nest `d` levels deep. */
const nestNodes = (d: number): number => countNodes(parseScript(`x=${'$('.repeat(d)}:${')'.repeat(d)}\n`).script);

describe('never throws, always terminates', () => {
  it('arbitrary unicode strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => exercise(s)), { numRuns: runs });
  });

  it('strings of bash syntax fragments', () => {
    fc.assert(fc.property(bashText, (s) => exercise(s)), { numRuns: runs * 2 });
  });

  it('mutated conformance fixtures', () => {
    fc.assert(fc.property(mutated, (s) => exercise(s)), { numRuns: runs * 2 });
  });

  const pathological: [string, string][] = [
    ['10k nested parens', `x=${rep('(', 10_000)}${rep(')', 10_000)}\n`],
    ['10k unclosed parens', `depends=${rep('(', 10_000)}\n`],
    ['10k nested subshells', `${rep('( ', 10_000)}:${rep(' )', 10_000)}\n`],
    ['10k nested command substitutions', `x=${rep('$(', 10_000)}${rep(')', 10_000)}\n`],
    ['10k nested parameter expansions', `x=${rep('${a:-', 10_000)}z${rep('}', 10_000)}\n`],
    ['10k nested brace groups', `${rep('{ ', 10_000)}:${rep('; }', 10_000)}\n`],
    ['10k nested ifs', `${rep('if true; then ', 10_000)}:${rep('; fi', 10_000)}\n`],
    ['10k nested arithmetic', `x=$((${rep('(', 10_000)}1${rep(')', 10_000)}))\n`],
    ['100k-char line', `pkgdesc="${rep('a', 100_000)}"\n`],
    ['100k-char unquoted word', `pkgdesc=${rep('b', 100_000)}\n`],
    ['50k-element array', `depends=(${rep('x ', 50_000)})\n`],
    ['unterminated double quote', `pkgname=foo\npkgdesc="abc\n${rep('line\n', 1000)}`],
    ['unterminated single quote', `pkgdesc='abc\n${rep('line\n', 1000)}`],
    ['unterminated $\'', `pkgdesc=$'abc\\'\n`],
    ['unterminated backtick', 'pkgdesc=`abc\n'],
    ['unterminated heredoc', `package() {\ncat <<EOF\n${rep('depends=(x)\n', 1000)}`],
    ['unterminated ${', 'pkgdesc=${abc\n'],
    ['unterminated array', 'depends=(a b\n'],
    ['unterminated function', 'package() {\n  :\n'],
    ['NUL and control bytes', 'pkgname=f\u0000oo\u0001\u0007\npkgver=1\u001b[0m\n'],
    ['CRLF file', 'pkgname=foo\r\npkgver=1\r\n'],
    ['brace expansion bomb', `depends=(${rep('{a,b}', 30)})\n`],
    ['huge range', 'depends=({1..100000000000})\n'],
    ['doubling string', `_x=ab\n${rep('_x=$_x$_x\n', 64)}pkgdesc=$_x\n`],
    ['doubling array', `_a=(x)\n${rep('_a+=("${_a[@]}")\n', 64)}depends=("\${_a[@]}")\n`],
    ['infinite while', 'while true; do depends+=(x); done\n'],
    ['infinite C for', 'for ((;;)); do :; done\n'],
    ['infinite until', 'until false; do :; done\n'],
    ['huge arithmetic', 'pkgrel=$((2**64 * 9999999999999999 / 0))\n'],
    ['deep substring', `_v=abc\npkgdesc=\${_v:${rep('1+', 10_000)}1}\n`],
    ['recursive function call', 'f() { f; }\nf\n'],
  ];
  it.each(pathological)('%s', (_name, text) => {
    exercise(text);
  });
});

/** Counts the objects of an AST (every node and sub-object), iteratively. */
function countNodes(root: unknown): number {
  let n = 0;
  const stack: unknown[] = [root];
  while (stack.length) {
    const v = stack.pop();
    if (v && typeof v === 'object') {
      n++;
      for (const x of Object.values(v)) if (x && typeof x === 'object') stack.push(x);
    }
  }
  return n;
}

describe('work grows linearly with input size (counted, not timed)', () => {
  const samples = fixtures.filter((f) => !f.name.startsWith('rej-')).slice(0, 60);
  it.each(samples.map((f) => [f.name, f.text] as const))('%s: AST size of k copies is linear in k', (_n, text) => {
    const size = (k: number) => countNodes(parseScript(`${text}\n`.repeat(k)).script);
    const s1 = size(1);
    const s2 = size(2);
    const s8 = size(8);
    const per = s2 - s1;
    expect(per).toBeGreaterThan(0);
    // exactly linear: each further copy adds the same number of nodes
    expect(s8).toBe(s1 + 7 * per);
  });

  it('diagnostics of a repeated syntax error grow linearly', () => {
    const bad = 'depends=(a\nfi\n';
    const count = (k: number) => parsePkgbuild(`pkgname=x\n${bad.repeat(k)}`, { carch: 'x86_64' }).diagnostics.length;
    const c1 = count(1);
    const c50 = count(50);
    expect(c50).toBeLessThanOrEqual(50 * Math.max(c1, 1) + 1);
  });

  it('nesting depth costs a bounded number of nodes per level', () => {
    const a = nestNodes(50);
    const b = nestNodes(100);
    const c = nestNodes(200);
    expect(c - b).toBeLessThanOrEqual(2 * (b - a) + 10);
  });
});
