import type { PackageInfo, Pkgbuild, Value } from './model.js';
import {
  SRCINFO_ARCH_ARRAYS,
  SRCINFO_GLOBAL_ARRAYS,
  SRCINFO_GLOBAL_SCALARS,
  SRCINFO_PACKAGE_ARRAYS,
  SRCINFO_PACKAGE_SCALARS,
} from './schema.js';

/** Options of {@link toSrcinfo}. */
export interface SrcinfoOptions {
  /**
   * The locale makepkg runs under, which decides what `[[:space:]]` matches when values are
   * whitespace-normalized. Under `'C'` only ASCII whitespace (space, `\t`, `\n`, `\v`, `\f`,
   * `\r`) collapses; under `'C.UTF-8'` glibc also counts U+1680, U+2000–U+2006, U+2008–U+200A,
   * U+2028, U+2029, U+205F and U+3000 (never U+00A0, U+2007, U+202F, U+0085). Verified with
   * bash 5.2 on glibc.
   * @default 'C'
   */
  locale?: 'C' | 'C.UTF-8';
}

const SPACE_RUN_C = /[\t\n\v\f\r ]+/g;
const SPACE_RUN_UTF8 = /[\t\n\v\f\r \u1680\u2000-\u2006\u2008-\u200a\u2028\u2029\u205f\u3000]+/g;

/**
 * makepkg's `srcinfo_write_attr` normalization: every run of `[[:space:]]` becomes one space,
 * then one leading and one trailing space are removed.
 */
export function normalizeSrcinfoValue(value: string, locale: 'C' | 'C.UTF-8' = 'C'): string {
  if (isNormal(value, locale === 'C.UTF-8')) return value;
  let v = value.replace(locale === 'C.UTF-8' ? SPACE_RUN_UTF8 : SPACE_RUN_C, ' ');
  if (v.startsWith(' ')) v = v.slice(1);
  if (v.endsWith(' ')) v = v.slice(0, -1);
  return v;
}

/**
 * Fast check that normalization leaves `value` unchanged: no space at either end, no
 * whitespace other than single spaces. Conservative: any character at or above U+1680 in
 * the UTF-8 locale sends the value through the regular expression.
 */
function isNormal(value: string, utf8: boolean): boolean {
  const n = value.length;
  let prevSpace = true; // a leading space is not normal
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c === 32) {
      if (prevSpace) return false;
      prevSpace = true;
    } else if ((c >= 9 && c <= 13) || (utf8 && c >= 0x1680)) {
      return false;
    } else {
      prevSpace = false;
    }
  }
  return !(prevSpace && n > 0);
}

function asArray(value: Value): readonly string[] {
  return typeof value === 'string' ? [value] : value;
}

/** A scalar read through bash `${!name}`: an array yields its element 0. */
function asScalar(value: Value): string {
  return typeof value === 'string' ? value : (value[0] ?? '');
}

function packageFor(pkgbuild: Pkgbuild, index: number, name: string): PackageInfo | undefined {
  const atIndex = pkgbuild.packages[index];
  if (atIndex?.name === name) return atIndex;
  return pkgbuild.packages.find((p) => p.name === name);
}

/** `printf "\t$attrname = %s\n" "${values[@]}"`: no values still prints the format once. */
function attr(key: string, values: readonly string[], locale: 'C' | 'C.UTF-8'): string {
  if (values.length === 0) return `\t${key} = \n`;
  let out = '';
  for (const v of values) out += `\t${key} = ${normalizeSrcinfoValue(v, locale)}\n`;
  return out;
}

/** Per-architecture key names (`source_x86_64`, …), built once per architecture name. */
const ARCH_KEYS = new Map<string, readonly string[]>();
const ARCH_KEYS_MAX = 64;

function archKeys(arch: string): readonly string[] {
  let keys = ARCH_KEYS.get(arch);
  if (keys === undefined) {
    keys = SRCINFO_ARCH_ARRAYS.map((base) => `${base}_${arch}`);
    if (ARCH_KEYS.size < ARCH_KEYS_MAX) ARCH_KEYS.set(arch, keys);
  }
  return keys;
}

/** A global array as `srcinfo_write_global` prints it: undefined when unset or empty. */
function globalArray(v: Value | undefined): readonly string[] | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return [v];
  return v.length > 0 ? v : undefined;
}

/** Where each key `srcinfo_write_global` prints has its slot: the scalars, then the arrays. */
const GLOBAL_SLOTS = new Map<string, number>(
  [...SRCINFO_GLOBAL_SCALARS, ...SRCINFO_GLOBAL_ARRAYS].map((key, i) => [key, i] as const),
);
const ARRAYS_AT = SRCINFO_GLOBAL_SCALARS.length;
const ARCH_SLOT = GLOBAL_SLOTS.get('arch') as number;

