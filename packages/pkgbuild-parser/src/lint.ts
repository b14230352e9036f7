import type { FunctionDefinition, Script } from './ast.js';
import {
  commandAssignments,
  functionAssignments,
  printsToStdout,
  referencedNames,
  sourceIsSparse,
  topLevelFunctions,
  walkTopLevel,
  type FunctionAssignment,
} from './lint-ast.js';
import type { Diagnostic, Pkgbuild, Range, Value } from './model.js';
import { parsePkgbuild } from './parse.js';
import {
  BUILD_OPTIONS,
  CHECKSUM_ALGORITHMS,
  PACKAGING_OPTIONS,
  SCHEMA_ARCH_ARRAYS,
  SCHEMA_ARRAYS,
  SCHEMA_PACKAGE_OVERRIDES,
  SCHEMA_STRINGS,
  type ChecksumAlgorithm,
} from './schema.js';
import { parseSourceEntry } from './source-entry.js';

/** Options of {@link lintPkgbuild}. */
export interface LintOptions {
  /**
   * The architecture (`CARCH`): used to parse a text input and by the `lint_arch` "not available
   * for this architecture" check when `ignoreArch` is false.
   * @default the parse result's `pkgbuild.carch`, or 'x86_64'
   */
  carch?: string;
  /**
   * Tells whether a file (path relative to the PKGBUILD's directory) exists as a regular file.
   * Needed by `lint_install` and `lint_changelog`; without it those checks are skipped.
   * @example { fileExists: (p) => statSync(join(dir, p), { throwIfNoEntry: false })?.isFile() ?? false }
   */
  fileExists?: (relPath: string) => boolean;
  /**
   * Skip `lint_arch`'s "not available for the CARCH architecture" errors, as makepkg does under
   * `--printsrcinfo`, `--source`, `-A` and `-g`. Set `false` to lint as a build would.
   * @default true
   */
  ignoreArch?: boolean;
  /** Packages requested with `makepkg --pkg` (`lint_pkglist`). @default [] */
  pkglist?: readonly string[];
  /** The build file's name in `lint_package_function` messages (makepkg prints `$BUILDFILE`). @default 'PKGBUILD' */
  filename?: string;
}

/**
 * What {@link lintPkgbuild} needs from a parse: `parsePkgbuild`'s result satisfies it. Without
 * `ast` the checks that read the syntax tree (package-function variables, top-level output,
 * misspelt keys, sparse `source`) use only the model, and `lint_package_function` runs only if
 * `pkgbuild.functions` is non-empty (a model read from .SRCINFO has no functions).
 */
export interface LintInput {
  pkgbuild: Pkgbuild;
  isStatic: boolean;
  /** Parse diagnostics: an `E_CRLF` among them is reported as an error too. */
  diagnostics?: Diagnostic[];
  ast?: Script;
  locations?: {
    vars?: Record<string, Range>;
    packages?: Record<string, Record<string, Range>>;
    functions?: Record<string, Range>;
  };
}

const ZERO: Range = { start: { line: 1, column: 1, offset: 0 }, end: { line: 1, column: 1, offset: 0 } };

const arr = (v: Value | undefined): string[] => (v === undefined ? [] : typeof v === 'string' ? [v] : v);
const scalar = (v: Value | undefined): string => (v === undefined ? '' : typeof v === 'string' ? v : (v[0] ?? ''));
const isAscii = (s: string): boolean => /^[\x00-\x7f]*$/.test(s);

const HASH_LENGTH: Record<Exclude<ChecksumAlgorithm, 'ck'>, number> = {
  md5: 32, sha1: 40, sha224: 56, sha256: 64, sha384: 96, sha512: 128, b2: 128,
};
const STRONG: readonly ChecksumAlgorithm[] = ['sha256', 'sha384', 'sha512', 'b2'];

const KNOWN_KEYS = [...SCHEMA_ARRAYS, ...SCHEMA_STRINGS, 'pkgname'];
const KNOWN_SET = new Set(KNOWN_KEYS);
const ARCH_ARRAY_SET = new Set(SCHEMA_ARCH_ARRAYS);
const ALIASES: Record<string, string> = {
  dependencies: 'depends', deps: 'depends', requires: 'depends', require: 'depends',
  makedeps: 'makedepends', builddepends: 'makedepends', build_depends: 'makedepends',
  checkdeps: 'checkdepends', optdeps: 'optdepends', optionaldepends: 'optdepends',
  description: 'pkgdesc', desc: 'pkgdesc', summary: 'pkgdesc',
  version: 'pkgver', release: 'pkgrel', homepage: 'url', website: 'url',
  licenses: 'license', licence: 'license', licences: 'license',
  architecture: 'arch', architectures: 'arch', arches: 'arch', archs: 'arch',
  sources: 'source', src: 'source', checksums: 'sha256sums', pgpkeys: 'validpgpkeys',
};
const BAD_ARCH: Record<string, string> = {
  amd64: 'x86_64', x64: 'x86_64', x86_64v3: 'x86_64_v3', arm64: 'aarch64', aarch: 'aarch64',
  armhf: 'armv7h', armv7: 'armv7h', armv7l: 'armv7h', armel: 'arm', i386: 'i686', x86: 'i686',
  i586: 'i686', riscv: 'riscv64', loongarch64: 'loong64',
};

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

