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
