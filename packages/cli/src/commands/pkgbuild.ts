import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { lintPkgbuild, parsePkgbuild, toSrcinfo, type Diagnostic, type Pkgbuild } from '@rbee/pkgbuild-parser';
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../context.js';
import { countDiagnostics, formatDiagnostic } from '../diagnostic-printer.js';
import { ExitCode } from '../exit-codes.js';

interface PkgbuildOptions {
  carch: string;
  eval?: boolean;
}

/** A PKGBUILD read from disk: its path as the user wrote it, its absolute path and its text. */
interface PkgbuildFile {
  shown: string;
  path: string;
  text: string;
}

/** Reads `file` (or `file/PKGBUILD` when it is a directory). */
async function readPkgbuild(ctx: CommandContext, file: string): Promise<PkgbuildFile> {
  let path = resolve(ctx.io.cwd, file);
  let shown = file;
  try {
    if ((await stat(path)).isDirectory()) {
      path = join(path, 'PKGBUILD');
      shown = join(file, 'PKGBUILD');
    }
    return { shown, path, text: await readFile(path, 'utf8') };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new CliError('E_FILE_NOT_FOUND', `${shown}: no such file`, { hint: 'give the path of a PKGBUILD file (or of the directory holding it)', cause: e });
    }
    throw new CliError('E_FILE_UNREADABLE', `${shown}: cannot read it (${code ?? String(e)})`, { cause: e });
  }
}

function optionsOf(args: unknown[]): PkgbuildOptions {
  const cmd = args[args.length - 1] as { opts(): PkgbuildOptions };
  return cmd.opts();
}

