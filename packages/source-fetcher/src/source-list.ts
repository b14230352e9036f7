/**
 * The per-architecture source list of a PKGBUILD with its checksums, correlated by position and
 * checked the way makepkg's `check_checksums` checks them. Decoding of each entry is
 * `@rbee/pkgbuild-parser`'s `parseSourceEntry` (makepkg's util/source.sh).
 */
import { sourcesFor, type Pkgbuild, type SourceEntry } from '@rbee/pkgbuild-parser';
import { FetchError } from './errors.js';

/** Checksum algorithms makepkg knows, in makepkg's order (`known_hash_algos`). */
export const KNOWN_HASH_ALGOS = ['ck', 'md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'b2'] as const;
/** One of makepkg's checksum algorithm names (`ck` = POSIX cksum CRC, `b2` = BLAKE2b-512). */
export type HashAlgorithm = (typeof KNOWN_HASH_ALGOS)[number];

/** The sources of one architecture and, per entry, the expected checksums. */
export interface ResolvedSources {
  /** `source` followed by `source_<carch>`, decoded by `parseSourceEntry`. */
  entries: SourceEntry[];
  /**
   * Per algorithm, the expected value for each entry by position (`SKIP` kept as written;
   * `undefined` where that entry's array has no sums for the algorithm), or `undefined` when the
   * PKGBUILD has no array for the algorithm at all.
   */
  checksums: Partial<Record<HashAlgorithm, (string | undefined)[] | undefined>>;
}

/**
 * `source` + `source_<carch>` with their checksum arrays, checking what makepkg checks: every
 * non-empty checksum array has its source array's length, and (unless `requireChecksums` is
 * false) every non-empty source array is covered by at least one algorithm — else
 * `E_CHECKSUM_COUNT`.
 *
 * @example
 * ```ts
 * const { entries, checksums } = resolveSources(pkgbuild, 'x86_64')
 * checksums.sha256?.[0] // expected sha256 of entries[0]
 * ```
 */
export function resolveSources(pkgbuild: Pkgbuild, carch: string, requireChecksums = true): ResolvedSources {
  const all = sourcesFor(pkgbuild, carch);
  const checksums: ResolvedSources['checksums'] = {};
  let offset = 0;
  for (const g of all.groups) {
    let covered = false;
    for (const alg of KNOWN_HASH_ALGOS) {
      const sums = g.checksums[alg];
      if (!sums || sums.length === 0) continue;
      if (sums.length !== g.entries.length) {
        throw new FetchError(
          'E_CHECKSUM_COUNT',
          `${alg}sums${g.variable.slice('source'.length)} has ${sums.length} entries but ${g.variable} has ${g.entries.length}: every source needs exactly one checksum (or SKIP) per algorithm`,
          { algorithm: alg, expected: g.entries.length, actual: sums.length },
        );
      }
      covered = true;
      const target = (checksums[alg] ??= Array.from({ length: all.entries.length }, (): string | undefined => undefined));
      sums.forEach((v, i) => {
        target[offset + i] = v;
      });
    }
    if (requireChecksums && g.entries.length > 0 && !covered) {
      throw new FetchError('E_CHECKSUM_COUNT', `Integrity checks are missing for ${g.variable}: add a checksum array (e.g. sha256sums${g.variable.slice('source'.length)}) with one entry per source`, {
        expected: g.entries.length,
        actual: 0,
      });
    }
    offset += g.entries.length;
  }
  return { entries: all.entries, checksums };
}
