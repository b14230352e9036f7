/**
 * makepkg 6.0.2's variable schema (`/usr/share/makepkg/util/schema.sh`) and the key lists
 * `srcinfo.sh` prints, in makepkg's order.
 */

/** A checksum algorithm makepkg knows, in makepkg's order (`known_hash_algos`). */
export type ChecksumAlgorithm = 'ck' | 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512' | 'b2';

/**
 * makepkg's `known_hash_algos`, in its order: the `<alg>sums` arrays are printed, merged and
 * verified in this order.
 *
 * @example
 * CHECKSUM_ALGORITHMS.map((alg) => `${alg}sums`) // ['cksums', 'md5sums', …, 'b2sums']
 */
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = Object.freeze([
  'ck',
  'md5',
  'sha1',
  'sha224',
  'sha256',
  'sha384',
  'sha512',
  'b2',
] as const);

const SUMS = CHECKSUM_ALGORITHMS.map((alg) => `${alg}sums`);

/** `pkgbuild_schema_arrays`: keys that must be bash arrays. */
export const SCHEMA_ARRAYS: readonly string[] = [
  'arch', 'backup', 'checkdepends', 'conflicts', 'depends', 'groups', 'license', 'makedepends',
  'noextract', 'optdepends', 'options', 'provides', 'replaces', 'source', 'validpgpkeys', ...SUMS,
];

/** `pkgbuild_schema_strings`: keys that must be bash scalars. */
export const SCHEMA_STRINGS: readonly string[] = [
  'changelog', 'epoch', 'install', 'pkgbase', 'pkgdesc', 'pkgrel', 'pkgver', 'url',
];

/** `pkgbuild_schema_arch_arrays`: keys that may carry an `_<arch>` suffix. */
export const SCHEMA_ARCH_ARRAYS: readonly string[] = [
  'checkdepends', 'conflicts', 'depends', 'makedepends', 'optdepends', 'provides', 'replaces',
  'source', ...SUMS,
];

/** `pkgbuild_schema_package_overrides`: keys a package function may set. */
export const SCHEMA_PACKAGE_OVERRIDES: readonly string[] = [
  'pkgdesc', 'arch', 'url', 'license', 'groups', 'depends', 'optdepends', 'provides', 'conflicts',
  'replaces', 'backup', 'options', 'install', 'changelog',
];

/** `srcinfo_write_global`'s single-valued keys. */
export const SRCINFO_GLOBAL_SCALARS: readonly string[] = [
  'pkgdesc', 'pkgver', 'pkgrel', 'epoch', 'url', 'install', 'changelog',
];

/** `srcinfo_write_global`'s multi-valued keys. */
export const SRCINFO_GLOBAL_ARRAYS: readonly string[] = [
  'arch', 'groups', 'license', 'checkdepends', 'makedepends', 'depends', 'optdepends', 'provides',
  'conflicts', 'replaces', 'noextract', 'options', 'backup', 'source', 'validpgpkeys', ...SUMS,
];

/** `srcinfo_write_package`'s single-valued keys. */
export const SRCINFO_PACKAGE_SCALARS: readonly string[] = ['pkgdesc', 'url', 'install', 'changelog'];

/** `srcinfo_write_package`'s multi-valued keys. */
export const SRCINFO_PACKAGE_ARRAYS: readonly string[] = [
  'arch', 'groups', 'license', 'checkdepends', 'depends', 'optdepends', 'provides', 'conflicts',
  'replaces', 'options', 'backup',
];

/** `srcinfo_write_section_details`' `multivalued_arch_attrs`, printed per architecture. */
export const SRCINFO_ARCH_ARRAYS: readonly string[] = [
  'source', 'provides', 'conflicts', 'depends', 'replaces', 'optdepends', 'makedepends',
  'checkdepends', ...SUMS,
];

/** makepkg 6.0.2's `packaging_options` (from `tidy/*.sh`), in load order. */
export const PACKAGING_OPTIONS: readonly string[] = [
  'docs', 'emptydirs', 'libtool', 'purge', 'staticlibs', 'strip', 'debug', 'zipman',
];

/** makepkg 6.0.2's `build_options` (from `buildenv/*.sh`), in load order. */
export const BUILD_OPTIONS: readonly string[] = ['buildflags', 'ccache', 'distcc', 'lto', 'makeflags'];

const STRING_SET = new Set(SCHEMA_STRINGS);

/** Whether makepkg treats `key` (without any arch suffix) as a scalar. */
export function isScalarKey(key: string): boolean {
  return STRING_SET.has(key);
}
