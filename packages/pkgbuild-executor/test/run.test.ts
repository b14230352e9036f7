import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExecutorError, runPkgbuild, type OutputLine } from '../src/index.js';
import { buildDir, sandboxModes } from './helpers.js';

async function expectCode(p: Promise<unknown>, code: string): Promise<ExecutorError> {
  const e = await p.then(
    () => {
      throw new Error(`expected ${code}, got success`);
    },
    (err: unknown) => err,
  );
  expect(ExecutorError.isInstance(e)).toBe(true);
  expect((e as ExecutorError).code).toBe(code);
  return e as ExecutorError;
}

describe.each(sandboxModes)('runPkgbuild (sandbox %s)', (sandbox) => {
  it('builds, checks and packages a C program; pkgver() replaces pkgver and resets pkgrel', async () => {
    const b = buildDir('hello-c');
    const lines: OutputLine[] = [];
    const r = await runPkgbuild({ ...b, startdir: b.dir, sandbox, logFile: join(b.dir, 'log/build.log'), onLine: (l) => lines.push(l) });
    expect(r.pkgver).toBe('1.1');
    expect(r.pkgrel).toBe('1');
    expect(r.pkgname).toEqual(['hello-c']);
    expect(Object.keys(r.durations)).toEqual(['prepare', 'pkgver', 'build', 'check', 'package']);
    expect(r.pkgdirs).toEqual({ 'hello-c': join(b.pkgdir, 'hello-c') });
    const bin = join(b.pkgdir, 'hello-c/usr/bin/hello');
    expect(execFileSync(bin, { encoding: 'utf8' })).toBe('hello from C\n');
    expect(statSync(bin).mode & 0o777).toBe(0o755);
    // the caller's PKGBUILD is left alone (makepkg would rewrite its pkgver= line)
    expect(readFileSync(b.pkgbuildPath, 'utf8')).toContain('pkgver=0.1\n');
    const cflags = lines.find((l) => l.line.startsWith('CFLAGS='));
    expect(cflags).toMatchObject({ function: 'build', stream: 'stdout' });
    expect(cflags?.line).toContain('-flto=auto');
    expect(readFileSync(join(b.dir, 'log/build.log'), 'utf8')).toContain(cflags?.line ?? '!');
    expect(r.fakeroot).toBe(true);
    expect(r.sandbox).toBe(sandbox);
  });

  it('runs each package_<name>() of a split package in its own pkgdir, under fakeroot, overrides not leaking', async () => {
    const b = buildDir('split-sh');
    const fns: string[] = [];
    const r = await runPkgbuild({ ...b, startdir: b.dir, sandbox, onFunction: (f) => fns.push(`${f.function}:${f.status}`) });
    expect(fns).toEqual(['build:start', 'build:end', 'package_greeter-en:start', 'package_greeter-en:end', 'package_greeter-fr:start', 'package_greeter-fr:end']);
    expect(r.pkgname).toEqual(['greeter-en', 'greeter-fr']);
    expect(r.pkgbase).toBe('greeters');
    const en = readFileSync(join(b.pkgdir, 'greeter-en/info'), 'utf8');
    const fr = readFileSync(join(b.pkgdir, 'greeter-fr/info'), 'utf8');
    expect(en).toBe(`greeter-en|English greeter|${join(b.pkgdir, 'greeter-en')}|0\n`);
    // pkgdesc set by package_greeter-en() was restored before package_greeter-fr()
    expect(fr).toBe(`greeter-fr|Greeters|${join(b.pkgdir, 'greeter-fr')}|0\n123:456\n`);
    expect(execFileSync(join(b.pkgdir, 'greeter-fr/usr/bin/greet-fr'), { encoding: 'utf8' })).toBe('greeting in fr\n');
    expect(Object.keys(r.durations)).toEqual(['build', 'package_greeter-en', 'package_greeter-fr']);
  });

  it("gives functions makepkg's environment: cwd, umask, errexit, shell vs exported variables", async () => {
    const b = buildDir('semantics');
    const lines: OutputLine[] = [];
    await runPkgbuild({
      ...b,
      startdir: b.dir,
      sandbox,
      carch: 'x86_64',
      env: { CUSTOM: 'yes', SOURCE_DATE_EPOCH: '1700000000' },
      onLine: (l) => lines.push(l),
    });
    const t = readFileSync(join(b.srcdir, 'semantics.txt'), 'utf8');
    expect(t).toContain(`cwd=${b.srcdir}\n`);
    expect(t).toContain('umask=0022\n');
    expect(t).toMatch(/shellopts=.*errexit.*errtrace/);
    expect(t).not.toMatch(/shellopts=.*pipefail/);
    expect(t).toContain('extglob=on\n');
    expect(t).toContain(`srcdir=${b.srcdir} startdir=${b.dir} pkgdir=${join(b.pkgdir, 'semantics')}\n`);
    expect(t).toContain('vars=semantics semantics 1.5 4 2 x86_64\n');
    expect(t).toContain('exported-CHOST=x86_64-pc-linux-gnu\n');
    expect(t).toMatch(/exported-CFLAGS=-march=x86-64 .*-O2/);
    expect(t).not.toContain('-flto'); // options=(!lto)
    expect(t).toContain('exported-SOURCE_DATE_EPOCH=1700000000\n');
    for (const v of ['srcdir', 'pkgdir', 'CARCH', 'pkgname']) expect(t).toContain(`exported-${v}=\n`);
    expect(t).toContain('CUSTOM=yes\n');
    expect(t).not.toContain(`HOME=${process.env['HOME'] ?? '/root'}\n`);
    expect(t).toContain('no-pipefail=ok\n');
    expect(lines).toContainEqual({ stream: 'stderr', line: 'to stderr', function: 'build' });
    expect(lines).toContainEqual({ stream: 'stdout', line: 'to stdout', function: 'build' });
    expect(lines).toContainEqual({ stream: 'stdout', line: `prepare cwd=${b.srcdir}`, function: 'prepare' });
    expect(lines).toContainEqual({ stream: 'stdout', line: 'package euid=0', function: 'package' });
  });

  it('fails a build() mid-way at the failing command (errexit), not at `false | true` or `false || …`', async () => {
    const b = buildDir('fail-midway');
    const lines: string[] = [];
    const e = await expectCode(runPkgbuild({ ...b, startdir: b.dir, sandbox, onLine: (l) => lines.push(l.line) }), 'E_FUNCTION_FAILED');
    expect(e.function).toBe('build');
    expect(e.exitCode).toBe(7);
    expect(lines).toEqual(['step 1', 'step 2 (no pipefail: still running)', 'step 3 (|| handled)']);
    expect(e.logTail).toEqual(lines);
    expect(existsSync(join(b.pkgdir, 'fail-midway'))).toBe(false);
  });

  it('reports a failing check() with its last output lines', async () => {
    const b = buildDir('failing-check');
    const e = await expectCode(runPkgbuild({ ...b, startdir: b.dir, sandbox }), 'E_FUNCTION_FAILED');
    expect(e.function).toBe('check');
    expect(e.exitCode).toBe(1);
    expect(e.logTail).toEqual(['running 3 tests', 'test 1', 'test 2', 'test 3']);
    // skipCheck (makepkg --nocheck) lets the same PKGBUILD through
    const b2 = buildDir('failing-check');
    const r = await runPkgbuild({ ...b2, startdir: b2.dir, sandbox, skipCheck: true });
    expect(Object.keys(r.durations)).toEqual(['build', 'package']);
  });
});

