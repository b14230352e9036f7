import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PkgbuildError } from './errors.js';
import type { Pkgbuild, Value } from './model.js';
import { parsePkgbuild } from './parse.js';
import { parseSrcinfo, SrcinfoParseError } from './srcinfo-reader.js';
import { normalizeSrcinfoValue, toSrcinfo } from './srcinfo-writer.js';

const fixtures = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
const mine = join(fixtures, 'srcinfo');
const read = (p: string): string => readFileSync(join(mine, p), 'utf8');

function model(vars: Record<string, Value>, packages: Pkgbuild['packages'], pkgbase?: string): Pkgbuild {
  const pkgname = packages.map((p) => p.name);
  return { pkgbase: pkgbase ?? pkgname[0]!, pkgname, vars, packages, functions: [], unknown: [], carch: 'x86_64' };
}

// Each model below is what the PKGBUILD beside the expected file means; the expected texts were
// printed by makepkg 6.0.2 (test/fixtures/srcinfo/regen.sh).
describe('toSrcinfo matches makepkg --printsrcinfo', () => {
  it('collapses whitespace per locale (C vs C.UTF-8) and prints empty elements', () => {
    const m = model(
      {
        pkgname: 'ws',
        pkgver: '1',
        pkgrel: '1',
        pkgdesc: '  lead\t\ttabs\nnewline  trail  ',
        url: '\u3000ideo\u3000\u3000space\u00a0nbsp\u2007figure\u202fnarrow\u2028ls\u205fmm',
        arch: ['x86_64'],
        groups: ['', '   ', ' a\vb\fc\rd '],
        license: ['\u2003em\u2003', '\u1680ogham'],
      },
      [{ name: 'ws', overrides: {} }],
    );
    expect(toSrcinfo(m)).toBe(read('whitespace/expected.srcinfo'));
    expect(toSrcinfo(m, { locale: 'C' })).toBe(read('whitespace/expected.srcinfo'));
    expect(toSrcinfo(m, { locale: 'C.UTF-8' })).toBe(read('whitespace/expected.c-utf8.srcinfo'));
  });

  it('prints split-package overrides with full values, empty overrides, and per-package arch blocks', () => {
    const m = model(
      {
        pkgbase: 'sp',
        pkgname: ['sp-a', 'sp-b', 'sp-c'],
        pkgver: '2.0',
        pkgrel: '3',
        pkgdesc: 'base desc',
        arch: ['x86_64', 'aarch64'],
        license: ['MIT'],
        depends: ['glibc'],
        depends_x86_64: ['x86dep'],
        makedepends: ['cmake'],
        source: ['a.tar.gz'],
        sha256sums: ['SKIP'],
      },
      [
        { name: 'sp-a', overrides: { pkgdesc: '', depends: [], optdepends: ['opt: with  spaces'] } },
        {
          name: 'sp-b',
          overrides: {
            arch: ['aarch64'],
            depends: ['glibc', 'extra'],
            depends_aarch64: ['armdep'],
            depends_x86_64: ['never'],
            url: 'https://b.example',
          },
        },
        { name: 'sp-c', overrides: { depends_x86_64: ['x86dep', 'more'], backup: ['etc/c.conf'] } },
      ],
      'sp',
    );
    expect(toSrcinfo(m)).toBe(read('split-overrides/expected.srcinfo'));
  });

  it('orders keys as makepkg does: arch blocks per arch entry (duplicates repeat), cksums first', () => {
    const m = model(
      {
        pkgname: 'ab',
        pkgver: '1',
        pkgrel: '1',
        arch: ['aarch64', 'x86_64', 'aarch64'],
        source: ['common.tar'],
        source_x86_64: ['x.tar'],
        source_aarch64: ['a.tar'],
        source_riscv64: ['r.tar'],
        cksums: ['1'],
        md5sums: ['00'],
        b2sums: ['bb'],
        sha256sums_x86_64: ['22'],
        cksums_x86_64: ['11'],
        makedepends_aarch64: ['mk'],
        checkdepends_x86_64: ['ck'],
        optdepends_x86_64: ['o: x'],
        replaces_aarch64: ['old'],
        conflicts_x86_64: ['c'],
        provides_x86_64: ['p'],
        validpgpkeys: ['ABCDEF'],
        noextract: ['common.tar'],
        options: ['!strip'],
        backup: ['etc/x'],
      },
      [{ name: 'ab', overrides: {} }],
    );
    expect(toSrcinfo(m)).toBe(read('arch-blocks/expected.srcinfo'));
  });

  it('prints epoch=0, skips empty scalars and arrays globally, prints empty package overrides', () => {
    const m = model(
      {
        pkgname: 'se',
        pkgver: '1',
        pkgrel: '1',
        epoch: '0',
        pkgdesc: '',
        url: '   ',
        install: 'se.install',
        changelog: '',
        arch: ['x86_64'],
        noextract: [''],
        provides: [],
      },
      [{ name: 'se', overrides: { install: '', changelog: '', license: [] } }],
    );
    expect(toSrcinfo(m)).toBe(read('scalars-empty/expected.srcinfo'));
  });

  it("skips 'any' in the arch loop and reads an array in a scalar slot as its element 0", () => {
    const m = model(
      { pkgname: 'x', pkgver: ['1', '2'], arch: ['any'], depends_any: ['nope'], pkgdesc: [] },
      [{ name: 'x', overrides: { pkgdesc: ['p', 'q'], depends_any: ['nope'] } }],
    );
    expect(toSrcinfo(m)).toBe('pkgbase = x\n\tpkgver = 1\n\tarch = any\n\npkgname = x\n\tpkgdesc = p\n');
  });

  it('does not normalize section headers and matches packages by name when out of order', () => {
    const m = model({ arch: 'x86_64' }, [
      { name: ' a  b ', overrides: {} },
      { name: 'c', overrides: { groups: 'g' } },
    ]);
    m.packages.reverse();
    expect(toSrcinfo(m)).toBe('pkgbase =  a  b \n\tarch = x86_64\n\npkgname =  a  b \n\npkgname = c\n\tgroups = g\n');
  });

  it('normalizeSrcinfoValue strips only one space class per locale', () => {
    expect(normalizeSrcinfoValue(' \t ')).toBe('');
    expect(normalizeSrcinfoValue('\u3000x\u3000')).toBe('\u3000x\u3000');
    expect(normalizeSrcinfoValue('\u3000x\u3000', 'C.UTF-8')).toBe('x');
    expect(normalizeSrcinfoValue('\u00a0x', 'C.UTF-8')).toBe('\u00a0x');
  });
});

