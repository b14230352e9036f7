// Reading PKGBUILD files and printing their diagnostics, shared by the pkgbuild subcommands.
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Diagnostic } from '@rbee/pkgbuild-parser';
import { CliError } from './cli-error.js';
import type { CommandContext } from './context.js';
import { formatDiagnostic } from './diagnostic-printer.js';

/** Options of the pkgbuild subcommands. */
export interface PkgbuildOptions {
  carch: string;
  eval?: boolean;
}

/** A PKGBUILD read from disk: its path as the user wrote it, its absolute path and its text. */
export interface PkgbuildFile {
  shown: string;
  path: string;
  text: string;
}

/** Reads `file` (or `file/PKGBUILD` when it is a directory). */
export async function readPkgbuild(ctx: CommandContext, file: string): Promise<PkgbuildFile> {
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

export function optionsOf(args: unknown[]): PkgbuildOptions {
  const cmd = args[args.length - 1] as { opts(): PkgbuildOptions };
  return cmd.opts();
}

export function mergeDiagnostics(...lists: ReadonlyArray<readonly Diagnostic[]>): Diagnostic[] {
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

export function printDiagnostics(ctx: CommandContext, stream: 'stdout' | 'stderr', file: PkgbuildFile, diagnostics: readonly Diagnostic[]): void {
  const colors = stream === 'stdout' ? ctx.out : ctx.err;
  for (const d of diagnostics) ctx.io[stream].write(`${formatDiagnostic(file.shown, file.text, d, { colors })}\n`);
}

