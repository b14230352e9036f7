/**
 * `parsePkgbuild`: parse + static evaluation + package overrides → the shared model, with
 * diagnostics and source locations.
 */
import type { Script } from './ast.js';
import { PkgbuildParseError } from './errors.js';
import { Evaluator, toValue } from './evaluator.js';
import { LineMap } from './lexer.js';
import type { Diagnostic, PackageInfo, Pkgbuild, PkgbuildFunction, Range, Value } from './model.js';
import { extractOverrides } from './package-overrides.js';
import { parseScript } from './parser.js';

/** Options of {@link parsePkgbuild}. */
export interface ParsePkgbuildOptions {
  /**
   * The architecture makepkg would run for (`CARCH`): decides `if`/`case` on `$CARCH`.
   * @default 'x86_64'
   */
  carch?: string;
  /**
   * File name used in messages.
   * @default 'PKGBUILD'
   */
  filename?: string;
  /**
   * The locale makepkg runs in. It decides `${#v}`, `${v:off:len}` and case conversion of
   * non-ASCII text (bytes in `C`, characters in `C.UTF-8`); use the same value for `toSrcinfo`.
   * @default 'C'
   */
  locale?: 'C' | 'C.UTF-8';
}

/** Where things are in the PKGBUILD text, for linters and editors. */
export interface PkgbuildLocations {
  /** Last top-level assignment of each variable (the whole `name=value` / `name=(…)`). */
  vars: Record<string, Range>;
  /** pkgname → override name → the assignment inside its package function. */
  packages: Record<string, Record<string, Range>>;
  /** Function name → definition range. */
  functions: Record<string, Range>;
}

/** What {@link parsePkgbuild} returns. */
export interface ParseResult {
  /** The PKGBUILD's meaning for `carch`, as far as it could be settled statically. */
  pkgbuild: Pkgbuild;
  /** Syntax errors, dynamic constructs, makepkg quirks; sorted by position. */
  diagnostics: Diagnostic[];
  /**
   * True when every value makepkg would read was settled without running code, so
   * `toSrcinfo(pkgbuild)` is what `makepkg --printsrcinfo` prints.
   */
  isStatic: boolean;
  /** The bash syntax tree. */
  ast: Script;
  /** Source ranges of assignments and functions. */
  locations: PkgbuildLocations;
}

const SCHEMA_KEYS = ['pkgname', 'pkgbase', 'pkgver', 'pkgrel', 'epoch', 'pkgdesc', 'url', 'install', 'changelog', 'arch', 'groups',
  'license', 'depends', 'makedepends', 'checkdepends', 'optdepends', 'provides', 'conflicts', 'replaces', 'backup', 'options',
  'source', 'noextract', 'validpgpkeys', 'cksums', 'md5sums', 'sha1sums', 'sha224sums', 'sha256sums', 'sha384sums', 'sha512sums', 'b2sums'];

/**
 * Parses a PKGBUILD and evaluates its top level statically, the way `makepkg --printsrcinfo`
 * would read it for `carch`. Never throws: problems are reported as diagnostics.
 *
 * @example
 * const { pkgbuild, isStatic, diagnostics } = parsePkgbuild(text, { carch: 'x86_64' });
 * if (isStatic) console.log(toSrcinfo(pkgbuild));
 */
export function parsePkgbuild(text: string, opts: ParsePkgbuildOptions = {}): ParseResult {
  const carch = opts.carch ?? 'x86_64';
  const input = typeof text === 'string' ? text : String(text);
  try {
    return parseInner(input, carch, opts.filename ?? 'PKGBUILD', opts.locale ?? 'C');
  } catch (e) {
    // defensive: the parser and evaluator are written not to throw
    const lines = new LineMap(input);
    return {
      pkgbuild: { pkgbase: '', pkgname: [], vars: {}, packages: [], functions: [], unknown: [...SCHEMA_KEYS], carch },
      diagnostics: [{ code: 'E_INTERNAL', severity: 'error', message: `internal parser error: ${e instanceof Error ? e.message : String(e)}`, range: lines.range(0, 0) }],
      isStatic: false,
      ast: { type: 'Script', body: [], comments: [], range: lines.range(0, input.length) },
      locations: { vars: {}, packages: {}, functions: {} },
    };
  }
}

