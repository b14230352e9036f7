/**
 * Bash integer arithmetic (`$(( ))`, `(( ))`, `let`, array subscripts) on 64-bit signed
 * integers, evaluated from the already-expanded expression text. Variables are read and written
 * through callbacks; anything not decidable throws {@link ArithUnknown}.
 */

/** The expression depends on something unknown. */
export class ArithUnknown extends Error {}

/** Bash would report an arithmetic error (`division by 0`, syntax error…). */
export class ArithError extends Error {}

export interface ArithEnv {
  /** Value of a variable as text (`undefined` = unset), or throws ArithUnknown. */
  get(name: string, index?: bigint): string | undefined;
  set(name: string, value: bigint, index?: bigint): void;
}

const I64 = (x: bigint): bigint => BigInt.asIntN(64, x);

type Tok = { k: 'num'; v: bigint } | { k: 'id'; v: string } | { k: 'op'; v: string };

const OPS = [
  '<<=', '>>=', '**', '++', '--', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '+=', '-=', '*=', '/=', '%=', '&=', '^=', '|=',
  '+', '-', '*', '/', '%', '<', '>', '=', '!', '~', '&', '^', '|', '?', ':', ',', '(', ')', '[', ']',
];

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i] as string;
    if (c === ' ' || c === '\t' || c === '\n') { i++; continue; }
    if (c >= '0' && c <= '9') {
      let j = i;
      while (j < n && /[0-9a-zA-Z_#@]/.test(src[j] as string)) j++;
      toks.push({ k: 'num', v: parseNumber(src.slice(i, j)) });
      i = j;
      continue;
    }
    if (/[a-zA-Z_]/.test(c)) {
      let j = i;
      while (j < n && /[a-zA-Z0-9_]/.test(src[j] as string)) j++;
      toks.push({ k: 'id', v: src.slice(i, j) });
      i = j;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new ArithError(`syntax error in expression (error token is "${src.slice(i)}")`);
    toks.push({ k: 'op', v: op });
    i += op.length;
  }
  return toks;
}

export function parseNumber(t: string): bigint {
  let base = 10;
  let digits = t;
  const hash = t.indexOf('#');
  if (hash !== -1) {
    base = Number(t.slice(0, hash));
    digits = t.slice(hash + 1);
    if (!/^[0-9]+$/.test(t.slice(0, hash)) || base < 2 || base > 64 || digits === '') throw new ArithError(`invalid arithmetic base: ${t}`);
  } else if (/^0[xX]/.test(t)) {
    base = 16;
    digits = t.slice(2);
    if (digits === '') throw new ArithError(`invalid number: ${t}`);
  } else if (t.length > 1 && t[0] === '0') {
    base = 8;
    digits = t.slice(1);
  }
  let v = 0n;
  const B = BigInt(base);
  for (const ch of digits) {
    let d: number;
    if (ch >= '0' && ch <= '9') d = ch.charCodeAt(0) - 48;
    else if (ch >= 'a' && ch <= 'z') d = ch.charCodeAt(0) - 97 + 10;
    else if (ch >= 'A' && ch <= 'Z') d = base <= 36 ? ch.charCodeAt(0) - 65 + 10 : ch.charCodeAt(0) - 65 + 36;
    else if (ch === '@') d = 62;
    else if (ch === '_') d = 63;
    else throw new ArithError(`value too great for base (error token is "${t}")`);
    if (d >= base) throw new ArithError(`value too great for base (error token is "${t}")`);
    v = I64(v * B + BigInt(d));
  }
  return v;
}

type LVal = { name: string; index?: bigint };

const ASSIGN_OPS: ReadonlySet<string> = new Set(['=', '+=', '-=', '*=', '/=', '%=', '<<=', '>>=', '&=', '^=', '|=']);
/** Binary operators by precedence, loosest first. */
const LEVELS: readonly (readonly string[])[] = [
  ['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<=', '>=', '<', '>'], ['<<', '>>'], ['+', '-'], ['*', '/', '%'],
];

/** Evaluates an arithmetic expression text. Empty text is 0. */
export function evalArith(src: string, env: ArithEnv, depth = 0): bigint {
  if (depth > 32) throw new ArithUnknown('arithmetic recursion too deep');
  const toks = tokenize(src);
  if (toks.length === 0) return 0n;
  let p = 0;
  let skip = 0; // >0 while evaluating a short-circuited branch (no side effects, no errors)
  const peek = (): Tok | undefined => toks[p];
  const isOp = (v: string): boolean => {
    const t = toks[p];
    return t !== undefined && t.k === 'op' && t.v === v;
  };
  const expect = (v: string): void => {
    if (!isOp(v)) throw new ArithError(`syntax error: \`${v}' expected`);
    p++;
  };
  const readVar = (lv: LVal): bigint => {
    if (skip) return 0n;
    const raw = env.get(lv.name, lv.index);
    if (raw === undefined || raw === '') return 0n;
    const t = raw.trim();
    if (/^-?[0-9]+$/.test(t)) return I64(BigInt(t));
    return evalArith(raw, env, depth + 1);
  };
  const writeVar = (lv: LVal, v: bigint): void => {
    if (!skip) env.set(lv.name, v, lv.index);
  };

  const comma = (): bigint => {
    let v = assign();
    while (isOp(',')) {
      p++;
      v = assign();
    }
    return v;
  };
  const assign = (): bigint => {
    const t = peek();
    if (t && t.k === 'id') {
      const save = p;
      p++;
      let index: bigint | undefined;
      if (isOp('[')) {
        p++;
        index = comma();
        expect(']');
      }
      const o = peek();
      if (o && o.k === 'op' && ASSIGN_OPS.has(o.v)) {
        p++;
        const rhs = assign();
        const lv: LVal = index === undefined ? { name: t.v } : { name: t.v, index };
        let v: bigint;
        if (o.v === '=') v = rhs;
        else v = binary(o.v.slice(0, -1), readVar(lv), rhs);
        writeVar(lv, v);
        return v;
      }
      p = save;
    }
    return ternary();
  };
  const ternary = (): bigint => {
    const c = binaryLevel(0);
    if (isOp('?')) {
      p++;
      if (c !== 0n) {
        const a = comma();
        expect(':');
        skip++;
        try { ternary(); } finally { skip--; }
        return a;
      }
      skip++;
      try { comma(); } finally { skip--; }
      expect(':');
      return ternary();
    }
    return c;
  };
  const binaryLevel = (lvl: number): bigint => {
    if (lvl >= LEVELS.length) return power();
    const ops = LEVELS[lvl] as readonly string[];
    let left = binaryLevel(lvl + 1);
    for (;;) {
      const t = peek();
      if (!t || t.k !== 'op' || !ops.includes(t.v)) return left;
      p++;
      if (t.v === '&&' || t.v === '||') {
        const short = t.v === '&&' ? left === 0n : left !== 0n;
        if (short) skip++;
        let right: bigint;
        try { right = binaryLevel(lvl + 1); } finally { if (short) skip--; }
        left = t.v === '&&' ? (left !== 0n && right !== 0n ? 1n : 0n) : (left !== 0n || right !== 0n ? 1n : 0n);
        continue;
      }
      const right = binaryLevel(lvl + 1);
      left = binary(t.v, left, right);
    }
  };
  const binary = (op: string, a: bigint, b: bigint): bigint => {
    switch (op) {
      case '+': return I64(a + b);
      case '-': return I64(a - b);
      case '*': return I64(a * b);
      case '/': case '%':
        if (b === 0n) {
          if (skip) return 0n;
          throw new ArithError('division by 0');
        }
        if (a === -(2n ** 63n) && b === -1n) return op === '/' ? a : 0n;
        return op === '/' ? I64(a / b) : I64(a % b);
      case '<<': return I64(a << (b & 63n));
      case '>>': return I64(a >> (b & 63n));
      case '&': return I64(a & b);
      case '|': return I64(a | b);
      case '^': return I64(a ^ b);
      case '<': return a < b ? 1n : 0n;
      case '>': return a > b ? 1n : 0n;
      case '<=': return a <= b ? 1n : 0n;
      case '>=': return a >= b ? 1n : 0n;
      case '==': return a === b ? 1n : 0n;
      case '!=': return a !== b ? 1n : 0n;
      case '**': {
        if (b < 0n) {
          if (skip) return 0n;
          throw new ArithError('exponent less than 0');
        }
        let r = 1n;
        let base = a;
        let e = b;
        while (e > 0n) {
          if (e & 1n) r = I64(r * base);
          base = I64(base * base);
          e >>= 1n;
        }
        return r;
      }
      default: throw new ArithError(`unknown operator ${op}`);
    }
  };
  const power = (): bigint => {
    const base = unary();
    if (isOp('**')) {
      p++;
      const e = power();
      return binary('**', base, e);
    }
    return base;
  };
  const unary = (): bigint => {
    const t = peek();
    if (t && t.k === 'op') {
      switch (t.v) {
        case '-': p++; return I64(-unary());
        case '+': p++; return unary();
        case '!': p++; return unary() === 0n ? 1n : 0n;
        case '~': p++; return I64(~unary());
        case '++': case '--': {
          p++;
          const lv = lvalue();
          const v = I64(readVar(lv) + (t.v === '++' ? 1n : -1n));
          writeVar(lv, v);
          return v;
        }
        default: break;
      }
    }
    return postfix();
  };
  const lvalue = (): LVal => {
    const t = peek();
    if (!t || t.k !== 'id') throw new ArithError('syntax error: operand expected');
    p++;
    if (isOp('[')) {
      p++;
      const index = comma();
      expect(']');
      return { name: t.v, index };
    }
    return { name: t.v };
  };
  const postfix = (): bigint => {
    const t = peek();
    if (!t) throw new ArithError('syntax error: operand expected');
    if (t.k === 'num') {
      p++;
      return t.v;
    }
    if (t.k === 'id') {
      const lv = lvalue();
      if (isOp('++') || isOp('--')) {
        const op = (peek() as Tok).v;
        p++;
        const old = readVar(lv);
        writeVar(lv, I64(old + (op === '++' ? 1n : -1n)));
        return old;
      }
      return readVar(lv);
    }
    if (t.v === '(') {
      p++;
      const v = comma();
      expect(')');
      return v;
    }
    throw new ArithError(`syntax error: operand expected (error token is "${t.v}")`);
  };

  const v = comma();
  if (p < toks.length) throw new ArithError(`syntax error in expression (error token is "${String((toks[p] as Tok).v)}")`);
  return v;
}
