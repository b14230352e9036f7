/**
 * Bash glob patterns (`case`, `[[ == ]]`, `${v#pat}`…) compiled to anchored regular
 * expressions, with the quoted parts of the pattern matched literally. Extglob patterns and
 * locale-dependent cases throw {@link PatternUnknown}.
 */

/** A piece of an expanded pattern: `quoted` text matches itself. */
export interface PatternSegment {
  text: string;
  quoted: boolean;
}

export class PatternUnknown extends Error {}

const CLASSES: Record<string, string> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: 'a-zA-Z0-9', upper: 'A-Z', lower: 'a-z', space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t', punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', cntrl: '\\x00-\\x1f\\x7f', print: ' -~', graph: '!-~', word: 'a-zA-Z0-9_',
};

function esc(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? '\\' + c : c;
}

/** True when unquoted text holds glob syntax (`*`, `?`, or a closed `[…]`). */
export function hasGlobChars(segs: readonly PatternSegment[]): boolean {
  for (const s of segs) {
    if (s.quoted) continue;
    const t = s.text;
    if (t.includes('*') || t.includes('?')) return true;
    const b = t.indexOf('[');
    if (b !== -1 && t.indexOf(']', b + 1) !== -1) return true;
  }
  // a `[` in one segment closed in a later unquoted one
  let open = false;
  for (const s of segs) {
    if (s.quoted) continue;
    for (const c of s.text) {
      if (c === '[') open = true;
      else if (c === ']' && open) return true;
    }
  }
  return false;
}

/**
 * Compiles a pattern to a regex source (without anchors). Non-ASCII text makes the result
 * locale-dependent (`?` and bracket ranges), so it throws PatternUnknown when `strictAscii`.
 */
export function patternSource(segs: readonly PatternSegment[]): string {
  // flatten into chars with a quoted flag
  const chars: string[] = [];
  const quoted: boolean[] = [];
  for (const s of segs) {
    for (const c of s.text) {
      chars.push(c);
      quoted.push(s.quoted);
    }
  }
  let out = '';
  const n = chars.length;
  for (let i = 0; i < n; i++) {
    const c = chars[i] as string;
    if (quoted[i]) {
      out += esc(c);
      continue;
    }
    if ((c === '?' || c === '*' || c === '+' || c === '@' || c === '!') && chars[i + 1] === '(' && !quoted[i + 1]) {
      throw new PatternUnknown('extended glob pattern');
    }
    if (c === '*') {
      while (chars[i + 1] === '*' && !quoted[i + 1]) i++;
      out += '[\\s\\S]*';
    } else if (c === '?') out += '[\\s\\S]';
    else if (c === '\\') {
      // an unquoted backslash in a pattern escapes the next char (it came from an expansion)
      const nx = chars[i + 1];
      if (nx === undefined) out += '\\\\';
      else {
        out += esc(nx);
        i++;
      }
    } else if (c === '[') {
      const r = bracket(chars, quoted, i);
      if (r === undefined) out += '\\[';
      else {
        out += r.src;
        i = r.end;
      }
    } else out += esc(c);
  }
  return out;
}

function bracket(chars: string[], quoted: boolean[], start: number): { src: string; end: number } | undefined {
  let i = start + 1;
  let neg = false;
  if ((chars[i] === '!' || chars[i] === '^') && !quoted[i]) {
    neg = true;
    i++;
  }
  let body = '';
  let first = true;
  for (; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === ']' && !quoted[i] && !first) {
      if (body === '') return undefined;
      return { src: (neg ? '[^' : '[') + body + ']', end: i };
    }
    first = false;
    if (c.charCodeAt(0) > 127) throw new PatternUnknown('non-ASCII bracket expression');
    if (c === '[' && !quoted[i] && chars[i + 1] === ':') {
      let j = i + 2;
      let name = '';
      while (j < chars.length && /[a-z]/.test(chars[j] as string)) name += chars[j++];
      if (chars[j] === ':' && chars[j + 1] === ']') {
        const cls = CLASSES[name];
        if (cls === undefined) throw new PatternUnknown(`character class [:${name}:]`);
        body += cls;
        i = j + 1;
        continue;
      }
    }
    if (c === '[' && !quoted[i] && (chars[i + 1] === '=' || chars[i + 1] === '.')) throw new PatternUnknown('collating element');
    if (c === '\\' && !quoted[i] && i + 1 < chars.length) {
      i++;
      body += esc(chars[i] as string);
      continue;
    }
    if (c === '-' && !quoted[i] && body !== '' && chars[i + 1] !== ']' && i + 1 < chars.length) {
      // a range: only ASCII ranges are locale-independent enough
      const hi = chars[i + 1] as string;
      if (hi.charCodeAt(0) > 127) throw new PatternUnknown('non-ASCII range');
      body += '-' + esc(hi);
      i++;
      continue;
    }
    body += esc(c);
  }
  return undefined;
}

const cache = new Map<string, RegExp>();

/** Anchored matcher for a whole string. */
export function compilePattern(segs: readonly PatternSegment[], flags = ''): RegExp {
  const src = '^(?:' + patternSource(segs) + ')$';
  const key = flags + src;
  let re = cache.get(key);
  if (!re) {
    try {
      re = new RegExp(src, flags);
    } catch {
      throw new PatternUnknown('pattern not representable');
    }
    if (cache.size > 500) cache.clear();
    cache.set(key, re);
  }
  return re;
}

/** `true` when `text` matches the whole pattern. */
export function matchPattern(text: string, segs: readonly PatternSegment[]): boolean {
  return compilePattern(segs).test(text);
}