function parseInner(text: string, carch: string, filename: string, locale: 'C' | 'C.UTF-8'): ParseResult {
  let lineMap: LineMap | undefined;
  const lines = (): LineMap => (lineMap ??= new LineMap(text));
  const diagnostics: Diagnostic[] = [];
  let isStatic = true;
  const cr = text.indexOf('\r');
  if (cr !== -1) {
    diagnostics.push({ code: 'E_CRLF', severity: 'error', message: `${filename} contains CRLF characters and cannot be sourced by makepkg; convert it to LF line endings`, range: lines().range(cr, cr + 1) });
    isStatic = false;
  }
  const parsed = parseScript(text);
  for (const d of parsed.diagnostics) {
    diagnostics.push(d);
    if (d.severity === 'error') isStatic = false;
  }
  const ev = new Evaluator(text, { carch, locale });
  const res = ev.run(parsed.script);
  for (const d of res.diagnostics) diagnostics.push(d);
  if (!res.isStatic) isStatic = false;
  if (ev.lastStatus !== undefined && ev.lastStatus !== 0 && parsed.script.body.length > 0) {
    const last = parsed.script.body[parsed.script.body.length - 1];
    diagnostics.push({
      code: 'E_SOURCE_FAILS', severity: 'error',
      message: `the last top-level command of ${filename} exits with status ${ev.lastStatus}, so makepkg stops with "Failed to source"; end the file with a command that succeeds`,
      range: last ? last.range : lines().range(0, 0),
    });
    isStatic = false;
  } else if (ev.lastStatus === undefined) {
    isStatic = false;
  }

  // variables
  const vars: Record<string, Value> = {};
  const unknown = new Set<string>();
  // (Map.forEach: for…of over a Map allocates an entry array per element)
  res.globals.forEach((v, k) => {
    if (v.unknown) {
      unknown.add(k);
      return;
    }
    const val = toValue(v);
    if (val !== undefined) vars[k] = val;
  });
  if (res.chaos) for (const k of SCHEMA_KEYS) if (!(k in vars)) unknown.add(k);
  const pn = vars.pkgname;
  const pkgname = pn === undefined ? [] : Array.isArray(pn) ? pn : [pn];
  const pb = vars.pkgbase;
  const pbs = Array.isArray(pb) ? pb[0] : pb;
  const pkgbase = pbs !== undefined && pbs !== '' ? pbs : (pkgname[0] ?? '');
  if (unknown.has('pkgname') || unknown.has('pkgbase')) isStatic = false;

  // functions
  const functions: PkgbuildFunction[] = [];
  const fnRanges: Record<string, Range> = {};
  res.functions.forEach((f, name) => {
    const b = f.def.body;
    let body: string;
    if (b.type === 'BraceGroup') body = text.slice(b.range.start.offset + 1, Math.max(b.range.start.offset + 1, b.range.end.offset - 1));
    else body = text.slice(b.range.start.offset, b.range.end.offset);
    functions.push({ name, body, range: f.def.range });
    fnRanges[name] = f.def.range;
  });

  // packages
  const packages: PackageInfo[] = [];
  const pkgRanges: Record<string, Record<string, Range>> = {};
  for (const p of pkgname) {
    const f = res.functions.size === 0 ? undefined : (res.functions.get(`package_${p}`) ?? res.functions.get('package'));
    if (!f) {
      packages.push({ name: p, overrides: {} });
      continue;
    }
    if (f.uncertain || res.chaos) {
      isStatic = false;
      diagnostics.push({ code: 'W_DYNAMIC', severity: 'warning', message: `whether and how \`${f.def.name}' is defined depends on code that cannot be evaluated statically; the overrides of package \`${p}' are unknown`, range: f.def.range });
      packages.push({ name: p, overrides: {}, unknown: ['*'] });
      continue;
    }
    const r = extractOverrides(p, f.def, res.globals, { carch, src: text, locale }, diagnostics);
    if (!r.isStatic) isStatic = false;
    packages.push(r.info);
    pkgRanges[p] = r.ranges;
  }

  const varRanges: Record<string, Range> = {};
  res.assignRanges.forEach((r, k) => {
    varRanges[k] = r;
  });

  if (diagnostics.length > 1) diagnostics.sort((a, b) => a.range.start.offset - b.range.start.offset || a.range.end.offset - b.range.end.offset);
  const pkgbuild: Pkgbuild = { pkgbase, pkgname, vars, packages, functions, unknown: [...unknown], carch };
  return { pkgbuild, diagnostics, isStatic, ast: parsed.script, locations: { vars: varRanges, packages: pkgRanges, functions: fnRanges } };
}

/**
 * Like {@link parsePkgbuild}, but throws a {@link PkgbuildParseError} (code `E_SYNTAX`,
 * `E_NESTING` or `E_CRLF`, with line and column) when the text cannot be parsed.
 *
 * @example
 * try { parsePkgbuildOrThrow('pkgname=(a'); } catch (e) { if (PkgbuildParseError.isInstance(e)) console.error(e.line, e.code); }
 */
export function parsePkgbuildOrThrow(text: string, opts: ParsePkgbuildOptions = {}): ParseResult {
  const r = parsePkgbuild(text, opts);
  const first = r.diagnostics.find((d) => d.code === 'E_SYNTAX' || d.code === 'E_NESTING' || d.code === 'E_CRLF');
  if (first) {
    throw new PkgbuildParseError(first.code, `${opts.filename ?? 'PKGBUILD'}:${first.range.start.line}:${first.range.start.column}: ${first.message}`, first.range);
  }
  return r;
}