describe('runPkgbuild error codes', () => {
  it('E_INVALID_PKGVER when pkgver() prints a version makepkg rejects', async () => {
    const b = buildDir('bad-pkgver');
    const e = await expectCode(runPkgbuild({ ...b, startdir: b.dir, sandbox: 'none' }), 'E_INVALID_PKGVER');
    expect(e.pkgver).toBe('1.0-rc1');
    expect(e.message).toContain('hyphens');
  });

  it('E_NO_PACKAGE_FUNCTION for a missing package() and a missing package_<name>()', async () => {
    const b = buildDir('no-package');
    await expectCode(runPkgbuild({ ...b, startdir: b.dir, sandbox: 'none' }), 'E_NO_PACKAGE_FUNCTION');
    const s = buildDir('split-missing');
    const e = await expectCode(runPkgbuild({ ...s, startdir: s.dir, sandbox: 'none' }), 'E_NO_PACKAGE_FUNCTION');
    expect(e.message).toContain('package_split-missing-b()');
    // without the package step the PKGBUILD is fine
    const r = await runPkgbuild({ ...b, startdir: b.dir, sandbox: 'none', functions: ['prepare', 'build'] });
    expect(Object.keys(r.durations)).toEqual(['build']);
  });

  it('E_PKGBUILD_SOURCE when bash cannot source the PKGBUILD', async () => {
    const b = buildDir('syntax-error');
    const e = await expectCode(runPkgbuild({ ...b, startdir: b.dir, sandbox: 'none' }), 'E_PKGBUILD_SOURCE');
    expect(e.path).toBe(b.pkgbuildPath);
    await expectCode(runPkgbuild({ ...b, pkgbuildPath: join(b.dir, 'missing/PKGBUILD'), startdir: b.dir, sandbox: 'none' }), 'E_PKGBUILD_SOURCE');
  });

  it('E_TIMEOUT when the run exceeds timeoutMs', async () => {
    const b = buildDir('cancel-tree');
    const e = await expectCode(
      runPkgbuild({ ...b, startdir: b.dir, sandbox: 'none', env: { RBEE_TEST_TAG: '41' }, timeoutMs: 1500, killGraceMs: 500 }),
      'E_TIMEOUT',
    );
    expect(e.timeoutMs).toBeGreaterThan(0);
  });

  it('E_BASH_NOT_FOUND for a bashPath that does not exist', async () => {
    const b = buildDir('hello-c');
    await expectCode(runPkgbuild({ ...b, startdir: b.dir, bashPath: '/nonexistent/bash' }), 'E_BASH_NOT_FOUND');
  });

  it('E_SANDBOX_UNAVAILABLE when bwrap is required and bwrapPath is missing or broken', async () => {
    const b = buildDir('hello-c');
    await expectCode(runPkgbuild({ ...b, startdir: b.dir, sandbox: 'bwrap', bwrapPath: '/nonexistent/bwrap' }), 'E_SANDBOX_UNAVAILABLE');
    await expectCode(runPkgbuild({ ...b, startdir: b.dir, sandbox: 'bwrap', bwrapPath: '/bin/false' }), 'E_SANDBOX_UNAVAILABLE');
    // 'auto' falls back to no sandbox, with a warning
    const warnings: string[] = [];
    const r = await runPkgbuild({ ...b, startdir: b.dir, bwrapPath: '/bin/false', functions: ['prepare'], onWarning: (w) => warnings.push(w) });
    expect(r.sandbox).toBe('none');
    expect(warnings.join('\n')).toMatch(/without a sandbox/);
  });
});
