/**
 * Bash brace expansion (`{a,b}`, `{1..3}`, `{a..e..2}`, `{01..10}`, nested) over a word's
 * tokens: unquoted literal characters are syntax, every other word part is opaque.
 */

/** A token of a word: an unquoted literal character or an opaque part. */
export type BraceToken<P> = { c: string } | { p: P };

/** Too many words would come out: the caller treats the value as unknown. */
export class BraceLimit extends Error {}

const isC = <P>(t: BraceToken<P> | undefined, ch: string): boolean => t !== undefined && 'c' in t && t.c === ch;

/** Expands `toks`, returning at most `limit` token lists. */
export function braceExpand<P>(toks: BraceToken<P>[], limit = 4096): BraceToken<P>[][] {
  const out = expand(toks, limit, 0);
  return out;
}

function expand<P>(toks: BraceToken<P>[], limit: number, depth: number): BraceToken<P>[][] {
  if (depth > 64) throw new BraceLimit('brace expansion nested too deeply');
  for (let i = 0; i < toks.length; i++) {
    if (!isC(toks[i], '{')) continue;
    // find the matching close brace and top-level commas
    let d = 0;
    const commas: number[] = [];
    let j = i;
    for (; j < toks.length; j++) {
      const t = toks[j];
      if (isC(t, '{')) d++;
      else if (isC(t, '}')) {
        d--;
        if (d === 0) break;
      } else if (d === 1 && isC(t, ',')) commas.push(j);
    }
    if (j >= toks.length) return [toks];
    const pre = toks.slice(0, i);
    const post = toks.slice(j + 1);
    let alts: BraceToken<P>[][];
    if (commas.length > 0) {
      alts = [];
      let s = i + 1;
      for (const c of [...commas, j]) {
        for (const e of expand(toks.slice(s, c), limit, depth + 1)) alts.push(e);
        s = c + 1;
      }
    } else {
      const seq = sequence(toks.slice(i + 1, j), limit);
      if (seq === undefined) continue; // not a brace expression; look for the next `{`
      alts = seq.map((s) => Array.from(s, (c) => ({ c })));
    }
    const posts = expand(post, limit, depth + 1);
    const result: BraceToken<P>[][] = [];
    for (const a of alts) {
      for (const p of posts) {
        result.push([...pre, ...a, ...p]);
        if (result.length > limit) throw new BraceLimit('brace expansion produces too many words');
      }
    }
    return result;
  }
  return [toks];
}

function sequence<P>(inner: BraceToken<P>[], limit: number): string[] | undefined {
  let text = '';
  for (const t of inner) {
    if (!('c' in t)) return undefined;
    text += t.c;
  }
  const m = /^(-?[0-9]+|[a-zA-Z])\.\.(-?[0-9]+|[a-zA-Z])(?:\.\.(-?[0-9]+))?$/.exec(text);
  if (!m) return undefined;
  const a = m[1] as string;
  const b = m[2] as string;
  const stepText = m[3];
  let step = stepText === undefined ? 1 : Math.abs(Number(stepText));
  if (step === 0) step = 1;
  const numeric = /^-?[0-9]+$/.test(a);
  if (numeric !== /^-?[0-9]+$/.test(b)) return undefined;
  const out: string[] = [];
  if (numeric) {
    const x = Number(a);
    const y = Number(b);
    if (!Number.isSafeInteger(x) || !Number.isSafeInteger(y)) return undefined;
    const pad = (/^-?0[0-9]/.test(a) || /^-?0[0-9]/.test(b)) ? Math.max(a.length, b.length) : 0;
    const dir = x <= y ? 1 : -1;
    for (let v = x; dir > 0 ? v <= y : v >= y; v += dir * step) {
      let s = String(Math.abs(v));
      const width = v < 0 ? pad - 1 : pad;
      while (s.length < width) s = '0' + s;
      out.push(v < 0 ? '-' + s : s);
      if (out.length > limit) throw new BraceLimit('brace sequence too long');
    }
  } else {
    const x = a.charCodeAt(0);
    const y = b.charCodeAt(0);
    const dir = x <= y ? 1 : -1;
    for (let v = x; dir > 0 ? v <= y : v >= y; v += dir * step) out.push(String.fromCharCode(v));
  }
  return out;
}
