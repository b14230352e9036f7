import { parsePkgbuild, toSrcinfo, type Pkgbuild } from '@rbee/pkgbuild-parser';
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../context.js';
import { countDiagnostics } from '../diagnostic-printer.js';
import { ExitCode } from '../exit-codes.js';
import { mergeDiagnostics, optionsOf, printDiagnostics, readPkgbuild } from '../pkgbuild-files.js';

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

