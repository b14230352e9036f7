/**
 * Text helpers for terminal output: strip escape sequences from untrusted text (build logs),
 * measure what a line will occupy on screen and cut it to the terminal's width.
 */

// CSI (`ESC [ … final`), OSC (`ESC ] … BEL|ST`) and two-byte escapes.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)|[@-Z\\-_])/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f\u009b]/g;

/** Removes every ANSI escape sequence from `text`. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/**
 * Makes one line of untrusted output safe to print inside our own view: escape sequences and
 * control characters are removed, tabs become spaces, a trailing `\r` progress redraw keeps only
 * its last segment (what a terminal would show).
 */
export function sanitizeLine(line: string): string {
  const noAnsi = stripAnsi(line);
  const lastCr = noAnsi.replace(/\r+$/, '').lastIndexOf('\r');
  const shown = lastCr >= 0 ? noAnsi.slice(lastCr + 1) : noAnsi;
  return shown.replace(/\t/g, '    ').replace(CONTROL, '');
}

/** The number of terminal cells `text` takes, ignoring escape sequences (1 cell per code point). */
export function visibleWidth(text: string): number {
  let n = 0;
  for (const _ of stripAnsi(text)) n++;
  return n;
}

/**
 * Cuts `text` (which may hold colour escapes) to at most `width` visible cells, ending with `…`
 * when something was cut. Escape sequences are kept so colours still reset.
 */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (visibleWidth(text) <= width) return text;
  let out = '';
  let cells = 0;
  let i = 0;
  ANSI.lastIndex = 0;
  while (i < text.length) {
    ANSI.lastIndex = i;
    const m = ANSI.exec(text);
    if (m && m.index === i) {
      out += m[0];
      i += m[0].length;
      continue;
    }
    const cp = text.codePointAt(i) ?? 0;
    const ch = String.fromCodePoint(cp);
    if (cells >= width - 1) break;
    out += ch;
    cells++;
    i += ch.length;
  }
  // keep trailing escapes (colour resets) after the cut
  const rest = text.slice(i).match(ANSI);
  return `${out}…${rest ? rest.join('') : ''}`;
}