/**
 * Render a PKGBUILD model as the exact text `makepkg --printsrcinfo` (makepkg 6.0.2) prints for it.
 *
 * - pkgbase section: the set scalars (`pkgdesc pkgver pkgrel epoch url install changelog`, printed
 *   only when non-empty), the non-empty arrays (`arch groups license checkdepends makedepends
 *   depends optdepends provides conflicts replaces noextract options backup source validpgpkeys`
 *   and the checksums `ck md5 sha1 sha224 sha256 sha384 sha512 b2`), then for each `arch` entry
 *   other than `any`, in order, the `_<arch>` variants of `source provides conflicts depends
 *   replaces optdepends makedepends checkdepends` and the checksums.
 * - one section per `pkgname` entry: only the keys its package function overrides, with their
 *   full values (an empty override prints `key = `), then the per-arch block over the package's
 *   own `arch`.
 * - values are whitespace-normalized (see {@link SrcinfoOptions.locale}); section headers are not.
 *
 * Variables listed in `pkgbuild.unknown` are printed only if the model holds a value for them:
 * check `isStatic` before trusting the text of a dynamic PKGBUILD.
 *
 * @example
 * const { pkgbuild } = parsePkgbuild(text, { carch: 'x86_64' });
 * await writeFile('.SRCINFO', toSrcinfo(pkgbuild));
 */
export function toSrcinfo(pkgbuild: Pkgbuild, opts: SrcinfoOptions = {}): string {
  const locale = opts.locale ?? 'C';
  // one pass over the keys the model holds: makepkg's global keys into their slots, other keys
  // (the `_<arch>` variants among them) into a map. Probing the object for every key makepkg
  // prints (most of them absent) costs far more.
  const slots: (Value | undefined)[] = [];
  let others: Map<string, Value> | undefined;
  const record = pkgbuild.vars;
  for (const key in record) {
    const v = record[key];
    if (v === undefined) continue;
    const slot = GLOBAL_SLOTS.get(key);
    if (slot !== undefined) slots[slot] = v;
    else if (key.includes('_')) (others ??= new Map()).set(key, v);
  }

  // pkgbase section
  let out = `pkgbase = ${pkgbuild.pkgbase}\n`;
  for (let i = 0; i < ARRAYS_AT; i++) {
    const v = slots[i];
    if (v === undefined) continue;
    const s = asScalar(v);
    if (s !== '') out += attr(SRCINFO_GLOBAL_SCALARS[i] as string, [s], locale);
  }
  for (let i = 0; i < SRCINFO_GLOBAL_ARRAYS.length; i++) {
    const arr = globalArray(slots[ARRAYS_AT + i]);
    if (arr) out += attr(SRCINFO_GLOBAL_ARRAYS[i] as string, arr, locale);
  }
  const globalArch = globalArray(slots[ARCH_SLOT]) ?? [];
  if (others !== undefined) {
    for (const a of globalArch) {
      if (a === 'any') continue;
      for (const key of archKeys(a)) {
        const arr = globalArray(others.get(key));
        if (arr) out += attr(key, arr, locale);
      }
    }
  }

  // pkgname sections
  const names = pkgbuild.pkgname;
  for (let index = 0; index < names.length; index++) {
    const name = names[index] as string;
    out += `\npkgname = ${name}\n`;
    const record = packageFor(pkgbuild, index, name)?.overrides;
    if (record === undefined) continue;
    // only the keys the package function overrides are printed (own keys, read through a Map
    // as for the globals)
    let overrides: Map<string, Value> | undefined;
    for (const key in record) {
      const v = record[key];
      if (v !== undefined && Object.hasOwn(record, key)) (overrides ??= new Map()).set(key, v);
    }
    if (overrides === undefined) continue;
    for (const key of SRCINFO_PACKAGE_SCALARS) {
      const v = overrides.get(key);
      if (v !== undefined) out += attr(key, [asScalar(v)], locale);
    }
    for (const key of SRCINFO_PACKAGE_ARRAYS) {
      const v = overrides.get(key);
      if (v !== undefined) out += attr(key, asArray(v), locale);
    }
    const ownArchValue = overrides.get('arch');
    const ownArch = ownArchValue !== undefined ? asArray(ownArchValue) : globalArch;
    for (const a of ownArch) {
      if (a === 'any') continue;
      for (const key of archKeys(a)) {
        const v = overrides.get(key);
        if (v !== undefined) out += attr(key, asArray(v), locale);
      }
    }
  }

  return out;
}
