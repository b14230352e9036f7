import { truncate, visibleWidth } from './terminal-text.js';

/**
 * Lays out rows as aligned columns (two spaces apart); the last column is cut to `width` when
 * given. Cells may hold colour escapes.
 */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, width?: number): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => visibleWidth(r[i] ?? ''))));
  return all
    .map((r) => {
      const line = r
        .map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleWidth(cell))))
        .join('  ')
        .trimEnd();
      return width ? truncate(line, width) : line;
    })
    .join('\n');
}
