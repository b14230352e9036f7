/** The codes {@link lintPkgbuild} reports, with what each one checks. */

/** One rule of the linter. */
export interface LintRule {
  /** The diagnostic `code`. */
  code: string;
  /** `error` for makepkg's own checks (makepkg refuses the PKGBUILD, exit 12), `warning` otherwise. */
  severity: 'error' | 'warning';
  /** What the rule checks. */
  description: string;
}

/**
 * Every rule of `lintPkgbuild`: makepkg 6.0.2's 22 `lint_pkgbuild` checks (errors, named after
 * makepkg's functions), `E_CRLF`, then this package's warnings.
 *
 * @example
 * const describe = new Map(LINT_RULES.map((r) => [r.code, r.description]));
 * describe.get('lint_pkgver'); // '`pkgver` must be non-empty ASCII without …'
 */
export const LINT_RULES: readonly LintRule[] = Object.freeze([
  { code: 'lint_arch', severity: 'error', description: "`any` mixed with other architectures; an arch with characters outside [[:alnum:]_]; CARCH missing from arch (only with `ignoreArch: false`)" },
  { code: 'lint_arch_specific', severity: 'error', description: 'An `_any` variant, or an arch variant of a variable that cannot be architecture specific (e.g. `pkgdesc_x86_64`), globally or in a package function' },
  { code: 'lint_backup', severity: 'error', description: '`backup` entries must not start with `/`' },
  { code: 'lint_changelog', severity: 'error', description: 'Each `changelog` file must exist as a regular file (needs `fileExists`)' },
  { code: 'lint_epoch', severity: 'error', description: '`epoch` must be an integer' },
  { code: 'lint_pkgrel', severity: 'error', description: "`pkgrel` must be non-empty and of the form 'integer[.integer]'" },
  { code: 'lint_pkgver', severity: 'error', description: '`pkgver` must be non-empty ASCII without colons, slashes, hyphens or whitespace' },
  { code: 'lint_pkgname', severity: 'error', description: '`pkgname` entries must be non-empty ASCII of [[:alnum:]+_.@-], not starting with `-` or `.`' },
  { code: 'lint_checkdepends', severity: 'error', description: '`checkdepends` entries: a valid package name and, after `<`/`>`/`=`/`>=`/`<=`, a valid [epoch:]pkgver[-pkgrel]' },
  { code: 'lint_conflicts', severity: 'error', description: '`conflicts` entries: as for checkdepends' },
  { code: 'lint_depends', severity: 'error', description: '`depends` entries: as for checkdepends, but an empty version is allowed' },
  { code: 'lint_install', severity: 'error', description: 'Each `install` file must exist as a regular file (needs `fileExists`)' },
  { code: 'lint_makedepends', severity: 'error', description: '`makedepends` entries: as for checkdepends' },
  { code: 'lint_optdepends', severity: 'error', description: '`optdepends` entries (before `: description`): as for checkdepends' },
  { code: 'lint_options', severity: 'error', description: '`options` entries must be known options (strip, debug, docs, lto, …) or their `!` negation' },
  { code: 'lint_package_function', severity: 'error', description: 'package()/package_<name>() presence: conflicting, missing or extra package functions' },
  { code: 'lint_package_function_variable', severity: 'error', description: 'A package function sets a variable that only the top level may set (pkgver, makedepends, source, *sums, …)' },
  { code: 'lint_pkgbase', severity: 'error', description: '`pkgbase` must be a valid package name' },
  { code: 'lint_pkglist', severity: 'error', description: 'Packages requested with `pkglist` (makepkg --pkg) must be in pkgname' },
  { code: 'lint_provides', severity: 'error', description: '`provides` entries: no `<`/`>`, a valid name and after `=` a valid version' },
  { code: 'lint_source', severity: 'error', description: 'The `source` array must not be sparse' },
  { code: 'lint_variable', severity: 'error', description: 'Array variables must be arrays and string variables must not be, globally and in package functions' },
  { code: 'E_CRLF', severity: 'error', description: 'The file contains CR characters: makepkg refuses it before linting (exit 12)' },
  { code: 'W_CHECKSUM_COUNT', severity: 'warning', description: 'A checksum array has a different number of entries than its source array (per architecture)' },
  { code: 'W_CHECKSUM_FORMAT', severity: 'warning', description: 'A checksum is neither SKIP nor hex of the algorithm’s length (cksums: decimal digits)' },
  { code: 'W_DUPLICATE_PKGNAME', severity: 'warning', description: 'The same name appears twice in pkgname' },
  { code: 'W_DUPLICATE_ARCH', severity: 'warning', description: 'The same architecture appears twice in arch' },
  { code: 'W_MISSING_ARCH', severity: 'warning', description: '`arch` is not set' },
  { code: 'W_MISSING_PKGDESC', severity: 'warning', description: '`pkgdesc` is not set (globally or in every package)' },
  { code: 'W_MISSING_URL', severity: 'warning', description: '`url` is not set (globally or in every package)' },
  { code: 'W_MISSING_LICENSE', severity: 'warning', description: '`license` is not set (globally or in every package)' },
  { code: 'W_TOPLEVEL_OUTPUT', severity: 'warning', description: 'A top-level command writes to stdout, which makepkg copies into .SRCINFO' },
  { code: 'W_MISSPELT_KEY', severity: 'warning', description: 'A variable that looks like a misspelt makepkg key (makedepend, sha256sum, licence, source_amd64, …)' },
  { code: 'W_SKIP_NON_VCS', severity: 'warning', description: 'SKIP as the checksum of a non-VCS download' },
  { code: 'W_INSECURE_SOURCE', severity: 'warning', description: 'A plain http:// or ftp:// source without a sha256/sha384/sha512/b2 checksum' },
]);
