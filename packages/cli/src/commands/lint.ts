import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { lintPkgbuild, parsePkgbuild, type Diagnostic } from '@rbee/pkgbuild-parser';
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../context.js';
import { countDiagnostics } from '../diagnostic-printer.js';
import { ExitCode } from '../exit-codes.js';
import { mergeDiagnostics, optionsOf, printDiagnostics, readPkgbuild, type PkgbuildFile } from '../pkgbuild-files.js';

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
