// `rbee-worker pkgbuild parse|srcinfo|lint`: compiler-style diagnostics, .SRCINFO byte-identical
// to makepkg's (stored oracle outputs beside the fixtures, made with `makepkg --printsrcinfo`).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Diagnostic } from '@rbee/pkgbuild-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, fixtures, pkgDir, runCli } from './cli-harness.js';

beforeAll(assertBuilt);

const rel = (p: string) => join('test', 'fixtures', p);
const oracle = (name: string) => readFileSync(join(fixtures, 'pkgbuild', name, 'expected.SRCINFO'), 'utf8');

describe('rbee-worker pkgbuild srcinfo', () => {
  it('prints .SRCINFO byte-identical to makepkg --printsrcinfo for a static PKGBUILD', async () => {
    const r = await runCli(['pkgbuild', 'srcinfo', rel('pkgbuild/static/PKGBUILD')], { cwd: pkgDir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(oracle('static'));
    expect(r.stderr).toBe('');
  });

  it('accepts the directory holding the PKGBUILD', async () => {
    const r = await runCli(['pkgbuild', 'srcinfo', rel('pkgbuild/static')], { cwd: pkgDir });
    expect(r.stdout).toBe(oracle('static'));
  });

  it('refuses a PKGBUILD that is not static without --eval: E_NOT_STATIC, telling to use --eval, exit 1', async () => {
    const r = await runCli(['pkgbuild', 'srcinfo', rel('pkgbuild/dynamic/PKGBUILD')], { cwd: pkgDir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('✖ error E_NOT_STATIC test/fixtures/pkgbuild/dynamic/PKGBUILD is not static: pkgver can only be known by running bash');
    expect(r.stderr).toContain('hint: use --eval');
  });

  it('--eval evaluates it in bash (the executor) and matches makepkg byte for byte', async () => {
    const r = await runCli(['pkgbuild', 'srcinfo', '--eval', rel('pkgbuild/dynamic/PKGBUILD')], { cwd: pkgDir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(oracle('dynamic'));
  });

  it('a PKGBUILD with a syntax error: the diagnostic, E_PARSE_ERRORS, nothing on stdout, exit 1', async () => {
    const r = await runCli(['pkgbuild', 'srcinfo', rel('bad-syntax/PKGBUILD')], { cwd: pkgDir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^test\/fixtures\/bad-syntax\/PKGBUILD:10:1: error E_SYNTAX /m);
    expect(r.stderr).toContain('E_PARSE_ERRORS');
  });

  it('a missing file → E_FILE_NOT_FOUND, exit 1', async () => {
    const r = await runCli(['pkgbuild', 'srcinfo', 'no/such/PKGBUILD']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('✖ error E_FILE_NOT_FOUND no/such/PKGBUILD: no such file');
  });
});

describe('rbee-worker pkgbuild parse', () => {
  it('prints what the PKGBUILD means; exit 0', async () => {
    const r = await runCli(['pkgbuild', 'parse', rel('pkgbuild/static/PKGBUILD')], { cwd: pkgDir });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('static-worker-rbee 1:2.1.0-3');
    expect(r.stdout).toMatch(/^ {2}arch +\(x86_64 aarch64\)$/m);
    expect(r.stdout).toMatch(/^ {2}functions +build\(\) package\(\)$/m);
  });

  it('says which values are not static, with the warning printed like a compiler', async () => {
    const r = await runCli(['pkgbuild', 'parse', rel('pkgbuild/dynamic/PKGBUILD')], { cwd: pkgDir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}not static +pkgver /m);
    const lines = r.stderr.split('\n');
    const at = lines.findIndex((l) => l.startsWith('test/fixtures/pkgbuild/dynamic/PKGBUILD:3:8: warning '));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(lines[at + 1]).toBe("   3 | pkgver=$(printf '%s.%s' 0 7)");
    expect(lines[at + 2]).toBe('     |        ^~~~~~~~~~~~~~~~~~~~~');
  });

  it('--json gives the model and the diagnostics as data; errors make it exit 1', async () => {
    const r = await runCli(['pkgbuild', 'parse', '--json', rel('bad-syntax/PKGBUILD')], { cwd: pkgDir });
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { file: string; isStatic: boolean; pkgbuild: { pkgbase: string }; diagnostics: Diagnostic[] };
    expect(doc.file).toBe('test/fixtures/bad-syntax/PKGBUILD');
    expect(doc.pkgbuild.pkgbase).toBe('broken-worker-rbee');
    expect(doc.diagnostics[0]).toMatchObject({ code: 'E_SYNTAX', severity: 'error', range: { start: { line: 10, column: 1 } } });
    expect(r.stderr).toBe('');
  });
});

describe('rbee-worker pkgbuild lint', () => {
  it("reports makepkg's lint errors like a compiler (file:line:col, the line, a caret under the range) and exits 1", async () => {
    const r = await runCli(['pkgbuild', 'lint', rel('pkgbuild/lint-errors/PKGBUILD')], { cwd: pkgDir });
    expect(r.code).toBe(1);
    const out = r.stdout.split('\n');
    const at = out.indexOf(
      'test/fixtures/pkgbuild/lint-errors/PKGBUILD:3:1: error lint_pkgver pkgver is not allowed to contain colons, forward slashes, hyphens or whitespace.',
    );
    expect(at).toBeGreaterThanOrEqual(0);
    expect(out[at + 1]).toBe('   3 | pkgver=1.0-beta');
    expect(out[at + 2]).toMatch(/^ {5}\| \^~+$/);
    expect(r.stdout).toContain("PKGBUILD:5:1: error lint_arch Can not use 'any' architecture with other architectures");
    expect(r.stderr).toMatch(/^1 file checked: 2 errors, \d+ warnings?\n$/);
  });

  it('several files at once: a clean one, a faulty one and a missing one; exit 1 because of the errors', async () => {
    const r = await runCli(['pkgbuild', 'lint', rel('build-ok'), rel('pkgbuild/lint-errors/PKGBUILD'), 'missing/PKGBUILD'], { cwd: pkgDir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('test/fixtures/build-ok/PKGBUILD:');
    expect(r.stdout).toContain('test/fixtures/pkgbuild/lint-errors/PKGBUILD:3:1: error lint_pkgver');
    expect(r.stdout).toContain('missing/PKGBUILD: error E_FILE_NOT_FOUND missing/PKGBUILD: no such file');
    expect(r.stderr).toMatch(/^3 files checked: 3 errors, /);
  });

  it('only warnings → exit 0', async () => {
    const r = await runCli(['pkgbuild', 'lint', rel('pkgbuild/static/PKGBUILD')], { cwd: pkgDir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^test\/fixtures\/pkgbuild\/static\/PKGBUILD:14:13: warning W_SKIP_NON_VCS /);
    expect(r.stderr).toBe('1 file checked: 0 errors, 1 warning\n');
  });

  it('--json gives the diagnostics as data, with 1-based lines/columns and 0-based offsets', async () => {
    const r = await runCli(['pkgbuild', 'lint', '--json', rel('pkgbuild/lint-errors/PKGBUILD'), rel('bad-syntax/PKGBUILD')], { cwd: pkgDir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout) as { files: Array<{ file: string; diagnostics: Diagnostic[] }>; errorCount: number; warningCount: number };
    expect(doc.files.map((f) => f.file)).toEqual(['test/fixtures/pkgbuild/lint-errors/PKGBUILD', 'test/fixtures/bad-syntax/PKGBUILD']);
    const text = readFileSync(join(fixtures, 'pkgbuild', 'lint-errors', 'PKGBUILD'), 'utf8');
    const pkgver = doc.files[0]!.diagnostics.find((d) => d.code === 'lint_pkgver')!;
    expect(pkgver).toMatchObject({ severity: 'error', range: { start: { line: 3, column: 1 } } });
    expect(text.slice(pkgver.range.start.offset, pkgver.range.end.offset)).toContain('1.0-beta');
    expect(doc.files[1]!.diagnostics.some((d) => d.code === 'E_SYNTAX')).toBe(true);
    expect(doc.errorCount).toBe(3);
    expect(doc.warningCount).toBe(doc.files.flatMap((f) => f.diagnostics).filter((d) => d.severity === 'warning').length);
  });
});
