/**
 * The public entry points: the model, locations, the throwing variant and its error class.
 */
import { describe, expect, it } from 'vitest';
import { PkgbuildError, PkgbuildParseError } from './errors.js';
import { parsePkgbuild, parsePkgbuildOrThrow } from './parse.js';

const TEXT = `pkgname=(foo foo-docs)
pkgver=1.2
pkgrel=1
arch=(x86_64 aarch64)
depends=(a)
depends_aarch64=(arm)
makedepend=(typo)
build() { make; }
package_foo() {
  depends+=(b)
}
package_foo-docs() {
  pkgdesc="docs for $pkgname"
  arch=(any)
}
`;

describe('parsePkgbuild', () => {
  it('builds the model makepkg sees', () => {
    const r = parsePkgbuild(TEXT);
    expect(r.isStatic).toBe(true);
    expect(r.pkgbuild).toMatchObject({ pkgbase: 'foo', pkgname: ['foo', 'foo-docs'], carch: 'x86_64', unknown: [] });
    expect(r.pkgbuild.vars).toMatchObject({ pkgver: '1.2', depends: ['a'], depends_aarch64: ['arm'], makedepend: ['typo'] });
    expect(r.pkgbuild.packages).toEqual([
      { name: 'foo', overrides: { depends: ['a', 'b'] } },
      { name: 'foo-docs', overrides: { pkgdesc: 'docs for foo-docs', arch: ['any'] } },
    ]);
    expect(r.pkgbuild.functions.map((f) => [f.name, f.body])).toEqual([
      ['build', ' make; '], ['package_foo', '\n  depends+=(b)\n'], ['package_foo-docs', '\n  pkgdesc="docs for $pkgname"\n  arch=(any)\n'],
    ]);
  });

  it('gives locations for variables, overrides and functions', () => {
    const r = parsePkgbuild(TEXT);
    expect(r.locations.vars.makedepend).toMatchObject({ start: { line: 7, column: 1, offset: 99 }, end: { line: 7, column: 18 } });
    expect(r.locations.packages['foo-docs']?.arch?.start.line).toBe(14);
    expect(r.locations.functions.package_foo).toMatchObject({ start: { line: 9, column: 1 }, end: { line: 11, column: 2 } });
    expect(r.ast.type).toBe('Script');
  });

  it('defaults pkgbase to pkgname[0] and honours carch', () => {
    const r = parsePkgbuild('pkgname=(x y)\ncase $CARCH in aarch64) depends=(arm);; *) depends=(other);; esac\n', { carch: 'aarch64' });
    expect(r.pkgbuild.pkgbase).toBe('x');
    expect(r.pkgbuild.vars.depends).toEqual(['arm']);
    expect(r.pkgbuild.carch).toBe('aarch64');
  });

  it('never throws, whatever the input', () => {
    for (const t of ['', '\0', '"', 'pkgname=(', '$((1/0))', 'x=${', '((', '<<EOF', '\r\n', 'f() {', '`', "$'"]) {
      expect(() => parsePkgbuild(t)).not.toThrow();
    }
  });
});

describe('parsePkgbuildOrThrow', () => {
  it('throws PkgbuildParseError with code, line and column on a syntax error', () => {
    let caught: unknown;
    try {
      parsePkgbuildOrThrow('pkgname=foo\npkgver=1\nif true; then\n');
    } catch (e) {
      caught = e;
    }
    expect(PkgbuildError.isInstance(caught)).toBe(true);
    expect(caught).toBeInstanceOf(PkgbuildParseError);
    expect(caught).toMatchObject({ code: 'E_SYNTAX', name: 'PkgbuildParseError', line: 4, column: 1 });
  });

  it('throws E_CRLF for Windows line endings', () => {
    expect(() => parsePkgbuildOrThrow('pkgname=a\r\n')).toThrow(expect.objectContaining({ code: 'E_CRLF', line: 1, column: 10 }));
  });

  it('returns the result when the text parses', () => {
    expect(parsePkgbuildOrThrow('pkgname=a\n').pkgbuild.pkgname).toEqual(['a']);
  });
});
