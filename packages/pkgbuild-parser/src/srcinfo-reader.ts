import { PkgbuildError } from './errors.js';
import type { PackageInfo, Pkgbuild, Value } from './model.js';
import { isScalarKey, SRCINFO_ARCH_ARRAYS } from './schema.js';

/**
 * Thrown by {@link parseSrcinfo} on malformed input: a line that is not `key = value`, a key
 * before the first section header, a `pkgbase` header that is not first, a repeated scalar key
 * or a missing `pkgname` section. `code` is always `E_SRCINFO_SYNTAX`.
 *
 * @example
 * try { parseSrcinfo(text) } catch (e) {
 *   if (PkgbuildError.isInstance(e) && e.code === 'E_SRCINFO_SYNTAX') console.error(e.message); // ".SRCINFO line 3: …"
 * }
 */
export class SrcinfoParseError extends PkgbuildError {
  /** 1-based line number of the offending line. */
  readonly line: number;
  /** The offending line's text (without its newline). */
  readonly text: string;

  constructor(message: string, line: number, text: string, offset: number) {
    super('E_SRCINFO_SYNTAX', message, {
      range: {
        start: { line, column: 1, offset },
        end: { line, column: text.length + 1, offset: offset + text.length },
      },
    });
    this.name = 'SrcinfoParseError';
    this.line = line;
    this.text = text;
  }
}

// `key = value` (makepkg always writes ` = `; a missing space after `=` is tolerated so files
// whose trailing whitespace an editor stripped still read).
const LINE = /^[ \t]*([^\s=]+)[ \t]*=(?: ?)(.*)$/s;

/**
 * makepkg prints the per-arch block once per `arch` entry: an arch listed k times yields each of
 * its keys k times over. Keep one copy.
 */
function dedupe(section: Record<string, Value>, arch: Value | undefined): void {
  const list = Array.isArray(arch) ? arch : arch === undefined ? [] : [arch];
  for (const [key, value] of Object.entries(section)) {
    const us = key.indexOf('_');
    if (us <= 0 || !Array.isArray(value) || !SRCINFO_ARCH_ARRAYS.includes(key.slice(0, us))) continue;
    const a = key.slice(us + 1);
    const k = list.filter((x) => x === a).length;
    if (k < 2 || value.length % k !== 0) continue;
    const n = value.length / k;
    if (value.every((v, i) => v === value[i % n])) section[key] = value.slice(0, n);
  }
}

/**
 * Read a `.SRCINFO` (as `makepkg --printsrcinfo` or `makepkg --source` writes it) back into the
 * {@link Pkgbuild} model.
 *
 * - Blank lines and `#` comment lines are skipped; the `pkgbase = …` header opens the global
 *   section, each `pkgname = …` header a package section.
 * - Keys from makepkg's `pkgbuild_schema_strings` (`pkgdesc pkgver pkgrel epoch url install
 *   changelog pkgbase`) become scalars, every other key an array (one element per line).
 * - A key in a package section is an override holding exactly the listed values (makepkg prints
 *   full resolved values there); `key = ` is an empty override.
 * - makepkg repeats the per-arch block for every occurrence of an architecture in `arch`; such
 *   repeated values (k identical copies for an arch listed k times) are read once.
 * - A global scalar printed empty (`pkgdesc = `, which makepkg prints only for a value made of
 *   whitespace) is stored as `' '` so that {@link toSrcinfo} prints it again.
 * - `vars.pkgname` is the list of package sections; `vars.pkgbase` is set only when it differs
 *   from `pkgname[0]`. `carch` is the first non-`any` entry of `arch` unless `arch` contains
 *   `x86_64` (or only `any`, or is missing), in which case it is `'x86_64'`.
 * - `functions` and `unknown` are empty: a .SRCINFO holds only resolved values.
 *
 * Round trip: `toSrcinfo(parseSrcinfo(s)) === s` for every text makepkg 6.0.2 printed.
 *
 * @throws {SrcinfoParseError} `E_SRCINFO_SYNTAX` with the line number, on malformed input.
 * @example
 * const model = parseSrcinfo(await readFile('.SRCINFO', 'utf8'));
 * model.packages[0]?.overrides.depends; // the first package's depends override, if any
 */
export function parseSrcinfo(text: string): Pkgbuild {
  const vars: Record<string, Value> = {};
  const packages: PackageInfo[] = [];
  let pkgbase: string | undefined;
  let current: Record<string, Value> | undefined;
  let inGlobal = false;

  const lines = text.split('\n');
  // A final newline does not start another line.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  let offset = 0;
  lines.forEach((rawLine, i) => {
    const lineNo = i + 1;
    const lineOffset = offset;
    offset += rawLine.length + 1;
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const fail = (why: string): never => {
      throw new SrcinfoParseError(`.SRCINFO line ${lineNo}: ${why}`, lineNo, line, lineOffset);
    };
    if (/^[ \t]*$/.test(line) || /^[ \t]*#/.test(line)) return;
    const m = LINE.exec(line);
    if (!m) fail(`expected "key = value", got ${JSON.stringify(line)}`);
    const key = m![1]!;
    const value = m![2]!;
    if (key === 'pkgbase') {
      if (pkgbase !== undefined || packages.length > 0) {
        fail('"pkgbase" must appear once, as the first section header');
      }
      pkgbase = value;
      current = vars;
      inGlobal = true;
      return;
    }
    if (key === 'pkgname') {
      if (pkgbase === undefined) fail('"pkgname" section before the "pkgbase" section');
      const overrides: Record<string, Value> = {};
      packages.push({ name: value, overrides });
      current = overrides;
      inGlobal = false;
      return;
    }
    if (current === undefined) fail(`key "${key}" before any "pkgbase = …" section header`);
    const target = current!;
    if (isScalarKey(key)) {
      if (Object.hasOwn(target, key)) fail(`"${key}" is single-valued but appears twice in one section`);
      target[key] = inGlobal && value === '' ? ' ' : value;
    } else {
      const prev = target[key];
      if (Array.isArray(prev)) prev.push(value);
      else target[key] = [value];
    }
  });

  const globalArch = vars.arch;
  dedupe(vars, globalArch);
  for (const p of packages) dedupe(p.overrides, p.overrides.arch ?? globalArch);

  if (pkgbase === undefined) {
    throw new SrcinfoParseError('.SRCINFO line 1: no "pkgbase = …" section header', 1, lines[0] ?? '', 0);
  }
  if (packages.length === 0) {
    const last = lines.length;
    const lastText = lines[last - 1] ?? '';
    throw new SrcinfoParseError(
      `.SRCINFO line ${last}: the file ends without a "pkgname = …" section`,
      last,
      lastText,
      Math.max(0, offset - lastText.length - 1),
    );
  }

  const pkgname = packages.map((p) => p.name);
  const out: Record<string, Value> = {};
  if (pkgbase !== pkgname[0]) out.pkgbase = pkgbase;
  out.pkgname = pkgname;
  Object.assign(out, vars);

  const arch = vars.arch;
  const arches = (Array.isArray(arch) ? arch : arch === undefined ? [] : [arch]).filter((a) => a !== 'any');
  const carch = arches.length === 0 || arches.includes('x86_64') ? 'x86_64' : arches[0]!;

  return { pkgbase, pkgname, vars: out, packages, functions: [], unknown: [], carch };
}
