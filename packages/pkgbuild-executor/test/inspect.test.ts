import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExecutorError, inspectPkgbuild, inspectPkgbuilds } from '../src/index.js';
import { fixturesDir, sandboxModes, tempDir } from './helpers.js';

function write(text: string): string {
  const dir = tempDir('rbee-inspect-');
  const p = join(dir, 'PKGBUILD');
  writeFileSync(p, text);
  return p;
}

async function codeOf(p: Promise<unknown>): Promise<ExecutorError> {
  const e = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (x: unknown) => x,
  );
  if (!ExecutorError.isInstance(e)) throw e;
  return e;
}

describe.each(sandboxModes)('inspectPkgbuild (sandbox %s)', (sandbox) => {
  it('reads variables, arch variants, functions in definition order and overrides into the model', async () => {
    const r = await inspectPkgbuild(join(fixturesDir, 'inspect/eval-split/PKGBUILD'), { carch: 'x86_64', sandbox });
    const p = r.pkgbuild;
    expect(p.pkgbase).toBe('eval-split');
    expect(p.pkgname).toEqual(['eval-split-cpu', 'eval-split-cuda', 'eval-split-docs']);
    expect(p.carch).toBe('x86_64');
    expect(p.vars['depends']).toEqual(['glibc']);
    expect(p.vars['pkgdesc']).toBe('Base description');
    expect(p.vars['_variant']).toBe('cuda');
    expect(p.functions.map((f) => f.name)).toEqual(['package_eval-split-cpu', 'package_eval-split-cuda', 'package_eval-split-docs']);
    expect(p.functions[2]?.body).toContain('pkgdesc="Docs for $pkgname"');
    expect(p.packages[0]).toEqual({
      name: 'eval-split-cpu',
      overrides: {
        pkgdesc: 'Worker (cpu)',
        depends: ['glibc', 'cpu-runtime'],
        provides: ['eval-split-worker'],
        depends_x86_64: ['x86-only-cpu'],
      },
    });
    expect(p.packages[2]?.overrides).toEqual({ arch: ['any'], pkgdesc: 'Docs for eval-split-docs', depends: [] });
    expect(p.unknown).toEqual([]);
    const unsandboxed = r.diagnostics.find((d) => d.code === 'W_UNSANDBOXED');
    expect(unsandboxed !== undefined).toBe(sandbox === 'none');
  });

  it('returns top-level stdout apart, with a warning, and keeps stderr lines as diagnostics', async () => {
    const r = await inspectPkgbuild(join(fixturesDir, 'inspect/stdout-banner/PKGBUILD'), { sandbox });
    expect(r.stdout).toBe('This PKGBUILD says hello\nvalue with tab\tand percent\n==> Building stdout-banner\n  -> detail\n');
    expect(r.pkgbuild.vars['pkgname']).toBe('stdout-banner');
    expect(r.diagnostics.map((d) => d.code)).toContain('W_TOPLEVEL_OUTPUT');
    expect(r.diagnostics).toContainEqual(expect.objectContaining({ code: 'W_BASH_STDERR', message: '==> WARNING: this goes to stderr' }));
  });

  it('keeps every byte of values (newlines, tabs, control characters, UTF-8)', async () => {
    const r = await inspectPkgbuild(join(fixturesDir, 'inspect/special-values/PKGBUILD'), { sandbox });
    expect(r.pkgbuild.vars['pkgdesc']).toBe('multi\nline\tdesc \x01 ctrl');
    expect(r.pkgbuild.vars['license']).toEqual(['custom:Zürich — ☃', 'back\\slash', '%s%d', '']);
    expect(r.pkgbuild.vars['groups']).toEqual(['']);
  });
});