function mergeDiagnostics(...lists: ReadonlyArray<readonly Diagnostic[]>): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const list of lists) {
    for (const d of list) {
      const key = `${d.code}\u0000${d.range.start.offset}\u0000${d.range.end.offset}\u0000${d.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(d);
    }
  }
  return out.sort((a, b) => a.range.start.offset - b.range.start.offset || a.range.end.offset - b.range.end.offset);
}

function printDiagnostics(ctx: CommandContext, stream: 'stdout' | 'stderr', file: PkgbuildFile, diagnostics: readonly Diagnostic[]): void {
  const colors = stream === 'stdout' ? ctx.out : ctx.err;
  for (const d of diagnostics) ctx.io[stream].write(`${formatDiagnostic(file.shown, file.text, d, { colors })}\n`);
}

function formatValue(v: string | string[]): string {
  if (typeof v === 'string') return v;
  return `(${v.map((x) => (x === '' || /[\s'"()]/.test(x) ? JSON.stringify(x) : x)).join(' ')})`;
}

function describe(p: Pkgbuild): string[] {
  const v = p.vars;
  const ver = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const epoch = ver('epoch');
  const full = `${epoch && epoch !== '0' ? `${epoch}:` : ''}${ver('pkgver') ?? '?'}-${ver('pkgrel') ?? '?'}`;
  const lines = [`${p.pkgbase} ${full}${p.pkgname.length > 1 || p.pkgname[0] !== p.pkgbase ? ` (packages: ${p.pkgname.join(', ')})` : ''}`];
  const width = Math.max(12, ...Object.keys(v).map((k) => k.length));
  for (const [k, value] of Object.entries(v)) lines.push(`  ${k.padEnd(width)}  ${formatValue(value)}`);
  if (p.functions.length > 0) lines.push(`  ${'functions'.padEnd(width)}  ${p.functions.map((f) => `${f.name}()`).join(' ')}`);
  for (const pkg of p.packages) {
    const keys = Object.keys(pkg.overrides);
    if (keys.length > 0) lines.push(`  package ${pkg.name}: overrides ${keys.join(', ')}`);
  }
  if (p.unknown.length > 0) lines.push(`  ${'not static'.padEnd(width)}  ${p.unknown.join(' ')} (use \`pkgbuild srcinfo --eval\`)`);
  return lines;
}

/** `rbee-worker pkgbuild parse <file>`: the static model (`--json`: the whole parse result). */
export async function parseCommand(ctx: CommandContext, file: string, ...rest: unknown[]): Promise<number> {
  const opts = optionsOf(rest);
  const f = await readPkgbuild(ctx, file);
  const result = parsePkgbuild(f.text, { carch: opts.carch, filename: f.shown });
  const diagnostics = mergeDiagnostics(result.diagnostics);
  const counts = countDiagnostics(diagnostics);
  if (ctx.globals.json) {
    ctx.io.stdout.write(`${JSON.stringify({ file: f.shown, isStatic: result.isStatic, pkgbuild: result.pkgbuild, diagnostics }, null, 2)}\n`);
  } else {
    printDiagnostics(ctx, 'stderr', f, diagnostics);
    ctx.io.stdout.write(`${describe(result.pkgbuild).join('\n')}\n`);
  }
  return counts.errors > 0 ? ExitCode.Failure : ExitCode.Ok;
}

/** `rbee-worker pkgbuild srcinfo <file> [--eval]`: .SRCINFO, as `makepkg --printsrcinfo` prints it. */
export async function srcinfoCommand(ctx: CommandContext, file: string, ...rest: unknown[]): Promise<number> {
  const opts = optionsOf(rest);
  const f = await readPkgbuild(ctx, file);
  if (opts.eval) {
    const { inspectPkgbuild } = await import('@rbee/pkgbuild-executor');
    const inspected = await inspectPkgbuild(f.path, { carch: opts.carch, signal: ctx.signal });
    ctx.io.stdout.write(toSrcinfo(inspected.pkgbuild));
    return ExitCode.Ok;
  }
  const result = parsePkgbuild(f.text, { carch: opts.carch, filename: f.shown });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    printDiagnostics(ctx, 'stderr', f, errors);
    throw new CliError('E_PARSE_ERRORS', `${f.shown} has ${errors.length} error${errors.length === 1 ? '' : 's'}; no .SRCINFO written`, {
      hint: 'fix the errors above (`rbee-worker pkgbuild lint` shows every finding)',
    });
  }
  if (!result.isStatic) {
    const names = result.pkgbuild.unknown;
    throw new CliError(
      'E_NOT_STATIC',
      `${f.shown} is not static: ${names.length > 0 ? names.join(', ') : 'some values'} can only be known by running bash`,
      { hint: `use --eval to evaluate it in a sandboxed bash, as makepkg does: rbee-worker pkgbuild srcinfo --eval ${file}` },
    );
  }
  ctx.io.stdout.write(toSrcinfo(result.pkgbuild));
  return ExitCode.Ok;
}

/** `rbee-worker pkgbuild lint <file...>`: compiler-style findings; exit 1 when any is an error. */
export async function lintCommand(ctx: CommandContext, files: string[], ...rest: unknown[]): Promise<number> {
  const opts = optionsOf(rest);
  const results: Array<{ file: string; diagnostics: Diagnostic[]; error?: { code: string; message: string } }> = [];
  let errors = 0;
  let warnings = 0;
  for (const file of files) {
    let f: PkgbuildFile;
    try {
      f = await readPkgbuild(ctx, file);
    } catch (e) {
      if (!CliError.isInstance(e)) throw e;
      errors++;
      results.push({ file, diagnostics: [], error: { code: e.code, message: e.message } });
      if (!ctx.globals.json) ctx.io.stdout.write(`${ctx.out.bold(`${file}:`)} ${ctx.out.red(ctx.out.bold('error'))} ${ctx.out.dim(e.code)} ${e.message}\n`);
      continue;
    }
    const dir = dirname(f.path);
    const parsed = parsePkgbuild(f.text, { carch: opts.carch, filename: f.shown });
    const linted = lintPkgbuild(parsed, { carch: opts.carch, fileExists: (p: string) => existsSync(resolve(dir, p)) });
    const diagnostics = mergeDiagnostics(parsed.diagnostics, linted);
    const counts = countDiagnostics(diagnostics);
    errors += counts.errors;
    warnings += counts.warnings;
    results.push({ file: f.shown, diagnostics });
    if (!ctx.globals.json) printDiagnostics(ctx, 'stdout', f, diagnostics);
  }
  if (ctx.globals.json) {
    ctx.io.stdout.write(`${JSON.stringify({ files: results, errorCount: errors, warningCount: warnings }, null, 2)}\n`);
  } else {
    const c = ctx.err;
    const summary = `${files.length} file${files.length === 1 ? '' : 's'} checked: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
    ctx.io.stderr.write(`${errors > 0 ? c.red(summary) : warnings > 0 ? c.yellow(summary) : c.green(summary)}\n`);
  }
  return errors > 0 ? ExitCode.Failure : ExitCode.Ok;
}