describe('parsePkgbuild + toSrcinfo on the same fixtures', () => {
  it.each(['whitespace', 'split-overrides', 'arch-blocks', 'scalars-empty'])('%s', (name) => {
    const r = parsePkgbuild(read(`${name}/PKGBUILD`), { carch: 'x86_64' });
    expect(r.isStatic).toBe(true);
    expect(toSrcinfo(r.pkgbuild)).toBe(read(`${name}/expected.srcinfo`));
  });
});

function* srcinfoFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* srcinfoFiles(p);
    else if (/^expected.*\.srcinfo$/.test(name) || name.endsWith('.SRCINFO')) yield p;
  }
}

describe('parseSrcinfo', () => {
  // makepkg's stdout for a PKGBUILD whose top level prints (dyn-echo-top, …) or exits early is not a
  // .SRCINFO at all: only real ones, which always open with their pkgbase header, round-trip.
  const files = [...srcinfoFiles(fixtures)].filter((f) => readFileSync(f, 'utf8').startsWith('pkgbase = '));

  it('finds the stored makepkg outputs', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it.each(files.map((f) => [relative(fixtures, f), f] as const))('round-trips %s', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    const locale = file.includes('utf8') ? 'C.UTF-8' : 'C';
    expect(toSrcinfo(parseSrcinfo(text), { locale })).toBe(text);
  });

  it('reads scalars, arrays, overrides and infers carch', () => {
    const m = parseSrcinfo(read('split-overrides/expected.srcinfo'));
    expect(m.pkgbase).toBe('sp');
    expect(m.pkgname).toEqual(['sp-a', 'sp-b', 'sp-c']);
    expect(m.vars.pkgver).toBe('2.0');
    expect(m.vars.pkgbase).toBe('sp');
    expect(m.vars.depends).toEqual(['glibc']);
    expect(m.packages[0]).toEqual({ name: 'sp-a', overrides: { pkgdesc: '', depends: [''], optdepends: ['opt: with spaces'] } });
    expect(m.packages[1]?.overrides.arch).toEqual(['aarch64']);
    expect(m.carch).toBe('x86_64');
    expect(m.functions).toEqual([]);
    expect(m.unknown).toEqual([]);
    const arm = parseSrcinfo('pkgbase = a\n\tarch = aarch64\n\tarch = riscv64\n\npkgname = a\n');
    expect(arm.carch).toBe('aarch64');
    expect(arm.vars.pkgbase).toBeUndefined();
    expect(arm.vars.pkgname).toEqual(['a']);
  });

  it('accepts makepkg --source headers, blank lines and a missing trailing space', () => {
    const m = parseSrcinfo('# Generated by makepkg 6.0.2\n# Fri Nov 27 2026\npkgbase = a\n\tpkgdesc =\n\tdepends =\n\n\npkgname = a\n');
    expect(m.vars.pkgdesc).toBe(' ');
    expect(m.vars.depends).toEqual(['']);
  });

  it.each([
    ['not key = value', 'pkgbase = a\n\tjunk line\npkgname = a\n', 2],
    ['key before header', '\tpkgver = 1\npkgbase = a\n', 1],
    ['pkgname before pkgbase', 'pkgname = a\n', 1],
    ['second pkgbase', 'pkgbase = a\npkgname = a\npkgbase = b\n', 3],
    ['duplicate scalar', 'pkgbase = a\n\tpkgver = 1\n\tpkgver = 2\npkgname = a\n', 3],
    ['no pkgname', 'pkgbase = a\n\tpkgver = 1\n', 2],
    ['empty input', '', 1],
  ])('throws E_SRCINFO_SYNTAX on %s', (_what, text, line) => {
    let err: unknown;
    try {
      parseSrcinfo(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SrcinfoParseError);
    expect(PkgbuildError.isInstance(err)).toBe(true);
    const e = err as SrcinfoParseError;
    expect(e.code).toBe('E_SRCINFO_SYNTAX');
    expect(e.name).toBe('SrcinfoParseError');
    expect(e.line).toBe(line);
    expect(e.range?.start.line).toBe(line);
    expect(e.message).toContain(`line ${line}`);
  });
});

describe('toSrcinfo / parseSrcinfo properties', () => {
  const runs = Number(process.env.FAST_CHECK_RUNS ?? 100);
  const text = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\t', '\n', '=', '#', '%', '\\', 'é', '\u3000', '\u00a0', '') , maxLength: 8 });
  const archName = fc.constantFrom('x86_64', 'aarch64', 'any', 'i686');
  const values = fc.array(text, { maxLength: 3 });
  const keyPool = ['pkgdesc', 'url', 'install', 'pkgver', 'epoch', 'depends', 'groups', 'source', 'cksums', 'b2sums', 'backup', 'options'];
  const vars = fc.dictionary(fc.constantFrom(...keyPool), fc.oneof(text, values), { maxKeys: 8 });
  const archVars = fc.dictionary(
    fc.tuple(fc.constantFrom('depends', 'source', 'sha256sums', 'provides'), archName).map(([k, a]) => `${k}_${a}`),
    values,
    { maxKeys: 4 },
  );
  const pkgName = fc.string({ unit: fc.constantFrom('a', 'b', '-', ' ', '='), minLength: 0, maxLength: 4 });
  const model = fc
    .record({
      pkgbase: pkgName,
      arch: fc.option(fc.array(archName, { maxLength: 3 }), { nil: undefined }),
      vars,
      archVars,
      packages: fc.array(
        fc.record({
          name: pkgName,
          overrides: fc.dictionary(fc.constantFrom('pkgdesc', 'url', 'arch', 'depends', 'depends_x86_64', 'license', 'backup'), fc.oneof(text, values), {
            maxKeys: 4,
          }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    })
    .map(({ pkgbase, arch, vars: v, archVars: av, packages }): Pkgbuild => {
      const all: Record<string, Value> = { ...v, ...av };
      if (arch) all.arch = arch;
      for (const p of packages) {
        // makepkg's arch values name variables: they never hold spaces
        if (p.overrides.arch !== undefined) p.overrides.arch = [p.overrides.arch].flat().map((a) => a.replace(/\s/g, '') || 'x86_64');
      }
      return { pkgbase, pkgname: packages.map((p) => p.name), vars: all, packages, functions: [], unknown: [], carch: 'x86_64' };
    });

  it('parseSrcinfo reads back every text toSrcinfo prints, and printing it again gives the same text', () => {
    for (const locale of ['C', 'C.UTF-8'] as const) {
      fc.assert(
        fc.property(model, (m) => {
          const s = toSrcinfo(m, { locale });
          expect(toSrcinfo(parseSrcinfo(s), { locale })).toBe(s);
        }),
        { numRuns: runs },
      );
    }
  });
});