describe('inspectPkgbuild errors', () => {
  it('E_PKGBUILD_SOURCE for a syntax error, with bash message and line', async () => {
    const e = await codeOf(inspectPkgbuild(join(fixturesDir, 'run/syntax-error/PKGBUILD'), { sandbox: 'none' }));
    expect(e.code).toBe('E_PKGBUILD_SOURCE');
    expect(e.line).toBe(7);
    expect(e.message).toMatch(/line 7: .*(syntax error|unexpected)/);
  });

  it('E_PKGBUILD_SOURCE when the last top-level command fails (makepkg: "Failed to source")', async () => {
    const p = write('pkgname=x\npkgver=1\npkgrel=1\narch=(any)\n[[ $CARCH == nothing ]] && depends+=(y)\n');
    const e = await codeOf(inspectPkgbuild(p, { sandbox: 'none', carch: 'x86_64' }));
    expect(e.code).toBe('E_PKGBUILD_SOURCE');
    expect(e.exitCode).toBe(1);
    // an earlier failing command only warns, as in makepkg
    const ok = write('pkgname=x\npkgver=1\npkgrel=1\narch=(any)\nfalse\nnot-a-command-xyz\ntrue\n');
    const r = await inspectPkgbuild(ok, { sandbox: 'none' });
    expect(r.diagnostics.some((d) => d.code === 'W_BASH_STDERR' && d.range.start.line === 6)).toBe(true);
  });

  it('E_PKGBUILD_SOURCE for exit at top level, CRLF line endings and a missing file', async () => {
    expect((await codeOf(inspectPkgbuild(write('pkgname=x\nexit 3\n'), { sandbox: 'none' }))).code).toBe('E_PKGBUILD_SOURCE');
    expect((await codeOf(inspectPkgbuild(write('pkgname=x\r\npkgver=1\r\n'), { sandbox: 'none' }))).message).toContain('CRLF');
    expect((await codeOf(inspectPkgbuild('/nonexistent/PKGBUILD'))).code).toBe('E_PKGBUILD_SOURCE');
  });

  it('E_BASH_NOT_FOUND and E_SANDBOX_UNAVAILABLE', async () => {
    const p = join(fixturesDir, 'inspect/uname/PKGBUILD');
    expect((await codeOf(inspectPkgbuild(p, { bashPath: '/nonexistent/bash' }))).code).toBe('E_BASH_NOT_FOUND');
    expect((await codeOf(inspectPkgbuild(p, { sandbox: 'bwrap', bwrapPath: '/nonexistent/bwrap' }))).code).toBe('E_SANDBOX_UNAVAILABLE');
    const r = await inspectPkgbuild(p, { bwrapPath: '/bin/false' });
    expect(r.diagnostics.find((d) => d.code === 'W_UNSANDBOXED')?.severity).toBe('warning');
  });
});

describe('inspectPkgbuilds (batch)', () => {
  it('isolates files from each other and returns per-file outcomes in order', async () => {
    const a = write('pkgname=a\npkgver=1\npkgrel=1\narch=(any)\n_leak=from-a\ndepends=(x)\nbuild() { :; }\n');
    const bad = write('pkgname=bad\nfalse\n');
    const b = write('pkgname=b\npkgver=2\npkgrel=1\narch=(any)\ndepends+=(y)\n');
    const out = await inspectPkgbuilds([a, bad, b], { sandbox: 'none' });
    expect(out.map((o) => o.ok)).toEqual([true, false, true]);
    const rb = out[2];
    if (!rb?.ok) throw new Error('b failed');
    expect(rb.result.pkgbuild.vars['_leak']).toBeUndefined();
    expect(rb.result.pkgbuild.vars['depends']).toEqual(['y']);
    expect(rb.result.pkgbuild.functions).toEqual([]);
    const rbad = out[1];
    expect(rbad && !rbad.ok && rbad.error.code).toBe('E_PKGBUILD_SOURCE');
  });

  it('times out one hanging file without losing the others', async () => {
    const hang = write('pkgname=h\npkgver=1\npkgrel=1\narch=(any)\nsleep 30\n');
    const ok = write('pkgname=ok\npkgver=1\npkgrel=1\narch=(any)\n');
    const out = await inspectPkgbuilds([hang, ok], { sandbox: 'none', timeoutMs: 500 });
    expect(out[0] && !out[0].ok && out[0].error.code).toBe('E_TIMEOUT');
    expect(out[1]?.ok).toBe(true);
  });
});
