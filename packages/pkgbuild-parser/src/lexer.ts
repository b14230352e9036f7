/**
 * Character-level helpers shared by the bash parser: character classes, reserved words,
 * offset → line/column mapping and `$'…'` decoding. The parser reads the text directly
 * (bash's lexing depends on the parse context), these are its building blocks.
 */
import type { Position, Range } from './model.js';

/** Characters that end an unquoted word. */
export function isMeta(c: string | undefined): boolean {
  return (
    c === undefined ||
    c === ' ' || c === '\t' || c === '\n' || c === ';' || c === '&' || c === '|' ||
    c === '(' || c === ')' || c === '<' || c === '>'
  );
}

export function isBlank(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

export function isNameStart(c: string | undefined): boolean {
  if (c === undefined) return false;
  const x = c.charCodeAt(0);
  return (x >= 97 && x <= 122) || (x >= 65 && x <= 90) || x === 95;
}

export function isNameChar(c: string | undefined): boolean {
  if (c === undefined) return false;
  const x = c.charCodeAt(0);
  return (x >= 97 && x <= 122) || (x >= 65 && x <= 90) || x === 95 || (x >= 48 && x <= 57);
}

/** {@link isNameChar} for a UTF-16 code unit (`NaN` past the end is not one). */
export function isNameCode(x: number): boolean {
  return (x >= 97 && x <= 122) || (x >= 65 && x <= 90) || x === 95 || (x >= 48 && x <= 57);
}

export function isDigit(c: string | undefined): boolean {
  if (c === undefined) return false;
  const x = c.charCodeAt(0);
  return x >= 48 && x <= 57;
}

/** `true` when `s` is a valid shell variable name. */
export function isName(s: string): boolean {
  if (s.length === 0 || !isNameStart(s[0])) return false;
  for (let i = 1; i < s.length; i++) if (!isNameChar(s[i])) return false;
  return true;
}

/** Words that are reserved in command position. */
export const RESERVED = new Set([
  'if', 'then', 'elif', 'else', 'fi', 'for', 'in', 'do', 'done', 'while', 'until', 'case',
  'esac', 'select', 'function', 'time', '{', '}', '!', '[[', ']]', 'coproc',
]);

/** Special single-character parameters (`$@`, `$?`, …). */
export function isSpecialParam(c: string | undefined): boolean {
  return c === '@' || c === '*' || c === '#' || c === '?' || c === '-' || c === '$' || c === '!' || c === '0';
}

/**
 * Maps 0-based offsets to 1-based line/column positions in O(log lines). The last two positions
 * and the last range are handed out again when asked for again (nested nodes of the same extent
 * ask in a row): the AST holds ranges as plain read-only data, shared where they are equal.
 */
export class LineMap {
  private readonly starts: number[];
  private hint = 0;
  /** The last two positions handed out (ranges ask for a start and an end in turn). */
  private offA = -1;
  private posA: Position | undefined;
  private offB = -1;
  private posB: Position | undefined;
  private lastStart = -1;
  private lastEnd = -1;
  private lastRange: Range | undefined;

  constructor(text: string) {
    const starts = [0];
    let i = text.indexOf('\n');
    while (i !== -1) {
      starts.push(i + 1);
      i = text.indexOf('\n', i + 1);
    }
    this.starts = starts;
  }

  position(offset: number): Position {
    if (offset === this.offA) return this.posA as Position;
    if (offset === this.offB) return this.posB as Position;
    // the parser asks for nearby offsets in a row: start from the last line found
    const s = this.starts;
    let line = this.hint;
    if (!((s[line] as number) <= offset && (line + 1 >= s.length || (s[line + 1] as number) > offset))) {
      let lo = 0;
      let hi = s.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((s[mid] as number) <= offset) lo = mid;
        else hi = mid - 1;
      }
      this.hint = line = lo;
    }
    const pos = { line: line + 1, column: offset - (s[line] as number) + 1, offset };
    this.offB = this.offA;
    this.posB = this.posA;
    this.offA = offset;
    this.posA = pos;
    return pos;
  }

  range(start: number, end: number): Range {
    if (start === this.lastStart && end === this.lastEnd) return this.lastRange as Range;
    const r = { start: this.position(start), end: this.position(end) };
    this.lastStart = start;
    this.lastEnd = end;
    this.lastRange = r;
    return r;
  }
}

/**
 * Decodes the body of `$'…'` (without the quotes), as bash does. Returns the decoded string
 * (a `\c` control escape or `\0` truncates as bash does).
 */
export function decodeAnsiC(raw: string, cLocale = false): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c !== '\\' || i + 1 >= raw.length) {
      out += c;
      continue;
    }
    const n = raw[++i] as string;
    switch (n) {
      case 'a': out += '\x07'; break;
      case 'b': out += '\b'; break;
      case 'e': case 'E': out += '\x1b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case "'": out += "'"; break;
      case '"': out += '"'; break;
      case '?': out += '?'; break;
      case 'c': {
        const ch = raw[i + 1];
        if (ch === undefined) { out += '\\c'; break; }
        i++;
        const code = ch === '?' ? 0x7f : ch.toUpperCase().charCodeAt(0) & 0x1f;
        if (code === 0) return out;
        out += String.fromCharCode(code);
        break;
      }
      case 'x': {
        let j = i + 1;
        let hex = '';
        while (j < raw.length && hex.length < 2 && /[0-9a-fA-F]/.test(raw[j] as string)) hex += raw[j++];
        if (hex === '') { out += '\\x'; break; }
        i = j - 1;
        const code = parseInt(hex, 16);
        if (code === 0) return out;
        out += String.fromCharCode(code);
        break;
      }
      case 'u': case 'U': {
        const max = n === 'u' ? 4 : 8;
        let j = i + 1;
        let hex = '';
        while (j < raw.length && hex.length < max && /[0-9a-fA-F]/.test(raw[j] as string)) hex += raw[j++];
        if (hex === '') { out += '\\' + n; break; }
        i = j - 1;
        const code = parseInt(hex, 16);
        if (code === 0) return out;
        if (cLocale && code > 0x7f) {
          // the C locale cannot encode it: bash prints the escape (upper-case hex)
          out += code <= 0xffff ? '\\u' + code.toString(16).toUpperCase().padStart(4, '0') : '\\U' + code.toString(16).toUpperCase().padStart(8, '0');
          break;
        }
        out += code <= 0x10ffff ? String.fromCodePoint(code) : '\\' + n + hex;
        break;
      }
      default: {
        if (n >= '0' && n <= '7') {
          let j = i;
          let oct = '';
          while (j < raw.length && oct.length < 3 && (raw[j] as string) >= '0' && (raw[j] as string) <= '7') oct += raw[j++];
          i = j - 1;
          const code = parseInt(oct, 8) & 0xff;
          if (code === 0) return out;
          out += String.fromCharCode(code);
        } else {
          out += '\\' + n;
        }
      }
    }
  }
  return out;
}