function suggestKey(name: string, withAliases = true): string | undefined {
  const alias = withAliases ? ALIASES[name] : undefined;
  if (alias) return alias;
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of KNOWN_KEYS) {
    const d = editDistance(name, k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  const limit = name.length <= 5 ? 1 : 2;
  return bestD <= limit ? best : undefined;
}

/**
 * Lint a PKGBUILD: all 22 checks of makepkg 6.0.2's `lint_pkgbuild` as `severity: 'error'`
 * diagnostics whose `code` is the makepkg function name (`lint_pkgver`, `lint_depends`, …) and
 * whose message is makepkg's, plus this package's warnings (`W_CHECKSUM_COUNT`,
 * `W_TOPLEVEL_OUTPUT`, …); see {@link LINT_RULES}. Positions come from the parse result.
 *
 * Values the parser could not settle (`pkgbuild.unknown`, a package's `unknown`) are not linted.
 * Given a string, it parses it with `parsePkgbuild(text, { carch })` and returns only the lint
 * diagnostics (not the parse diagnostics: read those from `parsePkgbuild` yourself).
 *
 * @example
 * const parsed = parsePkgbuild(text);
 * const problems = [...parsed.diagnostics, ...lintPkgbuild(parsed, { fileExists })];
 * const refused = problems.some((d) => d.code.startsWith('lint_')); // makepkg would exit 12
 */
export function lintPkgbuild(input: string | LintInput, opts: LintOptions = {}): Diagnostic[] {
  const parsed: LintInput = typeof input === 'string' ? parsePkgbuild(input, { carch: opts.carch ?? 'x86_64' }) : input;
  const out = new Linter(parsed, opts).run();
  // makepkg refuses a file holding CR before it lints (exit 12 as well).
  const crlf = typeof input === 'string' ? crlfDiagnostic(input) : parsed.diagnostics?.find((d) => d.code === 'E_CRLF');
  if (crlf) out.unshift({ ...crlf, severity: 'error' });
  return out;
}

function crlfDiagnostic(text: string): Diagnostic | undefined {
  const at = text.indexOf('\r');
  if (at === -1) return undefined;
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = at - (before.lastIndexOf('\n') + 1) + 1;
  return {
    code: 'E_CRLF',
    severity: 'error',
    message: 'PKGBUILD contains CRLF characters and cannot be sourced (convert it to LF line endings, e.g. dos2unix)',
    range: { start: { line, column, offset: at }, end: { line, column: column + 1, offset: at + 1 } },
  };
}

interface Item {
  value: string;
  range: Range;
}

class Linter {
  readonly pb: Pkgbuild;
  readonly vars: Record<string, Value>;
  readonly out: Diagnostic[] = [];
  readonly unknown: Set<string>;
  readonly carch: string;
  readonly arch: string[];
  readonly fnDefs: Map<string, FunctionDefinition>;
  readonly fnNames: Set<string>;
  readonly declared: Set<string>;
  readonly filename: string;

  constructor(
    readonly input: LintInput,
    readonly opts: LintOptions,
  ) {
    this.pb = input.pkgbuild;
    this.vars = this.pb.vars;
    this.unknown = new Set(this.pb.unknown);
    this.carch = opts.carch ?? this.pb.carch ?? 'x86_64';
    this.arch = this.unknown.has('arch') ? [] : arr(this.vars.arch);
    this.fnDefs = input.ast ? topLevelFunctions(input.ast) : new Map();
    this.fnNames = new Set([
      ...this.pb.functions.map((f) => f.name),
      ...Object.keys(input.locations?.functions ?? {}),
      ...this.fnDefs.keys(),
    ]);
    this.declared = new Set([...Object.keys(this.vars), ...Object.keys(input.locations?.vars ?? {})]);
    if (input.ast) {
      walkTopLevel(input.ast.body, (cmd, ctx) => {
        if (cmd.type === 'SimpleCommand' && !ctx.conditional) for (const a of commandAssignments(cmd)) this.declared.add(a.name);
      });
    }
    this.filename = opts.filename ?? 'PKGBUILD';
  }

  run(): Diagnostic[] {
    this.lintArch();
    this.lintArchSpecific();
    this.lintBackup();
    this.lintFiles('changelog');
    this.lintEpoch();
    this.lintPkgrel();
    this.lintPkgver();
    this.lintPkgname();
    this.lintDepLike('checkdepends', false);
    this.lintDepLike('conflicts', false);
    this.lintDepLike('depends', true);
    this.lintFiles('install');
    this.lintDepLike('makedepends', false);
    this.lintDepLike('optdepends', false);
    this.lintOptions();
    this.lintPackageFunction();
    this.lintPackageFunctionVariable();
    this.lintPkgbase();
    this.lintPkglist();
    this.lintProvides();
    this.lintSource();
    this.lintVariable();
    this.warnChecksums();
    this.warnDuplicates();
    this.warnMissing();
    this.warnToplevelOutput();
    this.warnMisspelt();
    // Values shared by the global section and `+=` overrides are seen twice: report once.
    const seen = new Set<string>();
    return this.out.filter((d) => {
      const key = `${d.code}\0${d.message}\0${d.range.start.offset}\0${d.range.end.offset}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  // ---------------------------------------------------------------------------------------------
  // positions and values

  report(code: string, message: string, range: Range, severity: 'error' | 'warning' = 'error'): void {
    this.out.push({ code, severity, message, range });
  }

  varRange(name: string): Range {
    return this.input.locations?.vars?.[name] ?? this.fallbackRange();
  }

  fallbackRange(): Range {
    const l = this.input.locations?.vars;
    return l?.pkgname ?? l?.pkgver ?? ZERO;
  }

  fnRange(name: string): Range {
    return this.input.locations?.functions?.[name] ?? this.fnDefs.get(name)?.range ?? this.fallbackRange();
  }

  pkgRange(pkg: string, name: string): Range {
    return this.input.locations?.packages?.[pkg]?.[name] ?? this.fnRange(this.pkgFunctionName(pkg));
  }

  /** Per variable: the element ranges of its only top-level `name=(…)` assignment, if it has exactly one. */
  private elementRanges: Map<string, Range[] | undefined> | undefined;

  /** Range of element `index` of a top-level array, when the assignment maps 1:1 to the value. */
  elementRange(name: string, index: number): Range {
    if (!this.elementRanges) {
      const map = new Map<string, Range[] | undefined>();
      const ast = this.input.ast;
      if (ast) {
        walkTopLevel(ast.body, (cmd) => {
          if (cmd.type !== 'SimpleCommand') return;
          for (const a of commandAssignments(cmd)) {
            const single = a.value.type === 'ArrayLiteral' && !a.append && !a.index && !map.has(a.name);
            map.set(a.name, single && a.value.type === 'ArrayLiteral' ? a.value.elements.map((e) => e.range) : undefined);
          }
        });
      }
      this.elementRanges = map;
    }
    const ranges = this.elementRanges.get(name);
    if (ranges && ranges.length === arr(this.vars[name]).length) {
      const r = ranges[index];
      if (r) return r;
    }
    return this.varRange(name);
  }

  known(name: string): boolean {
    return !this.unknown.has(name);
  }

  globalItems(name: string): Item[] {
    if (!this.known(name)) return [];
    return arr(this.vars[name]).map((value, i) => ({ value, range: this.elementRange(name, i) }));
  }

  /** The package function makepkg reads for `pkg`: `package_<pkg>`, else `package` (grep_function). */
  pkgFunctionName(pkg: string): string {
    return this.fnNames.has(`package_${pkg}`) ? `package_${pkg}` : 'package';
  }

  /** The package's override of `name` (its full value), when the package function sets it and it is known. */
  override(pkg: string, name: string): Value | undefined {
    const info = this.pb.packages.find((p) => p.name === pkg);
    if (!info || info.unknown?.includes(name)) return undefined;
    return Object.hasOwn(info.overrides, name) ? info.overrides[name] : undefined;
  }

  overrideItems(pkg: string, name: string): Item[] {
    return arr(this.override(pkg, name)).map((value) => ({ value, range: this.pkgRange(pkg, name) }));
  }

  /** Assignments in the package function as makepkg's line grep sees them (AST needed). */
  fnAssignments(pkg: string): FunctionAssignment[] {
    const fn = this.fnDefs.get(this.pkgFunctionName(pkg));
    return fn ? functionAssignments(fn).filter((a) => a.visible) : [];
  }

  // ---------------------------------------------------------------------------------------------
  // makepkg's checks

  /** lint_one_pkgname */
  onePkgname(code: string, type: string, name: string, range: Range): void {
    if (name === '') {
      this.report(code, `${type} is not allowed to be empty.`, range);
      return;
    }
    if (name.startsWith('-')) this.report(code, `${type} is not allowed to start with a hyphen.`, range);
    if (name.startsWith('.')) this.report(code, `${type} is not allowed to start with a dot.`, range);
    if (!isAscii(name)) {
      this.report(code, `${type} may only contain ascii characters.`, range);
      return;
    }
    if (/[^A-Za-z0-9+_.@-]/.test(name)) {
      this.report(code, `${type} contains invalid characters: '${name.replace(/[A-Za-z0-9+_.@-]/g, '')}'`, range);
    }
  }

  checkEpoch(code: string, epoch: string, type: string, range: Range): void {
    if (!/^[0-9]*$/.test(epoch)) this.report(code, `epoch${type ? ` in ${type}` : ''} must be an integer, not ${epoch}.`, range);
  }

  checkPkgrel(code: string, rel: string, type: string, range: Range): void {
    const what = `pkgrel${type ? ` in ${type}` : ''}`;
    if (rel === '') this.report(code, `${what} is not allowed to be empty.`, range);
    else if (!/^[0-9]+(\.[0-9]+)?$/.test(rel)) this.report(code, `${what} must be of the form 'integer[.integer]', not ${rel}.`, range);
  }

  checkPkgver(code: string, ver: string, type: string, range: Range): void {
    const what = `pkgver${type ? ` in ${type}` : ''}`;
    if (ver === '') this.report(code, `${what} is not allowed to be empty.`, range);
    else if (/[\t\n\v\f\r /:-]/.test(ver)) this.report(code, `${what} is not allowed to contain colons, forward slashes, hyphens or whitespace.`, range);
    else if (!isAscii(ver)) this.report(code, `${what} may only contain ascii characters.`, range);
  }

  /** check_fullpkgver: [epoch:]pkgver[-pkgrel], split as pacman's parseEVR does. */
  checkFullpkgver(code: string, full: string, type: string, range: Range): void {
    let v = full;
    const colon = v.indexOf(':');
    if (colon !== -1) {
      this.checkEpoch(code, v.slice(0, colon), type, range);
      v = v.slice(colon + 1);
    }
    const dash = v.lastIndexOf('-');
    if (dash > 0) {
      this.checkPkgrel(code, v.slice(dash + 1), type, range);
      v = v.slice(0, dash);
    }
    this.checkPkgver(code, v, type, range);
  }

  lintArch(): void {
    const code = 'lint_arch';
    if (!this.known('arch')) return;
    const range = this.varRange('arch');
    if (this.arch.includes('any')) {
      if (this.arch.length === 1) return;
      this.report(code, "Can not use 'any' architecture with other architectures", range);
      return;
    }
    this.arch.forEach((a, i) => {
      if (/[^A-Za-z0-9_]/.test(a)) {
        this.report(code, `arch contains invalid characters: '${a.replace(/[A-Za-z0-9_]/g, '')}'`, this.elementRange('arch', i));
      }
    });
    if (this.opts.ignoreArch === false) {
      if (!this.arch.includes(this.carch)) {
        this.report(code, `${this.pb.pkgbase} is not available for the '${this.carch}' architecture.`, range);
        return;
      }
      for (const name of this.pb.pkgname) {
        const own = this.override(name, 'arch');
        const list = own === undefined ? this.arch : arr(own);
        if (list.length > 0 && list[0] !== '' && list[0] !== 'any' && !list.includes(this.carch)) {
          this.report(code, `${name} is not available for the '${this.carch}' architecture.`, this.pkgRange(name, 'arch'));
        }
      }
    }
  }

  lintArchSpecific(): void {
    const code = 'lint_arch_specific';
    const nonArch = [...SCHEMA_ARRAYS, ...SCHEMA_STRINGS].filter((k) => !ARCH_ARRAY_SET.has(k));
    const check = (has: (v: string) => boolean, rangeOf: (v: string) => Range): void => {
      for (const a of this.arch) {
        if (a === 'any') {
          for (const i of SCHEMA_ARCH_ARRAYS) {
            const v = `${i}_any`;
            if (has(v)) this.report(code, `Can not provide architecture specific variables for the 'any' architecture: ${v}`, rangeOf(v));
          }
        }
        for (const i of nonArch) {
          const v = `${i}_${a}`;
          if (has(v)) this.report(code, `${i} can not be architecture specific: ${v}`, rangeOf(v));
        }
      }
    };
    check((v) => this.declared.has(v), (v) => this.varRange(v));
    for (const pkg of this.pb.pkgname) {
      const assigned = this.fnAssignments(pkg);
      const names = new Set([...assigned.map((a) => a.name), ...Object.keys(this.pb.packages.find((p) => p.name === pkg)?.overrides ?? {})]);
      check((v) => names.has(v), (v) => assigned.find((a) => a.name === v)?.range ?? this.pkgRange(pkg, v));
    }
  }

  lintBackup(): void {
    const items = [...this.globalItems('backup'), ...this.pb.pkgname.flatMap((p) => this.overrideItems(p, 'backup'))];
    for (const { value, range } of items) {
      if (value.startsWith('/')) this.report('lint_backup', `backup entry should not contain leading slash : ${value}`, range);
    }
  }

  lintFiles(kind: 'install' | 'changelog'): void {
    const exists = this.opts.fileExists;
    if (!exists) return;
    const items: Item[] = [];
    if (this.known(kind)) items.push({ value: scalar(this.vars[kind]), range: this.varRange(kind) });
    for (const pkg of this.pb.pkgname) {
      const v = this.override(pkg, kind);
      if (v !== undefined) items.push({ value: scalar(v), range: this.pkgRange(pkg, kind) });
    }
    for (const { value, range } of items) {
      if (value !== '' && !exists(value)) {
        this.report(`lint_${kind}`, `${kind} file (${value}) does not exist or is not a regular file.`, range);
      }
    }
  }

  lintEpoch(): void {
    if (this.known('epoch')) this.checkEpoch('lint_epoch', scalar(this.vars.epoch), '', this.varRange('epoch'));
  }

  lintPkgrel(): void {
    if (this.known('pkgrel')) this.checkPkgrel('lint_pkgrel', scalar(this.vars.pkgrel), '', this.varRange('pkgrel'));
  }

  lintPkgver(): void {
    if (this.known('pkgver')) this.checkPkgver('lint_pkgver', scalar(this.vars.pkgver), '', this.varRange('pkgver'));
  }

  lintPkgname(): void {
    if (!this.known('pkgname')) return;
    const names = this.pb.pkgname;
    if (names.join(' ') === '') {
      this.report('lint_pkgname', 'pkgname is not allowed to be empty.', this.varRange('pkgname'));
      return;
    }
    names.forEach((n, i) => this.onePkgname('lint_pkgname', 'pkgname', n, this.elementRange('pkgname', i)));
  }

  /** get_pkgbuild_all_split_attributes: global, global arch variants, each package's own and arch overrides. */
  splitItems(name: string): Item[] {
    const items = [...this.globalItems(name)];
    for (const a of this.arch) items.push(...this.globalItems(`${name}_${a}`));
    for (const pkg of this.pb.pkgname) {
      items.push(...this.overrideItems(pkg, name));
      for (const a of this.arch) items.push(...this.overrideItems(pkg, `${name}_${a}`));
    }
    return items;
  }

  lintDepLike(kind: 'checkdepends' | 'conflicts' | 'depends' | 'makedepends' | 'optdepends', allowEmptyVersion: boolean): void {
    const code = `lint_${kind}`;
    for (const item of this.splitItems(kind)) {
      let dep = item.value;
      if (kind === 'optdepends') {
        // ${optdepends_list[@]%%:[[:space:]]*}
        const m = /:[\t\n\v\f\r ]/.exec(dep);
        if (m) dep = dep.slice(0, m.index);
      }
      const cut = dep.search(/[<>=]/);
      const name = cut === -1 ? dep : dep.slice(0, cut);
      this.onePkgname(code, kind, name, item.range);
      if (cut === -1) continue;
      const op = dep.slice(cut, cut + 2) === '>=' || dep.slice(cut, cut + 2) === '<=' ? 2 : 1;
      const ver = dep.slice(cut + op);
      if (allowEmptyVersion && ver === '') continue;
      this.checkFullpkgver(code, ver, kind, item.range);
    }
  }

  lintOptions(): void {
    const known = [...PACKAGING_OPTIONS, ...BUILD_OPTIONS];
    const items = [...this.globalItems('options'), ...this.pb.pkgname.flatMap((p) => this.overrideItems(p, 'options'))];
    for (const { value, range } of items) {
      if (!known.some((k) => value === k || value === `!${k}`)) {
        this.report('lint_options', `options array contains unknown option '${value}'`, range);
      }
    }
  }

  /** Whether functions may be defined by code the parser cannot follow (`eval`, `source`). */
  functionsMayBeDynamic(): boolean {
    const ast = this.input.ast;
    if (!ast) return !this.input.isStatic;
    let dynamic = false;
    walkTopLevel(ast.body, (cmd) => {
      if (cmd.type === 'SimpleCommand' && ['eval', 'source', '.'].includes(cmd.name?.text ?? '')) dynamic = true;
    });
    return dynamic;
  }

  lintPackageFunction(): void {
    if (!this.known('pkgname')) return;
    // A model without functions and without a syntax tree (e.g. from parseSrcinfo) says nothing
    // about which functions exist.
    if (!this.input.ast && this.pb.functions.length === 0) return;
    const code = 'lint_package_function';
    const names = this.pb.pkgname;
    const has = (f: string): boolean => this.fnNames.has(f);
    const dynamic = this.functionsMayBeDynamic();
    if (names.length === 1) {
      const name = names[0]!;
      if (has('package') && has(`package_${name}`)) {
        this.report(code, `Conflicting package() and package_${name}() functions in ${this.filename}`, this.fnRange(`package_${name}`));
      } else if (!dynamic && has('build') && !(has('package') || has(`package_${name}`))) {
        this.report(code, `Missing package() function in ${this.filename}`, this.fnRange('build'));
      }
    } else {
      if (has('package')) this.report(code, `Extra package() function for split package '${this.pb.pkgbase}'`, this.fnRange('package'));
      if (dynamic) return;
      names.forEach((n, i) => {
        if (!has(`package_${n}`)) this.report(code, `Missing package_${n}() function for split package '${n}'`, this.elementRange('pkgname', i));
      });
    }
  }

  lintPackageFunctionVariable(): void {
    const forbidden = [...SCHEMA_ARRAYS, ...SCHEMA_STRINGS].filter((k) => !SCHEMA_PACKAGE_OVERRIDES.includes(k));
    for (const pkg of this.pb.pkgname) {
      const assigned = this.fnAssignments(pkg);
      const rangeOf = (v: string): Range | undefined => assigned.find((a) => a.name === v)?.range;
      const overrides = this.pb.packages.find((p) => p.name === pkg)?.overrides ?? {};
      const has = (v: string): Range | undefined => rangeOf(v) ?? (Object.hasOwn(overrides, v) ? this.pkgRange(pkg, v) : undefined);
      for (const a of this.arch) {
        if (a === 'any') continue;
        for (const i of forbidden) {
          const r = has(`${i}_${a}`);
          if (r) this.report('lint_package_function_variable', `${i}_${a} can not be set inside a package function`, r);
        }
      }
      for (const i of forbidden) {
        const r = has(i);
        if (r) this.report('lint_package_function_variable', `${i} can not be set inside a package function`, r);
      }
    }
  }

  lintPkgbase(): void {
    const base = this.pb.pkgbase;
    if (base === '' || !this.known('pkgbase') || (this.vars.pkgbase === undefined && !this.known('pkgname'))) return;
    this.onePkgname('lint_pkgbase', 'pkgbase', base, this.vars.pkgbase === undefined ? this.varRange('pkgname') : this.varRange('pkgbase'));
  }

  lintPkglist(): void {
    for (const p of this.opts.pkglist ?? []) {
      if (!this.pb.pkgname.includes(p)) {
        this.report('lint_pkglist', `Requested package ${p} is not provided in ${this.filename}`, this.varRange('pkgname'));
      }
    }
  }

  lintProvides(): void {
    const code = 'lint_provides';
    for (const { value, range } of this.splitItems('provides')) {
      if (/[<>]/.test(value)) {
        this.report(code, 'provides array cannot contain comparison (< or >) operators.', range);
        continue;
      }
      const eq = value.lastIndexOf('=');
      const name = eq === -1 ? value : value.slice(0, eq);
      this.onePkgname(code, 'provides', name, range);
      if (eq !== -1) this.checkFullpkgver(code, value.slice(eq + 1), 'provides', range);
    }
  }

  lintSource(): void {
    if (!this.input.ast || !this.known('source')) return;
    if (sourceIsSparse(this.input.ast) === true) {
      this.report('lint_source', 'Sparse arrays are not allowed for source', this.varRange('source'));
    }
  }

  lintVariable(): void {
    const code = 'lint_variable';
    const isArrayVar = (name: string): boolean | undefined => {
      const v = this.vars[name];
      if (v === undefined || !this.known(name)) return undefined;
      return Array.isArray(v);
    };
    for (const i of SCHEMA_ARRAYS) {
      if (isArrayVar(i) === false) this.report(code, `${i} should be an array`, this.varRange(i));
    }
    for (const a of this.arch) {
      if (a === 'any') continue;
      for (const i of SCHEMA_ARCH_ARRAYS) {
        const v = `${i}_${a}`;
        if (isArrayVar(v) === false) this.report(code, `${v} should be an array`, this.varRange(v));
      }
    }
    for (const i of SCHEMA_STRINGS) {
      if (i === 'pkgbase' && this.vars.pkgbase === undefined) continue;
      if (isArrayVar(i) === true) this.report(code, `${i} should not be an array`, this.varRange(i));
    }
    for (const pkg of this.pb.pkgname) {
      const assigned = this.fnAssignments(pkg);
      const find = (name: string, arrayForm: boolean): FunctionAssignment | undefined =>
        assigned.find((a) => a.name === name && a.arrayForm === arrayForm);
      for (const i of SCHEMA_ARRAYS) {
        const a = find(i, false);
        if (a) this.report(code, `${i} should be an array`, a.range);
      }
      for (const arch of this.arch) {
        if (arch === 'any') continue;
        for (const i of SCHEMA_ARCH_ARRAYS) {
          const a = find(`${i}_${arch}`, false);
          if (a) this.report(code, `${i}_${arch} should be an array`, a.range);
        }
      }
      for (const i of SCHEMA_STRINGS) {
        const a = find(i, true);
        if (a) this.report(code, `${i} should not be an array`, a.range);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // warnings beyond makepkg

  warn(code: string, message: string, range: Range): void {
    this.report(code, message, range, 'warning');
  }

  warnChecksums(): void {
    const suffixes = ['', ...this.arch.filter((a) => a !== 'any').map((a) => `_${a}`)];
    for (const suffix of new Set(suffixes)) {
      const srcVar = `source${suffix}`;
      if (!this.known(srcVar)) continue;
      const sources = arr(this.vars[srcVar]);
      const entries = sources.map(parseSourceEntry);
      const strongAt = Array.from({ length: sources.length }, () => false);
      const sumsKnown = CHECKSUM_ALGORITHMS.every((alg) => this.known(`${alg}sums${suffix}`));
      for (const alg of CHECKSUM_ALGORITHMS) {
        const sumVar = `${alg}sums${suffix}`;
        if (!this.known(sumVar)) continue;
        const sums = arr(this.vars[sumVar]);
        if (sums.length === 0) continue;
        if (sums.length !== sources.length) {
          this.warn(
            'W_CHECKSUM_COUNT',
            `${sumVar} has ${sums.length} entr${sums.length === 1 ? 'y' : 'ies'} but ${srcVar} has ${sources.length}: makepkg will stop with "Integrity checks (${alg}) differ in size from the source array"`,
            this.varRange(sumVar),
          );
        }
        sums.forEach((sum, i) => {
          const range = this.elementRange(sumVar, i);
          if (sum !== 'SKIP') {
            const ok = alg === 'ck' ? /^[0-9]+$/.test(sum) : new RegExp(`^[0-9a-fA-F]{${HASH_LENGTH[alg]}}$`).test(sum);
            if (!ok) {
              const want = alg === 'ck' ? 'a decimal CRC (cksum output)' : `${HASH_LENGTH[alg]} hex digits`;
              this.warn('W_CHECKSUM_FORMAT', `${sumVar}[${i}] is not a ${alg} checksum (expected ${want} or SKIP): ${JSON.stringify(sum)}`, range);
            }
            if (STRONG.includes(alg) && sums.length === sources.length) strongAt[i] = true;
            return;
          }
          const entry = entries[i];
          if (!entry || sums.length !== sources.length) return;
          if (entry.vcs === undefined && entry.protocol !== 'local' && !/\.(sig|asc|sign)$/.test(entry.filename)) {
            this.warn('W_SKIP_NON_VCS', `${sumVar}[${i}] is SKIP for the download ${entry.filename || entry.url}: its content is not verified; add a real checksum (makepkg -g)`, range);
          }
        });
      }
      if (!sumsKnown) continue;
      entries.forEach((e, i) => {
        if ((e.protocol === 'http' || e.protocol === 'ftp') && !strongAt[i]) {
          this.warn('W_INSECURE_SOURCE', `${srcVar}[${i}] is downloaded over plain ${e.protocol}:// without a sha256/sha384/sha512/b2 checksum: anyone on the path can replace it; use https or add a strong checksum`, this.elementRange(srcVar, i));
        }
      });
    }
  }

  warnDuplicates(): void {
    const dup = (list: string[], code: string, what: string, rangeOf: (i: number) => Range): void => {
      const seen = new Set<string>();
      list.forEach((v, i) => {
        if (seen.has(v)) this.warn(code, `${what} lists '${v}' more than once`, rangeOf(i));
        seen.add(v);
      });
    };
    if (this.known('pkgname')) dup(this.pb.pkgname, 'W_DUPLICATE_PKGNAME', 'pkgname', (i) => this.elementRange('pkgname', i));
    if (this.known('arch')) dup(this.arch, 'W_DUPLICATE_ARCH', 'arch', (i) => this.elementRange('arch', i));
    for (const pkg of new Set(this.pb.pkgname)) {
      const own = this.override(pkg, 'arch');
      if (own !== undefined) dup(arr(own), 'W_DUPLICATE_ARCH', `arch of package ${pkg}`, () => this.pkgRange(pkg, 'arch'));
    }
  }

  warnMissing(): void {
    if (this.known('arch') && this.arch.length === 0) {
      this.warn('W_MISSING_ARCH', 'arch is not set: makepkg refuses to build it for any architecture (set arch=(x86_64) or arch=(any))', this.fallbackRange());
    }
    for (const key of ['pkgdesc', 'url', 'license'] as const) {
      if (!this.known(key)) continue;
      const global = this.vars[key];
      const set = global !== undefined && arr(global).some((v) => v !== '');
      if (set) continue;
      const missing = this.pb.pkgname.filter((p) => {
        const o = this.override(p, key);
        return o === undefined || !arr(o).some((v) => v !== '');
      });
      if (missing.length === 0) continue;
      const which = this.pb.pkgname.length > 1 ? ` (for ${missing.join(', ')})` : '';
      this.warn(`W_MISSING_${key.toUpperCase()}`, `${key} is not set${which}`, this.fallbackRange());
    }
  }

  warnToplevelOutput(): void {
    const ast = this.input.ast;
    if (!ast) return;
    walkTopLevel(ast.body, (cmd, ctx) => {
      if (cmd.type !== 'SimpleCommand' || ctx.piped || ctx.stdoutAway) return;
      if (printsToStdout(cmd)) {
        this.warn('W_TOPLEVEL_OUTPUT', `'${cmd.name?.text ?? ''}' at the top level writes to stdout, which makepkg --printsrcinfo copies into .SRCINFO; redirect it (>&2) or move it into a function`, cmd.range);
      }
    });
  }

  warnMisspelt(): void {
    const ast = this.input.ast;
    // name → [range, assigned at the top level]
    const found = new Map<string, [Range, boolean]>();
    const add = (name: string, range: Range, topLevel: boolean): void => {
      if (!found.has(name)) found.set(name, [range, topLevel]);
    };
    if (ast) {
      walkTopLevel(ast.body, (cmd) => {
        if (cmd.type === 'SimpleCommand') for (const a of commandAssignments(cmd)) add(a.name, a.nameRange, true);
      });
      for (const pkg of new Set(this.pb.pkgname)) for (const a of this.fnAssignments(pkg)) add(a.name, a.range, false);
    } else {
      for (const name of Object.keys(this.vars)) add(name, this.varRange(name), true);
    }
    // A variable the file reads itself is a helper, not a misspelt key.
    const used = ast ? referencedNames(ast) : new Set<string>();
    const arches = new Set(this.arch);
    for (const [name, [range, topLevel]] of found) {
      if (name.startsWith('_') || /[A-Z]/.test(name) || KNOWN_SET.has(name) || used.has(name)) continue;
      const us = name.indexOf('_');
      if (us > 0) {
        const base = name.slice(0, us);
        const suffix = name.slice(us + 1);
        const goodBase = ARCH_ARRAY_SET.has(base) ? base : KNOWN_SET.has(base) ? undefined : suggestKey(base);
        const baseOk = goodBase !== undefined && ARCH_ARRAY_SET.has(goodBase);
        const goodArch = arches.has(suffix) ? suffix : BAD_ARCH[suffix];
        if (baseOk && goodArch !== undefined && `${goodBase}_${goodArch}` !== name) {
          this.warn('W_MISSPELT_KEY', `${name} is not a variable makepkg reads; did you mean ${goodBase}_${goodArch}?`, range);
        }
        if (baseOk || ARCH_ARRAY_SET.has(base) || BAD_ARCH[suffix]) continue;
      }
      const guess = suggestKey(name, topLevel);
      if (guess !== undefined) this.warn('W_MISSPELT_KEY', `${name} is not a variable makepkg reads; did you mean ${guess}?`, range);
    }
  }
}
