/**
 * The data model shared by every package of the monorepo: what a PKGBUILD means, as makepkg
 * reads it. The static parser (`parsePkgbuild`), the .SRCINFO reader (`parseSrcinfo`) and the
 * executor's `inspectPkgbuild` all produce this shape; `toSrcinfo` consumes it.
 *
 * Everything here is plain JSON-safe data: it can be cached, sent over the wire and compared
 * with `deepEqual`.
 */

/** A position in the source text: 1-based line and column (in UTF-16 code units), 0-based offset. */
export interface Position {
  line: number;
  column: number;
  offset: number;
}

/** A half-open range `[start, end)` in the source text. */
export interface Range {
  start: Position;
  end: Position;
}

export type Severity = 'error' | 'warning' | 'info';

/** A finding about a PKGBUILD, usable as-is by an editor or an ESLint-style runner. */
export interface Diagnostic {
  /** Stable code: `E_SYNTAX`, `W_DYNAMIC`, makepkg lint names such as `lint_pkgver`, … */
  code: string;
  severity: Severity;
  message: string;
  range: Range;
}

/** A variable's value: a bash scalar or a bash indexed array. */
export type Value = string | string[];

/** A function defined by the PKGBUILD (`prepare`, `build`, `package_foo`, helpers…). */
export interface PkgbuildFunction {
  name: string;
  /** The body text between the braces (or the whole compound command), as written. */
  body: string;
  /** Where the definition stands in the file; absent when the model came from bash or .SRCINFO. */
  range?: Range;
}

/** What one `package_<name>()` (or the single `package()`) sets, extracted the way makepkg does. */
export interface PackageInfo {
  name: string;
  /**
   * The overrides the package function assigns, each holding the full resolved value makepkg
   * prints (the global value with the function's `+=` applied), keyed by variable name
   * (`pkgdesc`, `depends`, `depends_x86_64`, …). A key that is absent is not overridden.
   */
  overrides: Record<string, Value>;
  /** Override names whose value could not be settled without running code. */
  unknown?: string[];
}

/** A PKGBUILD's meaning, as makepkg reads it for one architecture (`carch`). */
export interface Pkgbuild {
  /** `pkgbase`, or `pkgname[0]` when the file does not set it (as makepkg does). */
  pkgbase: string;
  /** The `pkgname` array (a scalar `pkgname=x` gives `['x']`). */
  pkgname: string[];
  /**
   * Every top-level variable makepkg reads, including `_<arch>` variants, keyed by name
   * (`pkgver`, `depends`, `source_x86_64`, `sha256sums_aarch64`, …). Only variables that
   * are set appear. `pkgbase` and `pkgname` appear here too, as the file set them.
   */
  vars: Record<string, Value>;
  /** One entry per `pkgname`, in order. */
  packages: PackageInfo[];
  /** The functions the file defines, in definition order. */
  functions: PkgbuildFunction[];
  /** Variables (makepkg's or not) whose value could not be settled statically. */
  unknown: string[];
  /** The architecture the top level was evaluated for (`CARCH`). */
  carch: string;
}
