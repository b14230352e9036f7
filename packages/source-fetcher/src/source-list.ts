/**
 * makepkg's source-entry grammar (util/source.sh) and the per-architecture source/checksum
 * lists (`source` + `source_<carch>`, `<alg>sums` + `<alg>sums_<carch>`).
 *
 * Written here because `@rbee/pkgbuild-parser` did not export `parseSourceEntry`/`sourcesFor` when
 * this package was written; the shapes are the same so the two can be swapped.
 */
import type { Pkgbuild, Value } from '@rbee/pkgbuild-parser';
import { FetchError } from './errors.js';

/** Checksum algorithms makepkg knows, in makepkg's order (`known_hash_algos`). */
export const KNOWN_HASH_ALGOS = ['ck', 'md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'b2'] as const;
/** One of makepkg's checksum algorithm names (`ck` = POSIX cksum CRC, `b2` = BLAKE2b-512). */
export type HashAlgorithm = (typeof KNOWN_HASH_ALGOS)[number];

/** Protocols handled by a version-control tool rather than a download. */
export const VCS_PROTOCOLS = ['bzr', 'fossil', 'git', 'hg', 'svn'] as const;
export type VcsProtocol = (typeof VCS_PROTOCOLS)[number];

/** One `source=()` entry, split the way makepkg's `get_*` functions split it. */
export interface SourceEntry {
  /** The entry as written. */
  raw: string;
  /** makepkg's `get_filename`: the name in `srcdest`/`srcdir`. */
  filename: string;
  /** makepkg's `get_url`: everything after the first `::` (still with `git+`, `#fragment`, `?query`). */
  url: string;
  /** makepkg's `get_protocol`: `https`, `git`, `local`, `file`, … */
  protocol: string;
  /** Set for bzr/fossil/git/hg/svn. */
  vcs?: VcsProtocol;
  /** `#key=value` (makepkg's `get_uri_fragment`), for VCS sources. */
  fragment?: { type: string; value: string };
  /** `?signed` was given. */
  signed: boolean;
  /** The raw query (`get_uri_query`), when present. */
  query?: string;
}

/** Splits one source entry the way makepkg does. */
export function parseSourceEntry(raw: string): SourceEntry {
  const sep = raw.indexOf('::');
  const url = sep >= 0 ? raw.slice(sep + 2) : raw;
  let protocol: string;
  if (raw.includes('://')) {
    const p = url.includes('://') ? url.slice(0, url.indexOf('://')) : url;
    const plus = p.indexOf('+');
    protocol = plus >= 0 ? p.slice(0, plus) : p;
  } else if (raw.includes('lp:')) {
    const i = url.indexOf('+lp:');
    protocol = i >= 0 ? url.slice(0, i) : url;
  } else {
    protocol = 'local';
  }
  const vcs = (VCS_PROTOCOLS as readonly string[]).includes(protocol) ? (protocol as VcsProtocol) : undefined;
  let filename: string;
  if (sep >= 0) {
    filename = raw.slice(0, sep);
  } else if (vcs) {
    let f = raw;
    const h = f.indexOf('#');
    if (h >= 0) f = f.slice(0, h);
    const q = f.indexOf('?');
    if (q >= 0) f = f.slice(0, q);
    if (f.endsWith('/')) f = f.slice(0, -1);
    f = f.slice(f.lastIndexOf('/') + 1);
    if (vcs === 'bzr') {
      const lp = f.indexOf('lp:');
      if (lp >= 0) f = f.slice(lp + 3);
    }
    if (vcs === 'fossil') f = `${f}.fossil`;
    if (vcs === 'git') {
      const g = f.indexOf('.git');
      if (g >= 0) f = f.slice(0, g);
    }
    filename = f;
  } else {
    filename = raw.slice(raw.lastIndexOf('/') + 1);
  }
  const entry: SourceEntry = { raw, filename, url, protocol, signed: false };
  if (vcs) entry.vcs = vcs;
  const hashAt = raw.indexOf('#');
  if (hashAt >= 0) {
    let frag = raw.slice(hashAt + 1);
    const q = frag.lastIndexOf('?');
    if (q >= 0) frag = frag.slice(0, q);
    const eq = frag.indexOf('=');
    entry.fragment = eq >= 0 ? { type: frag.slice(0, eq), value: frag.slice(frag.lastIndexOf('=') + 1) } : { type: frag, value: '' };
  }
  const qAt = raw.indexOf('?');
  if (qAt >= 0) {
    let query = raw.slice(qAt + 1);
    const h = query.lastIndexOf('#');
    if (h >= 0) query = query.slice(0, h);
    entry.query = query;
    entry.signed = query === 'signed';
  }
  return entry;
}

/** The sources of one architecture and their checksum arrays, correlated by position. */
export interface SourceList {
  /** `source` followed by `source_<carch>`. */
  entries: SourceEntry[];
  /**
   * Per algorithm, the checksums for `entries` by position (`SKIP` kept as written), or `undefined`
   * when the PKGBUILD has no array for that algorithm. A present algorithm covers both arrays.
   */
  checksums: Partial<Record<HashAlgorithm, (string | undefined)[] | undefined>>;
}

function arr(v: Value | undefined): string[] {
  if (v === undefined) return [];
  return typeof v === 'string' ? [v] : v;
}

/**
 * Collects `source` + `source_<carch>` and every `<alg>sums[_<carch>]` array, checking what
 * makepkg's `check_checksums` checks: each present checksum array has its source array's length,
 * and each non-empty source array is covered by at least one algorithm (`E_CHECKSUM_COUNT`).
 * Pass `requireChecksums: false` to allow sources without any checksum array.
 */
export function sourcesFor(pkgbuild: Pkgbuild, carch: string, requireChecksums = true): SourceList {
  const groups: { name: string; sources: string[]; suffix: string }[] = [
    { name: 'source', sources: arr(pkgbuild.vars.source), suffix: '' },
    { name: `source_${carch}`, sources: arr(pkgbuild.vars[`source_${carch}`]), suffix: `_${carch}` },
  ];
  const entries: SourceEntry[] = [];
  const checksums: SourceList['checksums'] = {};
  const total = groups[0]!.sources.length + groups[1]!.sources.length;
  let offset = 0;
  for (const g of groups) {
    let covered = false;
    for (const alg of KNOWN_HASH_ALGOS) {
      const sums = pkgbuild.vars[`${alg}sums${g.suffix}`];
      if (sums === undefined) continue;
      const list = arr(sums);
      if (list.length === 0 && g.sources.length === 0) continue;
      if (list.length !== g.sources.length) {
        if (list.length === 0) continue;
        throw new FetchError(
          'E_CHECKSUM_COUNT',
          `${alg}sums${g.suffix} has ${list.length} entries but ${g.name} has ${g.sources.length}: every source needs exactly one checksum (or SKIP) per algorithm`,
          { algorithm: alg, expected: g.sources.length, actual: list.length },
        );
      }
      covered = true;
      let target = checksums[alg];
      if (!target) {
        target = Array.from({ length: total }, (): string | undefined => undefined);
        checksums[alg] = target;
      }
      list.forEach((s, i) => {
        target[offset + i] = s;
      });
    }
    if (requireChecksums && g.sources.length > 0 && !covered) {
      throw new FetchError('E_CHECKSUM_COUNT', `Integrity checks are missing for ${g.name}: add a checksum array (e.g. sha256sums${g.suffix}) with one entry per source`, {
        expected: g.sources.length,
        actual: 0,
      });
    }
    for (const s of g.sources) entries.push(parseSourceEntry(s));
    offset += g.sources.length;
  }
  return { entries, checksums };
}
