import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '@rbee/pkgbuild-parser';
import { countDiagnostics, formatDiagnostic } from './diagnostic-printer.js';

const plain = { colors: pc.createColors(false) };

function diag(text: string, needle: string, code = 'lint_pkgver', severity: Diagnostic['severity'] = 'error'): Diagnostic {
  const offset = text.indexOf(needle);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  const endOffset = offset + needle.length;
  const beforeEnd = text.slice(0, endOffset);
  return {
    code,
    severity,
    message: 'pkgver is not allowed to contain hyphens',
    range: {
      start: { line, column, offset },
      end: { line: beforeEnd.split('\n').length, column: endOffset - beforeEnd.lastIndexOf('\n'), offset: endOffset },
    },
  };
}

describe('formatDiagnostic', () => {
  it('prints file:line:col, severity, code, message, the line and a caret with tildes under the range', () => {
    const text = 'pkgname=x\npkgver=1.0-1\npkgrel=1\n';
    expect(formatDiagnostic('PKGBUILD', text, diag(text, '1.0-1'), plain)).toBe(
      ['PKGBUILD:2:8: error lint_pkgver pkgver is not allowed to contain hyphens', '   2 | pkgver=1.0-1', '     |        ^~~~~'].join('\n'),
    );
  });

  it('keeps tabs in the marker line so the caret lines up', () => {
    const text = 'build() {\n\tcd "$srcdir" ; foo\n}\n';
    const out = formatDiagnostic('PKGBUILD', text, diag(text, 'foo', 'W_X', 'warning'), plain).split('\n');
    expect(out[0]).toBe('PKGBUILD:2:17: warning W_X pkgver is not allowed to contain hyphens');
    expect(out[2]).toBe('     | \t               ^~~');
  });

  it('marks to the end of the line when the range spans lines, and one caret for an empty range', () => {
    const text = 'a=(1\n2)\n';
    const d = diag(text, '(1\n2)');
    expect(formatDiagnostic('f', text, d, plain).split('\n')[2]).toBe('     |   ^~');
    const empty: Diagnostic = { ...d, range: { start: d.range.start, end: d.range.start } };
    expect(formatDiagnostic('f', text, empty, plain).split('\n')[2]).toBe('     |   ^');
  });

  it('prints only the head line when the position is outside the text', () => {
    const d = diag('x=1\n', 'x');
    const far: Diagnostic = { ...d, range: { start: { line: 9, column: 1, offset: 99 }, end: { line: 9, column: 2, offset: 100 } } };
    expect(formatDiagnostic('f', 'x=1\n', far, plain)).toBe('f:9:1: error lint_pkgver pkgver is not allowed to contain hyphens');
  });

  it('colours only when asked', () => {
    const text = 'pkgver=1-1\n';
    expect(formatDiagnostic('f', text, diag(text, '1-1'), plain)).not.toContain('\u001b');
    expect(formatDiagnostic('f', text, diag(text, '1-1'), { colors: pc.createColors(true) })).toContain('\u001b[31m');
  });

  it('counts by severity', () => {
    const text = 'a b c';
    expect(countDiagnostics([diag(text, 'a'), diag(text, 'b', 'x', 'warning'), diag(text, 'c', 'y', 'info')])).toEqual({ errors: 1, warnings: 1, infos: 1 });
  });
});
