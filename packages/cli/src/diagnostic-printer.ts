import type { Diagnostic } from '@rbee/pkgbuild-parser';
import type { Colors } from './output.js';

/** Options of {@link formatDiagnostic}. */
export interface FormatDiagnosticOptions {
  /** Colours to use; pass `createColors(false)` for plain text. */
  colors: Colors;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function sourceLine(text: string, starts: readonly number[], line: number): string | undefined {
  const start = starts[line - 1];
  if (start === undefined) return undefined;
  const next = starts[line];
  let end = next === undefined ? text.length : next - 1;
  if (end > start && text.charCodeAt(end - 1) === 13) end--;
  return text.slice(start, end);
}

/**
 * Formats one diagnostic the way compilers do:
 *
 * ```text
 * PKGBUILD:3:8: error lint_pkgver pkgver is not allowed to contain hyphens
 *    3 | pkgver=1.0-1
 *      |        ^~~~~
 * ```
 *
 * The caret marks the start of the range, tildes the rest of it on that line. Tabs in the source
 * line are kept in the marker line so the caret lines up. Without the source text (or for a
 * range outside it) only the first line is printed.
 *
 * @example
 * formatDiagnostic('PKGBUILD', text, diagnostic, { colors: createColors(false) })
 */
export function formatDiagnostic(file: string, text: string | undefined, d: Diagnostic, options: FormatDiagnosticOptions): string {
  const c = options.colors;
  const { line, column } = d.range.start;
  const sev = d.severity === 'error' ? c.red(c.bold('error')) : d.severity === 'warning' ? c.yellow(c.bold('warning')) : c.cyan(c.bold('info'));
  const head = `${c.bold(`${file}:${line}:${column}:`)} ${sev} ${c.dim(d.code)} ${d.message}`;
  if (text === undefined) return head;
  const starts = lineStarts(text);
  const src = sourceLine(text, starts, line);
  if (src === undefined) return head;
  const gutter = Math.max(3, String(line).length);
  const startCol = Math.max(1, Math.min(column, src.length + 1));
  let endCol: number;
  if (d.range.end.line === line) endCol = Math.max(startCol + 1, Math.min(d.range.end.column, src.length + 1));
  else endCol = Math.max(startCol + 1, src.length + 1);
  const pad = src.slice(0, startCol - 1).replace(/[^\t]/g, ' ');
  const marker = `^${'~'.repeat(Math.max(0, endCol - startCol - 1))}`;
  const color = d.severity === 'error' ? c.red : d.severity === 'warning' ? c.yellow : c.cyan;
  return [
    head,
    `${c.dim(` ${String(line).padStart(gutter)} |`)} ${src}`,
    `${c.dim(` ${' '.repeat(gutter)} |`)} ${pad}${color(marker)}`,
  ].join('\n');
}

/** Counts of diagnostics by severity. */
export interface DiagnosticCounts {
  /** Diagnostics with `severity: 'error'`. */
  errors: number;
  /** Diagnostics with `severity: 'warning'`. */
  warnings: number;
  /** Diagnostics with `severity: 'info'`. */
  infos: number;
}

/**
 * Counts `diagnostics` by severity.
 *
 * @example
 * if (countDiagnostics(result.diagnostics).errors > 0) process.exitCode = 1;
 */
export function countDiagnostics(diagnostics: readonly Diagnostic[]): DiagnosticCounts {
  const counts: DiagnosticCounts = { errors: 0, warnings: 0, infos: 0 };
  for (const d of diagnostics) {
    if (d.severity === 'error') counts.errors++;
    else if (d.severity === 'warning') counts.warnings++;
    else counts.infos++;
  }
  return counts;
}
