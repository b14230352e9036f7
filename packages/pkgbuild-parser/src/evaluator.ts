/**
 * The static evaluator: runs the top level of a PKGBUILD the way `source` inside makepkg's
 * `source_safe` function would, without executing anything. Every value it cannot settle
 * becomes unknown, with a diagnostic at the exact construct; nothing is guessed.
 */
import type {
  AndOrList, ArithmeticText, ArrayLiteral, Assignment, Command, CompoundCommand, FunctionDefinition,
  ParamExpansionPart, Pipeline, Redirect, Script, SimpleCommand, Statement, TestExpr, Word, WordPart,
} from './ast.js';
import { ArithError, ArithUnknown, evalArith } from './arithmetic.js';
import { BraceLimit, braceExpand, type BraceToken } from './brace-expansion.js';
import { isName } from './lexer.js';
import { parseWordText } from './parser.js';
import type { Diagnostic, Range, Value } from './model.js';
import { PatternUnknown, compilePattern, hasGlobChars } from './pattern.js';

// ---------------------------------------------------------------------------------------------
// Values

/** A shell variable. `unknown` set means its value cannot be settled statically. */
export interface ShellVar {
  kind: 's' | 'a' | 'A';
  scalar?: string;
  arr?: Map<number, string>;
  assoc?: Map<string, string>;
  /** Declared (`declare x`) but without a value. */
  unset?: boolean;
  unknown?: boolean;
  ro?: boolean;
  int?: boolean;
  exp?: boolean;
}

/** Thrown while expanding: the value depends on something unknown. */
export class Unknown {
  // not an Error: it is thrown and caught internally on every dynamic construct, and capturing a
  // stack trace each time would dominate the evaluation time
  constructor(readonly reason: string, readonly range: Range | undefined, readonly code = 'W_DYNAMIC', readonly silent = false) {}

  get message(): string {
    return this.reason;
  }
}

/** Bash would report an error for this command (status 1). */
class ShellError extends Error {
  constructor(message: string, readonly range: Range, readonly fatal = false) {
    super(message);
  }
}

class BreakSignal { constructor(public levels: number, public cont: boolean) {} }
class ReturnSignal { constructor(readonly status: number | undefined) {} }

type Status = number | undefined; // undefined = unknown

/** Options of {@link Evaluator}. */
export interface EvalOptions {
  carch: string;
  /** Locale makepkg runs in: decides lengths/substrings/case of non-ASCII text. @default 'C' */
  locale?: 'C' | 'C.UTF-8';
}

const SCHEMA_ARCH = ['checkdepends', 'conflicts', 'depends', 'makedepends', 'optdepends', 'provides', 'replaces', 'source',
  'cksums', 'md5sums', 'sha1sums', 'sha224sums', 'sha256sums', 'sha384sums', 'sha512sums', 'b2sums'];
const SCHEMA_ALL = new Set(['pkgname', 'pkgbase', 'pkgver', 'pkgrel', 'epoch', 'pkgdesc', 'url', 'install', 'changelog',
  'arch', 'backup', 'groups', 'license', 'noextract', 'options', 'validpgpkeys', ...SCHEMA_ARCH]);

/** Variables makepkg (or bash) has set when the PKGBUILD is sourced, with values we cannot know. */
const MAKEPKG_SET = new Set([
  'startdir', 'BUILDFILE', 'SRCDEST', 'SRCPKGDEST', 'PKGDEST', 'LOGDEST', 'BUILDDIR', 'known_hash_algos',
  'pkgbuild_schema_arrays', 'pkgbuild_schema_strings', 'pkgbuild_schema_arch_arrays', 'pkgbuild_schema_package_overrides',
  'shellopts', 'makepkg_version', 'confdir', 'LIBRARY', 'pkgdirbase', 'BASH_SOURCE', 'FUNCNAME', 'BASH_LINENO',
  'PWD', 'OLDPWD', 'HOME', 'USER', 'PATH', 'RANDOM', 'SECONDS', 'LINENO', 'BASHPID', 'EPOCHSECONDS', 'EPOCHREALTIME',
  'SRANDOM', 'BASH_VERSION', 'BASH_VERSINFO', 'HOSTNAME', 'UID', 'EUID', 'PPID', 'SHELLOPTS', 'BASHOPTS', 'IFS_',
  'MAKEFLAGS', 'CFLAGS', 'CXXFLAGS', 'LDFLAGS', 'PACKAGER', 'BUILDENV', 'OPTIONS', 'PKGEXT', 'SRCEXT', 'DLAGENTS',
  'VCSCLIENTS', 'COMPRESSGZ', 'SOURCE_DATE_EPOCH', 'MAKEPKG_CONF', 'GPGKEY', 'INTEGRITY_CHECK', 'STRIP_BINARIES',
]);

/** Names makepkg has unset before sourcing. */
function knownUnset(name: string): boolean {
  if (SCHEMA_ALL.has(name) || name === 'srcdir' || name === 'pkgdir') return true;
  const u = name.indexOf('_');
  if (u > 0 && SCHEMA_ARCH.includes(name.slice(0, u))) return true;
  return false;
}

/** Whether a variable that the PKGBUILD never set may hold something at sourcing time. */
function possiblySetOutside(name: string): boolean {
  if (knownUnset(name)) return false;
  if (MAKEPKG_SET.has(name)) return true;
  // environment and makepkg.conf variables are upper case by convention
  return /[A-Z]/.test(name) && !/[a-z]/.test(name);
}

/** CHOST makepkg.conf would set for a CARCH (Arch Linux conventions). */
export function chostFor(carch: string): string {
  switch (carch) {
    case 'x86_64': case 'x86_64_v2': case 'x86_64_v3': case 'x86_64_v4': return 'x86_64-pc-linux-gnu';
    case 'i686': case 'pentium4': return 'i686-pc-linux-gnu';
    case 'aarch64': return 'aarch64-unknown-linux-gnu';
    case 'armv7h': return 'armv7l-unknown-linux-gnueabihf';
    case 'armv6h': return 'armv6l-unknown-linux-gnueabihf';
    case 'riscv64': return 'riscv64-unknown-linux-gnu';
    default: return `${carch}-unknown-linux-gnu`;
  }
}

const BUILTIN_OUTPUT = new Set(['echo', 'printf', 'cat', 'plain', 'msg', 'msg2', 'warning', 'error', 'ls', 'pwd', 'env', 'printenv', 'yes', 'seq', 'date', 'uname', 'tee', 'head', 'tail', 'grep', 'sed', 'awk']);
const MAKEPKG_MESSAGE_FUNCS = new Set(['msg', 'msg2', 'plain', 'warning', 'error', 'plainerr']);
const VAR_SETTING_BUILTINS = new Set(['read', 'mapfile', 'readarray', 'getopts', 'printf']);
const CHAOS_BUILTINS = new Set(['eval', 'source', '.', 'enable', 'alias', 'trap', 'exec', 'builtin', 'command', 'shopt', 'set', 'cd', 'pushd', 'popd', 'hash', 'coproc', 'wait', 'kill', 'caller', 'compgen', 'complete']);

/** One field of a word during expansion: segments with their quoting. */
type Seg = { t: string; q: 0 | 1 | 2 }; // 0 = unquoted literal, 1 = quoted, 2 = unquoted expansion result

interface Field {
  segs: Seg[];
  quoted: boolean; // holds a quoted part (an empty "" still makes a field)
}

/** Result of expanding one parameter expansion: a string or a list (`${a[@]}`). */
type PVal = { list: false; s: string; segs?: (Seg | typeof BREAK)[] } | { list: true; items: string[]; star: boolean };

export interface EvalResult {
  /** Final global variables (locals of `source_safe` are gone). */
  globals: Map<string, ShellVar>;
  functions: Map<string, { def: FunctionDefinition; uncertain: boolean }>;
  diagnostics: Diagnostic[];
  isStatic: boolean;
  /** Range of the last top-level assignment of each variable. */
  assignRanges: Map<string, Range>;
  /** All later reads are unknown (eval, source…). */
  chaos: boolean;
}

const MAX_STEPS = 100_000;
const MAX_LOOP = 1_000;
const MAX_VALUE_CHARS = 1 << 20;
const MAX_ARRAY = 1 << 16;

/**
 * Evaluates scripts statically. One instance evaluates one PKGBUILD's top level; the override
 * extractor reuses {@link Evaluator.evalAssignmentIn} with its own variable scope.
 */
export class Evaluator {
  readonly globals = new Map<string, ShellVar>();
  readonly locals = new Map<string, ShellVar>();
  readonly functions = new Map<string, { def: FunctionDefinition; uncertain: boolean }>();
  readonly diagnostics: Diagnostic[] = [];
  readonly assignRanges = new Map<string, Range>();
  isStatic = true;
  chaos = false;
  lastStatus: Status = 0;
  steps = 0;
  subshellDepth = 0;
  /** >0 while inside a top-level function call made visible (not used for top level). */
  /** Source text the AST ranges refer to (needed by brace expansion). */
  src: string;
  private readonly carch: string;
  private readonly locale: 'C' | 'C.UTF-8';
  /** Extra lookup for names not set (overrides: the package name etc.). */
  fallback: ((name: string) => ShellVar | undefined) | undefined;
  /** When true, reading an unset variable never consults makepkg/env rules (override mode). */
  overrideMode = false;
  /** Depth of conditional evaluation (for diagnostics). */
  private seenDiag = new Set<string>();

  constructor(src: string, opts: EvalOptions) {
    this.src = src;
    this.carch = opts.carch;
    this.locale = opts.locale ?? 'C';
  }

  // -------------------------------------------------------------------------------------------
  // Diagnostics

  diag(code: string, severity: Diagnostic['severity'], message: string, range: Range): void {
    const key = `${code}@${range.start.offset}-${range.end.offset}`;
    if (this.seenDiag.has(key)) return;
    this.seenDiag.add(key);
    this.diagnostics.push({ code, severity, message, range });
  }

  dynamic(u: Unknown): void {
    this.isStatic = false;
    if (!u.silent && u.range) this.diag(u.code, 'warning', u.reason, u.range);
  }

  // -------------------------------------------------------------------------------------------
  // Variables

  lookup(name: string): ShellVar | undefined {
    const l = this.locals.get(name);
    if (l) return l;
    const g = this.globals.get(name);
    if (g) return g;
    return undefined;
  }

  /** Value-level read with makepkg's environment rules. Throws Unknown. */
  readVar(name: string, range: Range): ShellVar | undefined {
    const v = this.lookup(name);
    if (v) {
      if (v.unknown) throw new Unknown(`\`${name}' has a value that is not known statically`, range, 'W_DYNAMIC', true);
      return v;
    }
    if (this.fallback) {
      const f = this.fallback(name);
      if (f) return f;
    }
    if (this.chaos) throw new Unknown(`\`${name}' may have been changed by code that cannot be evaluated statically`, range, 'W_DYNAMIC', true);
    if (name === 'CARCH') return { kind: 's', scalar: this.carch };
    if (name === 'CHOST') return { kind: 's', scalar: chostFor(this.carch) };
    if (possiblySetOutside(name)) {
      throw new Unknown(`\`${name}' is set by makepkg or the environment; its value is not known statically`, range, 'W_UNKNOWN_VARIABLE');
    }
    return undefined;
  }

  setVar(name: string, v: ShellVar, local = false): void {
    if (local) {
      this.locals.set(name, v);
      return;
    }
    if (this.locals.has(name)) this.locals.set(name, v);
    else this.globals.set(name, v);
  }

  markUnknown(name: string): void {
    const cur = this.lookup(name);
    const v: ShellVar = { kind: cur?.kind ?? 's', unknown: true };
    if (cur?.ro) v.ro = true;
    this.setVar(name, v);
  }

  /** Scalar string of a variable (element 0 for arrays), undefined when unset. */
  scalarOf(v: ShellVar | undefined): string | undefined {
    if (!v || v.unset) return undefined;
    if (v.kind === 's') return v.scalar;
    if (v.kind === 'a') return v.arr?.get(0);
    return v.assoc?.get('0');
  }

  /** Elements in index order. */
  elementsOf(v: ShellVar | undefined, range: Range): string[] {
    if (!v || v.unset) return [];
    if (v.kind === 's') return v.scalar === undefined ? [] : [v.scalar];
    if (v.kind === 'a') return arrayElements(v.arr as Map<number, string>);
    if ((v.assoc?.size ?? 0) > 1) throw new Unknown('the order of an associative array\'s elements is bash\'s hash order', range, 'W_UNSUPPORTED');
    return [...(v.assoc as Map<string, string>).values()];
  }

  // -------------------------------------------------------------------------------------------
  // Top level

  run(script: Script): EvalResult {
    try {
      this.runList(script.body, true);
    } catch (e) {
      if (e instanceof ReturnSignal) {
        this.lastStatus = e.status === undefined ? this.lastStatus : e.status;
      } else if (e instanceof BreakSignal) {
        // break outside a loop: bash ignores it
      } else throw e;
    }
    return {
      globals: this.globals, functions: this.functions, diagnostics: this.diagnostics, isStatic: this.isStatic,
      assignRanges: this.assignRanges, chaos: this.chaos,
    };
  }

  runList(list: Statement[], top = false): void {
    for (let i = 0; i < list.length; i++) {
      const st = list[i] as Statement;
      if (++this.steps > MAX_STEPS) {
        this.diag('W_EVAL_LIMIT', 'warning', 'evaluation stopped: too many steps', st.range);
        this.goChaos();
        return;
      }
      if (st.background) {
        // runs in a subshell: no effect on variables, exit status 0
        this.noteEffects(st, 'a background command (`&`) runs asynchronously');
        this.lastStatus = 0;
        continue;
      }
      try {
        this.runAndOr(st.list);
      } catch (e) {
        if (!(e instanceof ShellError)) throw e;
        // bash reports the expansion error and abandons the command (status 1)
        this.diag(e.fatal ? 'E_SOURCE_FAILS' : 'E_EXPANSION', 'error', e.message, e.range);
        this.lastStatus = 1;
        if (e.fatal) {
          this.goChaos();
          throw new ReturnSignal(1);
        }
      }
      void top;
    }
  }

  runAndOr(list: AndOrList): void {
    const pipes = list.pipelines;
    this.runPipeline(pipes[0] as Pipeline);
    for (let i = 0; i < list.operators.length; i++) {
      const op = list.operators[i];
      const next = pipes[i + 1] as Pipeline;
      const st = this.lastStatus;
      if (st === undefined) {
        // cannot tell whether the rest runs
        this.uncertain(next, 'the exit status before `' + op + '` is not known statically');
        for (let j = i + 2; j < pipes.length; j++) this.uncertain(pipes[j] as Pipeline, 'the exit status before `' + list.operators[j - 1] + '` is not known statically');
        this.lastStatus = undefined;
        return;
      }
      const runs = op === '&&' ? st === 0 : st !== 0;
      if (runs) this.runPipeline(next);
    }
  }

  runPipeline(p: Pipeline): void {
    if (p.commands.length > 1) {
      // every part runs in a subshell: variables are not changed, but output and status are unknown
      for (const c of p.commands) this.noteEffects(c, 'a pipeline runs its commands in subshells');
      this.dynamicAt(p.range, 'W_DYNAMIC', 'a pipeline cannot be evaluated statically');
      this.lastStatus = undefined;
      return;
    }
    this.runCommand(p.commands[0] as Command);
    if (p.negated && this.lastStatus !== undefined) this.lastStatus = this.lastStatus === 0 ? 1 : 0;
  }

  dynamicAt(range: Range, code: string, message: string): void {
    this.isStatic = false;
    this.diag(code, 'warning', message, range);
  }

  goChaos(): void {
    this.chaos = true;
    this.isStatic = false;
    for (const [k, v] of this.globals) this.globals.set(k, { kind: v.kind, unknown: true });
    for (const [k, v] of this.locals) this.locals.set(k, { kind: v.kind, unknown: true });
    for (const f of this.functions.values()) f.uncertain = true;
  }

  /**
   * A construct that may or may not run (or runs an unknown number of times): every variable
   * it can assign becomes unknown, functions it defines become uncertain.
   */
  /** Sets `lastStatus` from a condition (`[[ ]]`, `test`, `[`): 2 on a bad expression, unknown when a value in it is. */
  testStatus(compute: () => boolean): void {
    try {
      this.lastStatus = compute() ? 0 : 1;
    } catch (e) {
      if (e instanceof ShellError) {
        this.lastStatus = 2;
        return;
      }
      if (!(e instanceof Unknown)) throw e;
      this.dynamic(e);
      this.lastStatus = undefined;
    }
  }

  /**
   * Sets `lastStatus` from an arithmetic evaluation (`(( ))`, `let`): bash's error status 1 with an
   * `E_ARITHMETIC` diagnostic on a bad expression, unknown when a value in it is.
   */
  arithStatus(cmd: Command, why: string, compute: () => number): void {
    try {
      this.lastStatus = compute();
    } catch (e) {
      if (e instanceof ShellError) {
        this.diag('E_ARITHMETIC', 'error', e.message, e.range);
        this.lastStatus = 1;
        return;
      }
      if (!(e instanceof Unknown)) throw e;
      this.dynamic(e);
      this.uncertain(cmd, why);
      this.lastStatus = undefined;
    }
  }

  uncertain(node: Statement | Pipeline | Command | Statement[], why: string): void {
    void why;
    this.isStatic = false;
    const eff = collectEffects(node, this.functions);
    if (eff.chaos) {
      this.goChaos();
      return;
    }
    for (const n of eff.vars) this.markUnknown(n);
    for (const f of eff.functions) {
      const cur = this.functions.get(f.name);
      if (cur) cur.uncertain = true;
      else this.functions.set(f.name, { def: f, uncertain: true });
    }
    if (eff.output) {
      for (const r of eff.output) this.diag('W_TOPLEVEL_OUTPUT', 'warning', 'this command may print to stdout while makepkg sources the PKGBUILD; the output would end up in .SRCINFO', r);
    }
  }

  /** A construct running in a subshell: only its output matters. */
  noteEffects(node: Statement | Command, why: string): void {
    void why;
    const eff = collectEffects(node, this.functions);
    this.isStatic = false;
    for (const r of eff.output) this.diag('W_TOPLEVEL_OUTPUT', 'warning', 'this command may print to stdout while makepkg sources the PKGBUILD; the output would end up in .SRCINFO', r);
    this.diag('W_DYNAMIC', 'warning', 'this construct cannot be evaluated statically', node.range);
  }

  runCommand(cmd: Command): void {
    switch (cmd.type) {
      case 'SimpleCommand': this.runSimple(cmd); return;
      case 'FunctionDefinition':
        this.functions.set(cmd.name, { def: cmd, uncertain: false });
        this.lastStatus = 0;
        return;
      default:
        if (cmd.redirects.length > 0 && !this.redirectsHarmless(cmd.redirects)) {
          this.uncertain(cmd, 'redirection');
          this.lastStatus = undefined;
          this.dynamicAt(cmd.range, 'W_DYNAMIC', 'a compound command with redirections cannot be evaluated statically');
          return;
        }
        this.runCompound(cmd);
    }
  }

  redirectsHarmless(rs: Redirect[]): boolean {
    for (const r of rs) {
      if (r.heredoc || r.op === '<<<') {
        // input for the command: harmless unless expanding it runs code
        if (r.heredoc?.quoted) continue;
        try {
          this.expandScalar(r.heredoc ? r.heredoc.content : r.target, false);
        } catch (e) {
          if (!(e instanceof Unknown)) throw e;
          this.dynamic(e);
          return false;
        }
        continue;
      }
      const t = r.target.text;
      if ((r.op === '>' || r.op === '>>' || r.op === '&>' || r.op === '&>>') && t === '/dev/null') continue;
      if (r.op === '>&' && (t === '2' || t === '1') && (r.fd === undefined || r.fd === '1' || r.fd === '2')) continue;
      return false;
    }
    return true;
  }

  /** Does this command's stdout go somewhere other than makepkg's stdout? */
  stdoutRedirected(rs: Redirect[]): boolean {
    let out = false;
    for (const r of rs) {
      const fd = r.fd ?? (r.op.startsWith('<') ? '0' : '1');
      if (r.op === '&>' || r.op === '&>>') out = true;
      else if (fd === '1' && (r.op === '>' || r.op === '>>' || r.op === '>|' || r.op === '>&')) out = r.target.text !== '1';
    }
    return out;
  }

  runCompound(cmd: CompoundCommand): void {
    switch (cmd.type) {
      case 'BraceGroup':
        this.runList(cmd.body);
        return;
      case 'Subshell': {
        // runs in a copy of the shell: variable and function changes are discarded
        const g = new Map(this.globals);
        const l = new Map(this.locals);
        const f = new Map([...this.functions].map(([k, v]) => [k, { ...v }]));
        const chaos = this.chaos;
        this.subshellDepth++;
        try {
          this.runList(cmd.body);
        } catch (e) {
          if (e instanceof ReturnSignal) this.lastStatus = e.status;
          else if (!(e instanceof BreakSignal)) throw e;
        } finally {
          this.globals.clear();
          for (const [k, v] of g) this.globals.set(k, v);
          this.locals.clear();
          for (const [k, v] of l) this.locals.set(k, v);
          this.functions.clear();
          for (const [k, v] of f) this.functions.set(k, v);
          this.chaos = chaos;
          this.subshellDepth--;
        }
        return;
      }
      case 'If': {
        for (let i = 0; i < cmd.clauses.length; i++) {
          const cl = cmd.clauses[i] as (typeof cmd.clauses)[number];
          this.runList(cl.condition);
          const st = this.lastStatus;
          if (st === undefined) {
            this.diag('W_UNKNOWN_CONDITION', 'warning', 'this condition cannot be decided statically; everything its branches assign is unknown', rangeOfList(cl.condition, cl.range));
            for (let j = i; j < cmd.clauses.length; j++) {
              const c2 = cmd.clauses[j] as (typeof cmd.clauses)[number];
              if (j > i) this.uncertain(c2.condition, 'condition');
              this.uncertain(c2.body, 'branch');
            }
            if (cmd.elseBody) this.uncertain(cmd.elseBody, 'branch');
            this.lastStatus = undefined;
            return;
          }
          if (st === 0) {
            this.lastStatus = 0;
            this.runList(cl.body);
            return;
          }
        }
        this.lastStatus = 0;
        if (cmd.elseBody) this.runList(cmd.elseBody);
        return;
      }
      case 'Case': {
        let word: string;
        try {
          word = this.expandScalar(cmd.word, false);
        } catch (e) {
          if (!(e instanceof Unknown)) throw e;
          this.dynamic(e);
          this.diag('W_UNKNOWN_CONDITION', 'warning', 'the `case` word is not known statically; everything its branches assign is unknown', cmd.word.range);
          for (const it of cmd.items) this.uncertain(it.body, 'case');
          this.lastStatus = undefined;
          return;
        }
        this.lastStatus = 0;
        let fall = false;
        for (let i = 0; i < cmd.items.length; i++) {
          const it = cmd.items[i] as (typeof cmd.items)[number];
          let matched = fall;
          if (!matched) {
            for (const pw of it.patterns) {
              let m: boolean;
              try {
                m = this.matchWordPattern(word, pw);
              } catch (e) {
                if (!(e instanceof Unknown)) throw e;
                this.dynamic(e);
                this.diag('W_UNKNOWN_CONDITION', 'warning', 'this `case` pattern cannot be matched statically; everything the remaining branches assign is unknown', pw.range);
                for (let j = i; j < cmd.items.length; j++) this.uncertain((cmd.items[j] as typeof it).body, 'case');
                this.lastStatus = undefined;
                return;
              }
              if (m) {
                matched = true;
                break;
              }
            }
          }
          if (!matched) continue;
          this.runList(it.body);
          if (it.terminator === ';&') {
            fall = true;
            continue;
          }
          fall = false;
          if (it.terminator === ';;&') continue;
          return;
        }
        return;
      }
      case 'For': {
        let words: string[];
        try {
          if (!cmd.words) throw new Unknown('`for` without `in` iterates the positional parameters, which are not known statically', cmd.range);
          words = [];
          for (const w of cmd.words) for (const f of this.expandFields(w)) words.push(f);
        } catch (e) {
          if (!(e instanceof Unknown)) throw e;
          this.dynamic(e);
          this.markUnknown(cmd.variable);
          this.uncertain(cmd.body, 'loop');
          this.lastStatus = undefined;
          return;
        }
        this.lastStatus = 0;
        for (const w of words) {
          if (!this.assignScalar(cmd.variable, w, cmd.variableRange, false)) break;
          if (this.loopBody(cmd.body)) break;
        }
        return;
      }
      case 'ArithFor': {
        try {
          this.arith(cmd.init);
          let n = 0;
          this.lastStatus = 0;
          for (;;) {
            if (cmd.test.text.trim() !== '' && this.arith(cmd.test) === 0n) break;
            if (++n > MAX_LOOP) throw new Unknown('this loop runs too many times to evaluate statically', cmd.range, 'W_LOOP_LIMIT');
            if (this.loopBody(cmd.body)) break;
            this.arith(cmd.update);
          }
        } catch (e) {
          if (!(e instanceof Unknown)) throw e;
          this.dynamic(e);
          this.uncertain(cmd, 'loop');
          this.lastStatus = undefined;
        }
        return;
      }
      case 'While': {
        let n = 0;
        for (;;) {
          this.runList(cmd.condition);
          const st = this.lastStatus;
          if (st === undefined) {
            this.diag('W_UNKNOWN_CONDITION', 'warning', 'this loop condition cannot be decided statically; everything the loop assigns is unknown', rangeOfList(cmd.condition, cmd.range));
            this.uncertain(cmd, 'loop');
            this.lastStatus = undefined;
            return;
          }
          if (cmd.until ? st === 0 : st !== 0) break;
          if (++n > MAX_LOOP) {
            this.dynamicAt(cmd.range, 'W_LOOP_LIMIT', 'this loop runs too many times to evaluate statically');
            this.uncertain(cmd, 'loop');
            this.lastStatus = undefined;
            return;
          }
          if (this.loopBody(cmd.body)) break;
        }
        this.lastStatus = 0;
        return;
      }
      case 'Select':
        this.dynamicAt(cmd.range, 'W_DYNAMIC', '`select` reads from stdin');
        this.uncertain(cmd, 'select');
        this.lastStatus = undefined;
        return;
      case 'Test':
        this.testStatus(() => this.evalTest(cmd.expr));
        return;
      case 'Arith':
        this.arithStatus(cmd, 'arith', () => (this.arith(cmd.expr) !== 0n ? 0 : 1));
        return;
    }
  }

  /** Runs a loop body; returns true when the loop must stop (break). */
  loopBody(body: Statement[]): boolean {
    try {
      this.runList(body);
    } catch (e) {
      if (e instanceof BreakSignal) {
        if (e.levels > 1) {
          e.levels--;
          throw e;
        }
        return !e.cont;
      }
      throw e;
    }
    return false;
  }

  // -------------------------------------------------------------------------------------------
  // Simple commands

  runSimple(cmd: SimpleCommand): void {
    if (!cmd.name) {
      // assignments only (redirections alone create files: harmless for metadata)
      let status: Status = 0;
      for (const a of cmd.assignments) {
        const r = this.runAssignment(a, false, false);
        if (r === false) status = 1;
        else if (r === undefined) status = undefined;
      }
      if (cmd.redirects.length > 0 && !this.redirectsHarmless(cmd.redirects)) {
        this.dynamicAt(cmd.range, 'W_DYNAMIC', 'a redirection without a command cannot be evaluated statically');
      }
      this.lastStatus = status;
      return;
    }
    let argv: string[];
    try {
      argv = this.expandFields(cmd.name);
      const isLet = argv[0] === 'let';
      for (const a of cmd.args) {
        if (a.type === 'Word') for (const f of this.expandFields(a, isLet)) argv.push(f);
        else argv.push('\0assign');
      }
    } catch (e) {
      if (!(e instanceof Unknown)) throw e;
      this.dynamic(e);
      this.unknownCommand(cmd, 'the command line cannot be expanded statically');
      return;
    }
    const name = argv[0];
    if (name === undefined) {
      // `$empty` expands to nothing: the assignments become plain assignments
      for (const a of cmd.assignments) this.runAssignment(a, false, false);
      this.lastStatus = 0;
      return;
    }
    // prefix assignments on a command apply to that command only (except special builtins…)
    if (cmd.assignments.length > 0 && !['declare', 'typeset', 'local', 'export', 'readonly', ':', 'true', 'false', 'unset', 'test', '['].includes(name)) {
      this.unknownCommand(cmd, `\`${name}' with prefix assignments cannot be evaluated statically`);
      return;
    }
    if (this.functions.has(name)) {
      this.callFunction(cmd, name);
      return;
    }
    const outputOk = this.stdoutRedirected(cmd.redirects);
    const harmless = cmd.redirects.length === 0 || this.redirectsHarmless(cmd.redirects);
    switch (name) {
      case ':': case 'true':
        if (!harmless) return this.unknownCommand(cmd, 'redirection');
        this.lastStatus = 0;
        return;
      case 'false':
        if (!harmless) return this.unknownCommand(cmd, 'redirection');
        this.lastStatus = 1;
        return;
      case 'declare': case 'typeset': case 'local': case 'export': case 'readonly':
        if (!harmless) return this.unknownCommand(cmd, 'redirection');
        this.runDeclare(cmd, name, argv);
        return;
      case 'unset':
        if (!harmless) return this.unknownCommand(cmd, 'redirection');
        this.runUnset(cmd, argv);
        return;
      case 'let': {
        if (!harmless) return this.unknownCommand(cmd, 'redirection');
        this.arithStatus(cmd, 'let', () => {
          let v = 0n;
          for (const expr of argv.slice(1)) v = this.arithText(expr, cmd.range);
          return argv.length < 2 ? 1 : v !== 0n ? 0 : 1;
        });
        return;
      }
      case 'test': case '[': {
        if (!harmless) return this.unknownCommand(cmd, 'redirection');
        let args = argv.slice(1);
        if (name === '[') {
          if (args[args.length - 1] !== ']') {
            this.diag('E_TEST', 'error', '`[`: missing `]`', cmd.range);
            this.lastStatus = 2;
            return;
          }
          args = args.slice(0, -1);
        }
        this.testStatus(() => this.classicTest(args, cmd.range));
        return;
      }
      case 'return':
        if (argv.length > 1 && !/^[0-9]+$/.test(argv[1] as string)) {
          this.lastStatus = 2;
          throw new ReturnSignal(2);
        }
        throw new ReturnSignal(argv.length > 1 ? Number(argv[1]) & 255 : this.lastStatus);
      case 'break': case 'continue': {
        const n = argv.length > 1 ? Number(argv[1]) : 1;
        if (!Number.isInteger(n) || n < 1) return this.unknownCommand(cmd, 'break count');
        throw new BreakSignal(n, name === 'continue');
      }
      case 'exit':
        if (this.subshellDepth > 0) {
          const code = argv.length > 1 && /^[0-9]+$/.test(argv[1] as string) ? Number(argv[1]) & 255 : this.lastStatus;
          throw new ReturnSignal(code);
        }
        this.isStatic = false;
        this.diag('E_SOURCE_FAILS', 'error', '`exit` at the top level ends makepkg itself while it reads the PKGBUILD', cmd.range);
        this.goChaos();
        throw new ReturnSignal(undefined);
      case 'echo': case 'printf':
        if (name === 'printf' && argv.some((a, i) => i > 0 && a.startsWith('-v'))) {
          return this.unknownCommand(cmd, '`printf -v` assigns a variable');
        }
        if (!outputOk) {
          this.isStatic = false;
          this.diag('W_TOPLEVEL_OUTPUT', 'warning', `\`${name}' prints to stdout while makepkg sources the PKGBUILD; the output would end up in .SRCINFO`, cmd.range);
        } else if (!harmless) {
          return this.unknownCommand(cmd, 'redirection');
        }
        this.lastStatus = 0;
        return;
      default:
        break;
    }
    if (CHAOS_BUILTINS.has(name)) {
      const code = name === 'eval' ? 'W_EVAL' : name === 'source' || name === '.' ? 'W_SOURCE' : 'W_DYNAMIC';
      this.dynamicAt(cmd.range, code, `\`${name}' runs code or changes the shell in ways that cannot be evaluated statically; every later value is unknown`);
      this.goChaos();
      this.lastStatus = undefined;
      return;
    }
    if (VAR_SETTING_BUILTINS.has(name)) {
      this.unknownCommand(cmd, `\`${name}' sets variables from input`);
      for (const a of argv.slice(1)) if (isName(a)) this.markUnknown(a);
      if (name === 'read' || name === 'mapfile' || name === 'readarray') {
        if (!argv.slice(1).some(isName)) this.markUnknown(name === 'read' ? 'REPLY' : 'MAPFILE');
      }
      return;
    }
    this.unknownCommand(cmd, MAKEPKG_MESSAGE_FUNCS.has(name)
      ? `\`${name}' is a makepkg function; calling it while the PKGBUILD is sourced cannot be evaluated statically`
      : `\`${name}' is an external command: its effect cannot be known without running it`);
  }

  unknownCommand(cmd: SimpleCommand, why: string): void {
    this.isStatic = false;
    const name = cmd.name?.text ?? '';
    this.diag(BUILTIN_OUTPUT.has(name) ? 'W_DYNAMIC' : 'W_EXTERNAL_COMMAND', 'warning', why, cmd.range);
    if (!this.stdoutRedirected(cmd.redirects)) {
      this.diag('W_TOPLEVEL_OUTPUT', 'warning', 'this command may print to stdout while makepkg sources the PKGBUILD; the output would end up in .SRCINFO', cmd.range);
    }
    // prefix assignments and declaration arguments it might make
    for (const a of cmd.assignments) this.markUnknown(a.name);
    this.lastStatus = undefined;
  }

  callFunction(cmd: SimpleCommand, name: string): void {
    const fn = this.functions.get(name) as { def: FunctionDefinition; uncertain: boolean };
    this.dynamicAt(cmd.range, 'W_FUNCTION_CALL', `calling \`${name}' at the top level runs code that is not evaluated statically; what it assigns is unknown`);
    const eff = collectEffects(fn.def.body, this.functions);
    if (eff.chaos) this.goChaos();
    else for (const v of eff.vars) this.markUnknown(v);
    for (const f of eff.functions) {
      const cur = this.functions.get(f.name);
      if (cur) cur.uncertain = true;
      else this.functions.set(f.name, { def: f, uncertain: true });
    }
    if (!this.stdoutRedirected(cmd.redirects)) {
      for (const r of eff.output) this.diag('W_TOPLEVEL_OUTPUT', 'warning', 'this command may print to stdout while makepkg sources the PKGBUILD; the output would end up in .SRCINFO', r);
    }
    this.lastStatus = undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Assignments and declarations

  /**
   * Runs one assignment. Returns true on success, false on a bash error (status 1), undefined
   * when the value is unknown.
   */
  runAssignment(a: Assignment, local: boolean, declFlags: false | { array?: boolean; assoc?: boolean; int?: boolean; ro?: boolean; exp?: boolean }): boolean | undefined {
    const cur = local ? this.locals.get(a.name) : this.lookup(a.name);
    if (cur?.ro) {
      this.diag('E_READONLY', 'error', `\`${a.name}': readonly variable`, a.range);
      return false;
    }
    this.assignRanges.set(a.name, a.range);
    try {
      let target: ShellVar;
      const base = a.append || a.index ? (cur ?? (local ? undefined : this.fallbackVar(a.name, a.nameRange))) : undefined;
      if (base?.unknown) throw new Unknown(`\`${a.name}' has a value that is not known statically`, a.nameRange, 'W_DYNAMIC', true);
      const isAssoc = (declFlags && declFlags.assoc) || base?.kind === 'A' || (cur?.kind === 'A');
      const intAttr = (declFlags && declFlags.int) || cur?.int === true;
      if (a.value.type === 'ArrayLiteral') {
        if (isAssoc) target = this.assocLiteral(a.value, a.append ? base : undefined);
        else {
          const items = this.arrayLiteral(a.value, intAttr);
          const m = new Map<number, string>();
          let next = 0;
          if (a.append && base && !base.unset) {
            if (base.kind === 'a') (base.arr as Map<number, string>).forEach((v, k) => m.set(k, v));
            else if (base.kind === 's' && base.scalar !== undefined) m.set(0, base.scalar);
            next = maxKey(m) + 1;
          }
          for (const it of items) {
            if (it.key !== undefined) next = it.key;
            m.set(next, it.value);
            next++;
          }
          target = { kind: 'a', arr: m };
        }
      } else {
        let val = this.expandScalar(a.value, true);
        if (intAttr) val = String(this.arithText(val, a.value.range));
        if (a.index) {
          target = this.assignIndex(a, base, val, isAssoc === true);
        } else if (base && !base.unset && a.append) {
          if (base.kind === 'a') {
            const m = new Map(base.arr);
            const old = m.get(0) ?? '';
            m.set(0, intAttr ? String(this.arithText(`${old || 0}+(${val})`, a.range)) : old + val);
            target = { kind: 'a', arr: m };
          } else if (base.kind === 'A') {
            const m = new Map(base.assoc);
            m.set('0', (m.get('0') ?? '') + val);
            target = { kind: 'A', assoc: m };
          } else {
            const old = base.scalar ?? '';
            target = { kind: 's', scalar: intAttr ? String(this.arithText(`${old || 0}+(${val})`, a.range)) : old + val };
          }
        } else if (cur && cur.kind === 'a' && !cur.unset) {
          const m = new Map(cur.arr);
          m.set(0, val);
          target = { kind: 'a', arr: m };
        } else if (cur && cur.kind === 'A' && !cur.unset) {
          const m = new Map(cur.assoc);
          m.set('0', val);
          target = { kind: 'A', assoc: m };
        } else target = { kind: declFlags && declFlags.array ? 'a' : 's', scalar: val };
        if (target.kind === 'a' && target.arr === undefined) target = { kind: 'a', arr: new Map([[0, val]]) };
      }
      if ((target.arr?.size ?? 0) > MAX_ARRAY || (target.scalar?.length ?? 0) > MAX_VALUE_CHARS || (target.assoc?.size ?? 0) > MAX_ARRAY) {
        throw new Unknown('this value grows beyond what the static evaluator keeps (1 MiB or 65536 elements)', a.range, 'W_EVAL_LIMIT');
      }
      if (intAttr) target.int = true;
      if (cur?.exp || (declFlags && declFlags.exp)) target.exp = true;
      if (declFlags && declFlags.ro) target.ro = true;
      this.setVar(a.name, target, local);
      return true;
    } catch (e) {
      if (e instanceof ShellError) {
        this.diag(e.fatal ? 'E_SOURCE_FAILS' : 'E_EXPANSION', 'error', e.message, e.range);
        if (e.fatal) {
          this.isStatic = false;
          this.goChaos();
        }
        return false;
      }
      if (!(e instanceof Unknown)) throw e;
      this.dynamic(e);
      const v: ShellVar = { kind: a.value.type === 'ArrayLiteral' ? 'a' : (cur?.kind ?? 's'), unknown: true };
      this.setVar(a.name, v, local);
      return undefined;
    }
  }

  fallbackVar(name: string, range: Range): ShellVar | undefined {
    if (this.fallback) return this.fallback(name);
    if (this.chaos) throw new Unknown(`\`${name}' may have been changed by code that cannot be evaluated statically`, range, 'W_DYNAMIC', true);
    if (possiblySetOutside(name)) throw new Unknown(`\`${name}' is set by makepkg or the environment`, range, 'W_UNKNOWN_VARIABLE');
    return undefined;
  }

  assignIndex(a: Assignment, base: ShellVar | undefined, val: string, assoc: boolean): ShellVar {
    const idxWord = a.index as Word;
    if (assoc) {
      const key = this.expandScalar(idxWord, false);
      const m = new Map(base?.kind === 'A' ? base.assoc : undefined);
      m.set(key, a.append ? (m.get(key) ?? '') + val : val);
      return { kind: 'A', assoc: m };
    }
    const m = new Map<number, string>();
    if (base && !base.unset) {
      if (base.kind === 'a') (base.arr as Map<number, string>).forEach((v, k) => m.set(k, v));
      else if (base.kind === 's' && base.scalar !== undefined) m.set(0, base.scalar);
    }
    let idx = this.indexValue(idxWord);
    if (idx < 0) {
      const max = maxKey(m);
      idx = max + 1 + idx;
      if (idx < 0) throw new ShellError(`\`${a.name}[…]': bad array subscript`, idxWord.range);
    }
    m.set(idx, a.append ? (m.get(idx) ?? '') + val : val);
    return { kind: 'a', arr: m };
  }

  indexValue(w: Word): number {
    const t = this.expandScalar(w, false);
    const v = this.arithText(t, w.range);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw new Unknown('array index out of the supported range', w.range, 'W_UNSUPPORTED');
    return Number(v);
  }

  arrayLiteral(lit: ArrayLiteral, intAttr: boolean): { key?: number; value: string }[] {
    const out: { key?: number; value: string }[] = [];
    for (const el of lit.elements) {
      if (el.key) {
        let v = this.expandScalar(el.value, true);
        if (intAttr) v = String(this.arithText(v, el.value.range));
        out.push({ key: this.indexValue(el.key), value: v });
        continue;
      }
      for (const f of this.expandFields(el.value)) out.push({ value: intAttr ? String(this.arithText(f, el.value.range)) : f });
    }
    return out;
  }

  assocLiteral(lit: ArrayLiteral, base: ShellVar | undefined): ShellVar {
    const m = new Map<string, string>(base?.kind === 'A' ? base.assoc : undefined);
    for (const el of lit.elements) {
      if (!el.key) throw new Unknown('associative array literal without keys', el.range, 'W_UNSUPPORTED');
      m.set(this.expandScalar(el.key, false), this.expandScalar(el.value, true));
    }
    return { kind: 'A', assoc: m };
  }

  /** Assigns a plain scalar (for loops, arithmetic). Returns false on readonly error. */
  assignScalar(name: string, value: string, range: Range, local: boolean): boolean {
    const cur = this.lookup(name);
    if (cur?.ro) {
      this.diag('E_READONLY', 'error', `\`${name}': readonly variable`, range);
      return false;
    }
    if (cur && cur.kind === 'a' && !cur.unknown) {
      const m = new Map(cur.arr);
      m.set(0, value);
      this.setVar(name, { ...cur, arr: m, unset: false }, local);
    } else this.setVar(name, { kind: 's', scalar: value, ...(cur?.int ? { int: true } : {}) }, local);
    this.assignRanges.set(name, range);
    return true;
  }

  runDeclare(cmd: SimpleCommand, name: string, argv: string[]): void {
    const flags: { array?: boolean; assoc?: boolean; int?: boolean; ro?: boolean; exp?: boolean } = {};
    let global = name === 'export' || name === 'readonly';
    let print = false;
    let funcs = false;
    let remove = false;
    let argIdx = 0;
    let status: Status = 0;
    if (name === 'export') flags.exp = true;
    if (name === 'readonly') flags.ro = true;
    for (const a of cmd.args) {
      if (a.type === 'Assignment') {
        // local at top level: makepkg sources the PKGBUILD inside a function, so it is allowed
        if (remove) {
          status = this.runAssignment(a, !global, false) === true ? status : 1;
          continue;
        }
        const r = this.runAssignment(a, !global, flags);
        if (r === false) status = 1;
        else if (r === undefined && status === 0) status = undefined;
        if (!global && !this.overrideMode) {
          this.diag('W_LOCAL_DECLARATION', 'warning', `\`${name} ${a.name}=…' creates a variable local to makepkg's \`source_safe\` function: it is gone when makepkg reads the PKGBUILD's variables (use a plain assignment or \`declare -g\`)`, a.range);
        }
        continue;
      }
      argIdx++;
      const text = argv[1 + cmd.args.indexOf(a)] ?? a.text;
      if (/^[-+][a-zA-Z]+$/.test(text)) {
        const on = text[0] === '-';
        for (const f of text.slice(1)) {
          switch (f) {
            case 'a': flags.array = on; break;
            case 'A': flags.assoc = on; break;
            case 'i': flags.int = on; break;
            case 'r': if (on) flags.ro = true; break;
            case 'x': flags.exp = on; break;
            case 'g': global = on; break;
            case 'p': print = true; break;
            case 'f': case 'F': funcs = true; break;
            case 'n': case 'u': case 'l': case 'c': case 't': case 'I':
              this.unknownCommand(cmd, `\`${name} -${f}' is not supported by the static evaluator`);
              for (const b of cmd.args) if (b.type === 'Assignment') this.markUnknown(b.name);
              return;
            default:
              remove = !on;
          }
        }
        continue;
      }
      if (print || funcs) continue;
      // `declare name` without a value
      if (isName(text)) {
        const cur = global ? this.globals.get(text) : this.locals.get(text);
        if (cur) {
          if (flags.ro) cur.ro = true;
          if (flags.exp) cur.exp = true;
          if (flags.int) cur.int = true;
          if (flags.array && cur.kind === 's' && !cur.unknown) {
            const m = new Map<number, string>();
            if (cur.scalar !== undefined && !cur.unset) m.set(0, cur.scalar);
            this.setVar(text, { ...cur, kind: 'a', arr: m, unset: false }, !global);
          }
        } else if (global ? !this.globals.has(text) : true) {
          const outer = this.lookup(text);
          const v: ShellVar = flags.array ? { kind: 'a', arr: new Map() } : flags.assoc ? { kind: 'A', assoc: new Map() } : { kind: 's', unset: true };
          if (flags.ro) v.ro = true;
          if (flags.int) v.int = true;
          if (flags.exp) v.exp = true;
          if (global && outer && this.globals.get(text) === outer) {
            // already global: attributes only
          } else this.setVar(text, v, !global);
        }
      } else {
        this.diag('E_DECLARE', 'error', `\`${name}': \`${text}': not a valid identifier`, (a as Word).range);
        status = 1;
      }
    }
    void argIdx;
    if ((print || funcs) && !this.stdoutRedirected(cmd.redirects)) {
      this.isStatic = false;
      this.diag('W_TOPLEVEL_OUTPUT', 'warning', `\`${name} -${print ? 'p' : 'f'}' prints to stdout while makepkg sources the PKGBUILD`, cmd.range);
    }
    this.lastStatus = status;
  }

  runUnset(cmd: SimpleCommand, argv: string[]): void {
    let mode: 'v' | 'f' | 'any' = 'any';
    let status = 0;
    for (const a of argv.slice(1)) {
      if (a === '-v') { mode = 'v'; continue; }
      if (a === '-f') { mode = 'f'; continue; }
      if (a === '-n') { this.unknownCommand(cmd, '`unset -n`'); return; }
      const m = /^([a-zA-Z_][a-zA-Z0-9_]*)(?:\[(.*)\])?$/.exec(a);
      if (!m) {
        status = 1;
        continue;
      }
      const name = m[1] as string;
      if (mode !== 'f') {
        const cur = this.lookup(name);
        if (cur?.ro) {
          this.diag('E_READONLY', 'error', `unset: \`${name}': cannot unset: readonly variable`, cmd.range);
          status = 1;
          continue;
        }
        if (m[2] !== undefined) {
          if (!cur) continue;
          if (cur.unknown) continue;
          if (cur.kind === 'a') {
            if (m[2] === '@' || m[2] === '*') {
              this.deleteVar(name);
              continue;
            }
            let idx: bigint;
            try {
              idx = this.arithText(m[2], cmd.range);
            } catch (e) {
              if (!(e instanceof Unknown)) throw e;
              this.dynamic(e);
              this.markUnknown(name);
              continue;
            }
            const mm = new Map(cur.arr);
            let i = Number(idx);
            if (i < 0) i = maxKey(mm) + 1 + i;
            mm.delete(i);
            this.setVar(name, { ...cur, arr: mm });
          } else if (cur.kind === 'A') {
            const mm = new Map(cur.assoc);
            mm.delete(m[2]);
            this.setVar(name, { ...cur, assoc: mm });
          } else if (m[2] === '0' || m[2] === '@' || m[2] === '*') this.deleteVar(name);
          continue;
        }
        if (cur || mode === 'v') {
          this.deleteVar(name);
          if (this.chaos) this.setVar(name, { kind: 's', unset: true });
          continue;
        }
      }
      if (this.functions.has(name)) this.functions.delete(name);
      else if (this.chaos) this.setVar(name, { kind: 's', unset: true });
    }
    this.lastStatus = status;
  }

  deleteVar(name: string): void {
    if (this.locals.has(name)) {
      // bash: unsetting a local in the same scope leaves it unset-but-local
      this.locals.set(name, { kind: 's', unset: true });
    } else if (this.globals.has(name)) this.globals.delete(name);
    if (this.chaos) this.globals.set(name, { kind: 's', unset: true });
  }

  // -------------------------------------------------------------------------------------------
  // Tests

  evalTest(e: TestExpr): boolean {
    switch (e.type) {
      case 'TestGroup': return this.evalTest(e.expr);
      case 'TestNot': return !this.evalTest(e.expr);
      case 'TestAnd': return this.evalTest(e.left) && this.evalTest(e.right);
      case 'TestOr': return this.evalTest(e.left) || this.evalTest(e.right);
      case 'TestWord': return this.expandScalar(e.word, false) !== '';
      case 'TestUnary': {
        if (e.op === '-v') {
          const t = this.expandScalar(e.operand, false);
          const m = /^([a-zA-Z_][a-zA-Z0-9_]*)(?:\[(.*)\])?$/.exec(t);
          if (!m) return false;
          const v = this.readVar(m[1] as string, e.operand.range);
          if (!v || v.unset) return false;
          if (m[2] === undefined) return this.scalarOf(v) !== undefined || (v.kind === 's' && v.scalar !== undefined);
          if (v.kind === 'A') return v.assoc?.has(m[2]) ?? false;
          if (m[2] === '@' || m[2] === '*') return this.elementsOf(v, e.range).length > 0;
          return (v.kind === 'a' ? v.arr?.has(Number(this.arithText(m[2], e.range))) : m[2] === '0') ?? false;
        }
        const s = this.expandScalar(e.operand, false);
        return this.unaryTest(e.op, s, e.range);
      }
      case 'TestBinary': {
        const l = this.expandScalar(e.left, false);
        if (e.op === '==' || e.op === '=' || e.op === '!=') {
          const m = this.matchWordPattern(l, e.right);
          return e.op === '!=' ? !m : m;
        }
        if (e.op === '=~') return this.regexMatch(l, e.right, e.range);
        const r = this.expandScalar(e.right, false);
        if (e.op === '<' || e.op === '>') {
          if (/[^\x00-\x7f]/.test(l + r)) throw new Unknown('string ordering of non-ASCII text depends on the locale', e.range, 'W_UNSUPPORTED');
          return e.op === '<' ? l < r : l > r;
        }
        if (['-eq', '-ne', '-lt', '-le', '-gt', '-ge'].includes(e.op)) {
          const a = this.arithText(l, e.left.range);
          const b = this.arithText(r, e.right.range);
          return intCompare(e.op, a, b);
        }
        throw new Unknown(`\`${e.op}' tests the file system`, e.range, 'W_FILESYSTEM');
      }
    }
  }

  /** `[[ text =~ regex ]]` with POSIX ERE semantics where JS agrees; sets BASH_REMATCH. */
  regexMatch(text: string, w: Word, range: Range): boolean {
    const segs = this.expandPattern(w);
    const src = ereToJs(segs);
    if (src === undefined || /[^\x00-\x7f]/.test(text)) {
      throw new Unknown('this regular expression cannot be evaluated statically (POSIX and JavaScript regexes differ here)', w.range, 'W_UNSUPPORTED');
    }
    let re: RegExp;
    try {
      re = new RegExp(src.source);
    } catch {
      // bash: an invalid regex makes [[ ]] return 2
      throw new ShellError('invalid regular expression', range);
    }
    const m = re.exec(text);
    const cur = this.lookup('BASH_REMATCH');
    if (cur?.ro) return m !== null;
    if (!m) {
      this.setVar('BASH_REMATCH', { kind: 'a', arr: new Map() });
      return false;
    }
    if (src.alternation) {
      // POSIX picks the longest match; JavaScript the first alternative: captures may differ
      this.setVar('BASH_REMATCH', { kind: 'a', unknown: true });
    } else {
      this.setVar('BASH_REMATCH', { kind: 'a', arr: new Map(m.map((g, i) => [i, g ?? ''] as [number, string])) });
    }
    return true;
  }

  unaryTest(op: string, s: string, range: Range): boolean {
    switch (op) {
      case '-n': return s !== '';
      case '-z': return s === '';
      case '-o': throw new Unknown('`-o` tests a shell option', range, 'W_UNSUPPORTED');
      case '-t': throw new Unknown('`-t` tests a terminal', range, 'W_UNSUPPORTED');
      default:
        if (/^-[abcdefghkprsuwxGLNOS]$/.test(op)) throw new Unknown(`\`${op}' tests the file system, which is not known statically`, range, 'W_FILESYSTEM');
        throw new ShellError(`${op}: unary operator expected`, range);
    }
  }

  classicTest(args: string[], range: Range): boolean {
    const bin = (l: string, op: string, r: string): boolean | undefined => {
      switch (op) {
        case '=': case '==': return l === r;
        case '!=': return l !== r;
        case '<': case '>':
          if (/[^\x00-\x7f]/.test(l + r)) throw new Unknown('string ordering of non-ASCII text depends on the locale', range, 'W_UNSUPPORTED');
          return op === '<' ? l < r : l > r;
        case '-eq': case '-ne': case '-lt': case '-le': case '-gt': case '-ge': {
          const re = /^\s*[-+]?[0-9]+\s*$/;
          if (!re.test(l) || !re.test(r)) throw new ShellError('integer expression expected', range);
          return intCompare(op, BigInt(l.trim()), BigInt(r.trim()));
        }
        case '-nt': case '-ot': case '-ef': throw new Unknown(`\`${op}' tests the file system`, range, 'W_FILESYSTEM');
        default: return undefined;
      }
    };
    const evalN = (a: string[]): boolean => {
      switch (a.length) {
        case 0: return false;
        case 1: return one(a[0] as string);
        case 2:
          if (a[0] === '!') return !one(a[1] as string);
          if (isUnary(a[0] as string)) return this.unaryTest(a[0] as string, a[1] as string, range);
          throw new ShellError(`${a[0]}: unary operator expected`, range);
        case 3: {
          const b = bin(a[0] as string, a[1] as string, a[2] as string);
          if (b !== undefined) return b;
          if (a[1] === '-a') return one(a[0] as string) && one(a[2] as string);
          if (a[1] === '-o') return one(a[0] as string) || one(a[2] as string);
          if (a[0] === '!') return !evalN(a.slice(1));
          if (a[0] === '(' && a[2] === ')') return one(a[1] as string);
          throw new ShellError(`${a[1]}: binary operator expected`, range);
        }
        default: {
          if (a.length === 4 && a[0] === '!') return !evalN(a.slice(1));
          if (a.length === 4 && a[0] === '(' && a[3] === ')') return evalN(a.slice(1, 3));
          // -o has lower precedence than -a
          const oi = a.lastIndexOf('-o');
          if (oi > 0 && oi < a.length - 1) return evalN(a.slice(0, oi)) || evalN(a.slice(oi + 1));
          const ai = a.lastIndexOf('-a');
          if (ai > 0 && ai < a.length - 1) return evalN(a.slice(0, ai)) && evalN(a.slice(ai + 1));
          throw new Unknown('this `test` expression is too complex to evaluate statically', range, 'W_UNSUPPORTED');
        }
      }
    };
    return evalN(args);
  }

  matchWordPattern(text: string, pat: Word): boolean {
    const segs = this.expandPattern(pat);
    if (/[^\x00-\x7f]/.test(text) && segs.some((s) => !s.quoted && /[?[]/.test(s.t))) {
      throw new Unknown('matching non-ASCII text against `?` or `[…]` depends on the locale', pat.range, 'W_UNSUPPORTED');
    }
    try {
      return compilePattern(segs.map((s) => ({ text: s.t, quoted: s.quoted }))).test(text);
    } catch (e) {
      if (e instanceof PatternUnknown) throw new Unknown(`this pattern cannot be matched statically (${e.message})`, pat.range, 'W_UNSUPPORTED');
      throw e;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Arithmetic

  arith(t: ArithmeticText): bigint {
    const text = this.expandArithText(t);
    return this.arithText(text, t.range);
  }

  expandArithText(t: ArithmeticText): string {
    let s = '';
    for (const p of t.parts) {
      if (p.type === 'Literal' || p.type === 'Escaped') s += p.value;
      else {
        const segs = this.expandPart(p, true);
        for (const x of segs) if (x !== BREAK) s += x.t;
      }
    }
    return s;
  }

  arithText(text: string, range: Range): bigint {
    try {
      return evalArith(text, {
        get: (name, index) => {
          const v = this.readVar(name, range);
          if (!v) return undefined;
          if (index === undefined) return this.scalarOf(v);
          if (v.kind === 'a') {
            let i = Number(index);
            if (i < 0) i = maxKey(v.arr!) + 1 + i;
            return v.arr?.get(i);
          }
          if (v.kind === 'A') return v.assoc?.get(String(index));
          return index === 0n ? v.scalar : undefined;
        },
        set: (name, value, index) => {
          const cur = this.lookup(name);
          if (cur?.ro) throw new ShellError(`${name}: readonly variable`, range);
          if (index === undefined) {
            if (cur && cur.kind === 'a' && !cur.unknown) {
              const m = new Map(cur.arr);
              m.set(0, String(value));
              this.setVar(name, { ...cur, arr: m, unset: false });
            } else this.setVar(name, { kind: 's', scalar: String(value) });
          } else {
            const m = new Map(cur && cur.kind === 'a' && !cur.unknown ? cur.arr : undefined);
            m.set(Number(index), String(value));
            this.setVar(name, { kind: 'a', arr: m });
          }
          this.assignRanges.set(name, range);
        },
      });
    } catch (e) {
      if (e instanceof ArithError) throw new ShellError(`arithmetic error: ${e.message}`, range);
      if (e instanceof ArithUnknown) throw new Unknown(e.message, range, 'W_UNSUPPORTED');
      throw e;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Word expansion

  /** Expands a word to fields (brace expansion, splitting, glob check), as in array elements and command arguments. */
  expandFields(w: Word, letArg = false): string[] {
    const one = w.parts.length === 1 ? this.singlePartField(w) : undefined;
    if (one !== undefined) return [one];
    const variants = this.braceVariants(w);
    const out: string[] = [];
    for (const parts of variants) {
      const fields = this.expandPartsToFields(parts, w);
      for (const f of fields) {
        if (mayGlob(f.segs) && hasGlobChars(f.segs.map((s) => ({ text: s.t, quoted: s.q === 1 }))) && !clearlyLiteralGlob(f.segs, letArg)) {
          throw new Unknown('an unquoted glob pattern (`*`, `?`, `[…]`) is expanded against the files next to the PKGBUILD; quote it if it is meant literally', w.range, 'W_GLOB');
        }
        let s = '';
        for (const x of f.segs) s += x.t;
        out.push(s);
      }
    }
    return out;
  }

  /**
   * The one field of a word made of a single part that needs no expansion (`foo`, `'foo'`,
   * `"foo"`), as the general path would give it; undefined for anything else (a literal with
   * a brace, a leading `~` or a glob character, an empty literal, expansions).
   */
  private singlePartField(w: Word): string | undefined {
    const p = w.parts[0] as WordPart;
    let v: string;
    switch (p.type) {
      case 'Literal': {
        v = p.value;
        if (v === '' || v.charCodeAt(0) === 126) return undefined; // ~
        for (let i = 0; i < v.length; i++) {
          const c = v.charCodeAt(i);
          if (c === 123 || c === 42 || c === 63 || c === 91) return undefined; // { * ? [
        }
        break;
      }
      case 'SingleQuoted': case 'AnsiCQuoted': case 'Escaped':
        v = this.quotedValue(p);
        break;
      case 'DoubleQuoted': {
        v = '';
        for (const q of p.parts) {
          if (q.type !== 'Literal' && q.type !== 'Escaped') return undefined;
          v += q.value;
        }
        break;
      }
      default:
        return undefined;
    }
    this.ifs(w.range); // the general path reads IFS (and throws when it is unknown)
    return v;
  }

  /**
   * Brace expansion works on the word's text before any other expansion (`{$a,b}c` gives
   * `$ac` and `bc`): expand the raw text with quoted parts and `${…}`/`$(…)` kept whole, then
   * re-read each result as a word.
   */
  braceVariants(w: Word): WordPart[][] {
    let hasBrace = false;
    for (const p of w.parts) if (p.type === 'Literal' && p.value.includes('{')) { hasBrace = true; break; }
    if (!hasBrace) return [w.parts];
    const toks: BraceToken<string>[] = [];
    for (const p of w.parts) {
      const raw = this.src.slice(p.range.start.offset, p.range.end.offset);
      if (p.type === 'Literal') for (const c of p.value) toks.push({ c });
      else if (p.type === 'ParamExpansion' && !p.braced) for (const c of raw) toks.push({ c });
      else toks.push({ p: raw });
    }
    let expanded: BraceToken<string>[][];
    try {
      expanded = braceExpand(toks);
    } catch (e) {
      if (e instanceof BraceLimit) throw new Unknown(e.message, w.range, 'W_UNSUPPORTED');
      throw e;
    }
    let original = '';
    for (const t of toks) original += 'c' in t ? t.c : t.p;
    return expanded.map((list) => {
      let text = '';
      for (const t of list) text += 'c' in t ? t.c : t.p;
      if (expanded.length === 1 && text === original) return w.parts;
      const re = parseWordText(text);
      if (!re) throw new Unknown('brace expansion produced a word the evaluator cannot re-read', w.range, 'W_UNSUPPORTED');
      rebaseRanges(re, w.range);
      return re.parts;
    });
  }

  expandPartsToFields(parts: WordPart[], w: Word): Field[] {
    const segsAll: (Seg | typeof BREAK)[] = [];
    let quotedPresent = false;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] as WordPart;
      if (p.type === 'Literal') {
        let v = p.value;
        if (i === 0 && v.startsWith('~')) {
          throw new Unknown('tilde expansion gives a home directory, which is not known statically', p.range, 'W_DYNAMIC');
        }
        segsAll.push({ t: v, q: 0 });
        v = '';
        continue;
      }
      if (p.type === 'Escaped' || p.type === 'SingleQuoted' || p.type === 'AnsiCQuoted') {
        segsAll.push({ t: this.quotedValue(p), q: 1 });
        quotedPresent = true;
        continue;
      }
      if (p.type === 'DoubleQuoted') {
        const inner = this.expandDq(p.parts);
        if (inner.present) quotedPresent = true;
        for (const s of inner.segs) segsAll.push(s);
        continue;
      }
      for (const s of this.expandPart(p, false)) segsAll.push(s);
    }
    // split into fields: BREAK separates, unquoted expansion text splits on IFS
    const ifs = this.ifs(w.range);
    const fields: Field[] = [];
    let cur: Field = { segs: [], quoted: quotedPresent };
    let curHas = false;
    const pushCur = (): void => {
      if (curHas || cur.quoted) fields.push(cur);
      cur = { segs: [], quoted: false };
      curHas = false;
    };
    for (const s of segsAll) {
      if (s === BREAK) {
        curHas = true;
        fields.push(cur);
        cur = { segs: [], quoted: false };
        curHas = true;
        continue;
      }
      if (s.q !== 2) {
        cur.segs.push(s);
        if (s.t !== '' || s.q === 1) curHas = true;
        continue;
      }
      // IFS splitting
      let i = 0;
      const t = s.t;
      let piece = '';
      while (i < t.length) {
        const c = t[i] as string;
        if (ifs.includes(c)) {
          const isWs = c === ' ' || c === '\t' || c === '\n';
          if (piece !== '') {
            cur.segs.push({ t: piece, q: 2 });
            curHas = true;
            piece = '';
          }
          if (isWs) {
            // a run of IFS whitespace (with at most one non-whitespace IFS char) is one separator
            let j = i;
            while (j < t.length && ifs.includes(t[j] as string) && (t[j] === ' ' || t[j] === '\t' || t[j] === '\n')) j++;
            if (j < t.length && ifs.includes(t[j] as string)) {
              j++;
              while (j < t.length && ifs.includes(t[j] as string) && (t[j] === ' ' || t[j] === '\t' || t[j] === '\n')) j++;
              curHas = true;
            }
            if (curHas) pushCur();
            i = j;
            continue;
          }
          curHas = true;
          pushCur();
          curHas = false;
          let j = i + 1;
          while (j < t.length && ifs.includes(t[j] as string) && (t[j] === ' ' || t[j] === '\t' || t[j] === '\n')) j++;
          i = j;
          continue;
        }
        piece += c;
        i++;
      }
      if (piece !== '') {
        cur.segs.push({ t: piece, q: 2 });
        curHas = true;
      }
    }
    if (curHas || cur.quoted) fields.push(cur);
    return fields;
  }

  ifs(range: Range): string {
    const v = this.lookup('IFS');
    if (!v) {
      if (this.chaos) throw new Unknown('IFS may have been changed', range, 'W_DYNAMIC', true);
      return ' \t\n';
    }
    if (v.unknown) throw new Unknown('IFS is not known statically', range, 'W_DYNAMIC');
    if (v.unset) return ' \t\n';
    return this.scalarOf(v) ?? ' \t\n';
  }

  /** Expands double-quoted content into quoted segments (with BREAKs for `"${a[@]}"`). */
  expandDq(parts: WordPart[]): { segs: (Seg | typeof BREAK)[]; present: boolean } {
    const segs: (Seg | typeof BREAK)[] = [];
    let onlyAt = parts.length > 0;
    let produced = false;
    for (const p of parts) {
      if (p.type === 'Literal' || p.type === 'Escaped') {
        segs.push({ t: p.value, q: 1 });
        onlyAt = false;
        continue;
      }
      if (p.type === 'ParamExpansion' && (p.index === '@' || (p.name === '@' && !p.length)) && !p.length) {
        const r = this.expandPart(p, true);
        if (r.length > 0) produced = true;
        for (const s of r) segs.push(s);
        continue;
      }
      onlyAt = false;
      for (const s of this.expandPart(p, true)) segs.push(s);
    }
    return { segs, present: !onlyAt || produced };
  }

  /** Expands a word to one string: assignment values (`assign`) and `[[ ]]` operands. */
  expandScalar(w: Word, assign: boolean): string {
    let s = '';
    for (let i = 0; i < w.parts.length; i++) {
      const p = w.parts[i] as WordPart;
      if (p.type === 'Literal') {
        if (p.value.includes('~') && (i === 0 && p.value.startsWith('~') || (assign && /:~/.test(p.value)))) {
          throw new Unknown('tilde expansion gives a home directory, which is not known statically', p.range, 'W_DYNAMIC');
        }
        s += p.value;
        continue;
      }
      if (p.type === 'Escaped' || p.type === 'SingleQuoted' || p.type === 'AnsiCQuoted') {
        s += this.quotedValue(p);
        continue;
      }
      if (p.type === 'DoubleQuoted') {
        s += this.joinDq(p.parts);
        continue;
      }
      s += this.joinSegs(this.expandPart(p, true));
    }
    return s;
  }

  joinDq(parts: WordPart[]): string {
    let s = '';
    for (const p of parts) {
      if (p.type === 'Literal' || p.type === 'Escaped') s += p.value;
      else s += this.joinSegs(this.expandPart(p, true));
    }
    return s;
  }

  joinSegs(segs: (Seg | typeof BREAK)[]): string {
    let s = '';
    for (const x of segs) s += x === BREAK ? ' ' : x.t;
    return s;
  }

  /** Expands a pattern word keeping which characters were quoted. */
  expandPattern(w: Word): { t: string; quoted: boolean }[] {
    const out: { t: string; quoted: boolean }[] = [];
    const add = (parts: WordPart[], inDq: boolean): void => {
      for (const p of parts) {
        switch (p.type) {
          case 'Literal': out.push({ t: p.value, quoted: inDq }); break;
          case 'Escaped': case 'SingleQuoted': case 'AnsiCQuoted': out.push({ t: this.quotedValue(p), quoted: true }); break;
          case 'DoubleQuoted': add(p.parts, true); break;
          default: {
            const s = this.joinSegs(this.expandPart(p, inDq));
            out.push({ t: s, quoted: inDq });
          }
        }
      }
    };
    add(w.parts, false);
    return out;
  }

  /** Expands one expansion part. Quoted results are q:1, unquoted q:2. */
  expandPart(p: WordPart, inDq: boolean): (Seg | typeof BREAK)[] {
    const q: 1 | 2 = inDq ? 1 : 2;
    switch (p.type) {
      case 'Literal': case 'Escaped': return [{ t: p.value, q: inDq ? 1 : 0 }];
      case 'SingleQuoted': case 'AnsiCQuoted': return [{ t: this.quotedValue(p), q: 1 }];
      case 'DoubleQuoted': return this.expandDq(p.parts).segs;
      case 'CommandSubstitution':
        throw new Unknown('command substitution runs a command; its output is not known statically', p.range, 'W_COMMAND_SUBSTITUTION');
      case 'ProcessSubstitution':
        throw new Unknown('process substitution runs a command; it is not evaluated statically', p.range, 'W_DYNAMIC');
      case 'ArithmeticExpansion': {
        const v = this.arith(p.expr);
        return [{ t: String(v), q }];
      }
      case 'ParamExpansion': {
        const r = this.evalParam(p, inDq);
        if (!r.list) return r.segs ?? [{ t: r.s, q }];
        if (inDq && !r.star) {
          const segs: (Seg | typeof BREAK)[] = [];
          r.items.forEach((it, i) => {
            if (i > 0) segs.push(BREAK);
            segs.push({ t: it, q: 1 });
          });
          return segs;
        }
        if (r.star) {
          const sep = inDq ? (this.ifs(p.range)[0] ?? '') : ' ';
          return [{ t: r.items.join(sep), q }];
        }
        // unquoted ${a[@]}: each element is split separately
        const segs: (Seg | typeof BREAK)[] = [];
        r.items.forEach((it, i) => {
          if (i > 0) segs.push({ t: ' ', q: 2 });
          segs.push({ t: it, q: 2 });
        });
        if (!this.ifs(p.range).includes(' ')) {
          // separators must split even when IFS lacks a space: approximate as unknown
          if (r.items.length > 1) throw new Unknown('unquoted array expansion with a custom IFS', p.range, 'W_UNSUPPORTED');
        }
        return segs;
      }
    }
  }

  /** Evaluates a parameter expansion. */
  evalParam(p: ParamExpansionPart, inDq: boolean): PVal {
    if (p.unsupported !== undefined) {
      throw new Unknown(p.unsupported === 'prefix' ? '`${!prefix*}` lists variable names, which is not evaluated statically' : `\`${p.unsupported}' is not a supported parameter expansion`, p.range, 'W_UNSUPPORTED');
    }
    const name = p.name;
    if (/^[0-9]+$/.test(name) || name === '@' || name === '*' || name === '#') {
      if (name === '#') return { list: false, s: '1' };
      throw new Unknown('positional parameters are makepkg\'s, not known statically', p.range, 'W_UNKNOWN_VARIABLE');
    }
    if (name === '?') {
      if (this.lastStatus === undefined) throw new Unknown('`$?` is not known statically here', p.range, 'W_DYNAMIC');
      return { list: false, s: String(this.lastStatus) };
    }
    if (name === '-') return { list: false, s: 'hB' }; // makepkg sources with these options (research §1.1)
    if (name === '$' || name === '!' || name === '0') {
      throw new Unknown(`\`$${name}' is not known statically`, p.range, 'W_DYNAMIC');
    }
    let varName = name;
    if (p.indirect) {
      if (p.index === '@' || p.index === '*') {
        // ${!arr[@]}: the indices
        const v = this.readVar(name, p.range);
        let keys: string[] = [];
        if (v && !v.unset) {
          if (v.kind === 'a') keys = [...(v.arr as Map<number, string>).keys()].sort((a, b) => a - b).map(String);
          else if (v.kind === 'A') {
            if ((v.assoc?.size ?? 0) > 1) throw new Unknown('the order of associative array keys is bash\'s hash order', p.range, 'W_UNSUPPORTED');
            keys = [...(v.assoc as Map<string, string>).keys()];
          } else if (v.scalar !== undefined) keys = ['0'];
        }
        if (p.op) throw new Unknown('operators on `${!a[@]}` are not supported', p.range, 'W_UNSUPPORTED');
        return { list: true, items: keys, star: p.index === '*' };
      }
      const ref = this.scalarOf(this.readVar(name, p.range)) ?? '';
      const m = /^([a-zA-Z_][a-zA-Z0-9_]*)(\[(@|\*)\])?$/.exec(ref);
      if (!m) {
        if (ref === '') {
          throw new ShellError(`\${!${name}}: invalid indirect expansion`, p.range);
        }
        throw new Unknown(`indirect expansion through \`${ref}' is not supported`, p.range, 'W_UNSUPPORTED');
      }
      varName = m[1] as string;
      if (m[3]) {
        const v = this.readVar(varName, p.range);
        return this.applyOp(p, { list: true, items: this.elementsOf(v, p.range), star: m[3] === '*' }, v !== undefined && !v.unset, inDq);
      }
    }
    const v = this.readVar(varName, p.range);
    if (p.index === '@' || p.index === '*') {
      const items = this.elementsOf(v, p.range);
      if (p.length) return { list: false, s: String(items.length) };
      return this.applyOp(p, { list: true, items, star: p.index === '*' }, items.length > 0, inDq);
    }
    let val: string | undefined;
    if (p.index) {
      if (v && !v.unset) {
        if (v.kind === 'A') val = v.assoc?.get(this.expandScalar(p.index, false));
        else {
          let i = this.indexValue(p.index);
          if (v.kind === 'a') {
            if (i < 0) {
              const max = maxKey(v.arr!);
              i = max + 1 + i;
              if (i < 0) throw new ShellError(`${name}: bad array subscript`, p.range);
            }
            val = v.arr?.get(i);
          } else val = i === 0 || i === -1 ? v.scalar : undefined;
        }
      } else {
        this.indexValue(p.index);
      }
    } else val = this.scalarOf(v);
    if (p.length) {
      const s = val ?? '';
      return { list: false, s: String(this.textLength(s)) };
    }
    return this.applyOp(p, { list: false, s: val ?? '' }, val !== undefined, inDq);
  }

  applyOp(p: ParamExpansionPart, base: PVal, isSet: boolean, inDq: boolean): PVal {
    const op = p.op;
    if (op === undefined) return base;
    const isNull = base.list ? base.items.length === 0 || (base.items.length === 1 && base.items[0] === '' && false) : base.s === '';
    switch (op) {
      case '-': case ':-': case '+': case ':+': case '=': case ':=': case '?': case ':?': {
        const colon = op.startsWith(':');
        const useDefault = colon ? !isSet || (base.list ? base.items.join(' ') === '' : isNull) : !isSet;
        const kind = op.slice(-1);
        if (kind === '-' || kind === '=' || kind === '?') {
          if (!useDefault) return base;
          const segs = p.arg && !inDq ? this.wordSegs(p.arg) : undefined;
          const word = segs ? this.joinSegs(segs) : p.arg ? this.expandScalarDqArg(p.arg) : '';
          if (kind === '=') {
            if (p.index !== undefined || p.indirect) throw new Unknown('`${a[i]:=…}` assignment form is not supported', p.range, 'W_UNSUPPORTED');
            if (!/^[a-zA-Z_]/.test(p.name)) throw new ShellError(`$${p.name}: cannot assign in this way`, p.range);
            const cur = this.lookup(p.name);
            if (cur?.ro) throw new ShellError(`${p.name}: readonly variable`, p.range);
            this.setVar(p.name, cur && cur.kind === 'a' ? { ...cur, arr: new Map([...(cur.arr ?? new Map()), [0, word]]) } : { kind: 's', scalar: word });
            this.assignRanges.set(p.name, p.range);
          }
          if (kind === '?') {
            throw new ShellError(`${p.name}: ${word || 'parameter null or not set'} (bash stops reading the PKGBUILD here)`, p.range, true);
          }
          return segs && kind === '-' ? { list: false, s: word, segs } : { list: false, s: word };
        }
        // + alternative
        if (useDefault) return { list: false, s: '' };
        const segs = p.arg && !inDq ? this.wordSegs(p.arg) : undefined;
        const word = segs ? this.joinSegs(segs) : p.arg ? this.expandScalarDqArg(p.arg) : '';
        return segs ? { list: false, s: word, segs } : { list: false, s: word };
      }
      default:
        break;
    }
    const each = (f: (s: string) => string): PVal => (base.list ? { list: true, items: base.items.map(f), star: base.star } : { list: false, s: f(base.s) });
    switch (op) {
      case '#': case '##': case '%': case '%%': {
        const segs = p.arg ? this.expandPattern(p.arg) : [];
        const re = this.compile(segs, p);
        const longest = op.length === 2;
        const prefix = op[0] === '#';
        return each((s) => {
          this.checkAsciiForPattern(s, segs, p);
          if (prefix) {
            if (longest) {
              for (let i = s.length; i >= 0; i--) if (re.test(s.slice(0, i))) return s.slice(i);
            } else {
              for (let i = 0; i <= s.length; i++) if (re.test(s.slice(0, i))) return s.slice(i);
            }
          } else if (longest) {
            for (let i = 0; i <= s.length; i++) if (re.test(s.slice(i))) return s.slice(0, i);
          } else {
            for (let i = s.length; i >= 0; i--) if (re.test(s.slice(i))) return s.slice(0, i);
          }
          return s;
        });
      }
      case '/': case '//': case '/#': case '/%': {
        const segs = p.arg ? this.expandPattern(p.arg) : [];
        const repParts = p.arg2 ? this.expandReplacement(p.arg2, inDq) : [];
        if (segs.every((x) => x.t === '')) {
          const rep = fillReplacement(repParts, '');
          if (op === '/#') return each((s) => rep + s);
          if (op === '/%') return each((s) => s + rep);
          return base;
        }
        const re = this.compile(segs, p);
        return each((s) => {
          this.checkAsciiForPattern(s, segs, p);
          if (op === '/#') {
            for (let i = s.length; i >= 0; i--) if (re.test(s.slice(0, i))) return fillReplacement(repParts, s.slice(0, i)) + s.slice(i);
            return s;
          }
          if (op === '/%') {
            for (let i = 0; i <= s.length; i++) if (re.test(s.slice(i))) return s.slice(0, i) + fillReplacement(repParts, s.slice(i));
            return s;
          }
          let out = '';
          let i = 0;
          let done = false;
          while (i <= s.length) {
            let matched = -1;
            if (!done) {
              for (let j = s.length; j >= i; j--) {
                if (re.test(s.slice(i, j))) {
                  matched = j;
                  break;
                }
              }
            }
            if (matched !== -1 && matched > i) {
              out += fillReplacement(repParts, s.slice(i, matched));
              i = matched;
              if (op === '/') done = true;
              continue;
            }
            if (matched === i && !done) {
              // empty match: bash does not replace empty matches except at anchors
            }
            if (i < s.length) out += s[i];
            i++;
          }
          return out;
        });
      }
      case '^': case '^^': case ',': case ',,': {
        const segs = p.arg ? this.expandPattern(p.arg) : [];
        const re = segs.some((x) => x.t !== '') ? this.compile(segs, p) : undefined;
        const upper = op[0] === '^';
        const all = op.length === 2;
        return each((s) => {
          if (/[^\x00-\x7f]/.test(s) && this.locale !== 'C') throw new Unknown('case conversion of non-ASCII text depends on the locale', p.range, 'W_UNSUPPORTED');
          let out = '';
          for (let i = 0; i < s.length; i++) {
            const c = s[i] as string;
            if ((all || i === 0) && c.charCodeAt(0) < 128 && (!re || re.test(c))) out += upper ? c.toUpperCase() : c.toLowerCase();
            else out += c;
          }
          return out;
        });
      }
      case ':': {
        const offText = p.arg ? this.expandScalar(p.arg, false) : '';
        const off = Number(this.arithText(offText, p.range));
        let len: number | undefined;
        if (p.arg2 !== undefined) len = Number(this.arithText(this.expandScalar(p.arg2, false), p.range));
        if (base.list) {
          const items = base.items;
          let start = off < 0 ? items.length + off : off;
          if (start < 0) return { list: true, items: [], star: base.star };
          if (start > items.length) start = items.length;
          if (len !== undefined && len < 0) throw new ShellError(`${p.name}: substring expression < 0`, p.range);
          const end = len === undefined ? items.length : Math.min(items.length, start + len);
          return { list: true, items: items.slice(start, end), star: base.star };
        }
        if (/[^\x00-\x7f]/.test(base.s)) return { list: false, s: this.nonAsciiSubstring(base.s, off, len, p) };
        const s = base.s;
        let start = off < 0 ? s.length + off : off;
        if (start < 0 || start > s.length) return { list: false, s: '' };
        let end = s.length;
        if (len !== undefined) {
          if (len < 0) {
            end = s.length + len;
            if (end < start) throw new ShellError(`${p.name}: substring expression < 0`, p.range);
          } else end = Math.min(s.length, start + len);
        }
        if (start > end) start = end;
        return { list: false, s: s.slice(start, end) };
      }
      case '@': {
        const letter = p.arg?.text ?? '';
        if (letter === 'U' || letter === 'L' || letter === 'u') {
          return each((s) => {
            if (/[^\x00-\x7f]/.test(s)) throw new Unknown('case conversion of non-ASCII text depends on the locale', p.range, 'W_UNSUPPORTED');
            return letter === 'U' ? s.toUpperCase() : letter === 'L' ? s.toLowerCase() : s.slice(0, 1).toUpperCase() + s.slice(1);
          });
        }
        throw new Unknown(`\`\${…@${letter}}\` transformations are not evaluated statically`, p.range, 'W_UNSUPPORTED');
      }
      default:
        throw new Unknown('unsupported parameter expansion', p.range, 'W_UNSUPPORTED');
    }
  }

  /** The value of a quoted part; `$'\u…'` depends on the locale. */
  quotedValue(p: { type: string; value: string; valueC?: string }): string {
    return this.locale === 'C' && p.valueC !== undefined ? p.valueC : p.value;
  }

  /** Length as bash counts it: bytes in the C locale, characters in a UTF-8 locale. */
  textLength(s: string): number {
    if (!/[^\x00-\x7f]/.test(s)) return s.length;
    return this.locale === 'C' ? utf8Bytes(s).length : [...s].length;
  }

  nonAsciiSubstring(s: string, off: number, len: number | undefined, p: ParamExpansionPart): string {
    const units: string[] | Uint8Array = this.locale === 'C' ? utf8Bytes(s) : [...s];
    const n = units.length;
    let start = off < 0 ? n + off : off;
    if (start < 0 || start > n) return '';
    let end = n;
    if (len !== undefined) {
      if (len < 0) {
        end = n + len;
        if (end < start) throw new ShellError(`${p.name}: substring expression < 0`, p.range);
      } else end = Math.min(n, start + len);
    }
    if (start > end) start = end;
    if (Array.isArray(units)) return units.slice(start, end).join('');
    const bytes = (units as Uint8Array).subarray(start, end);
    // a cut inside a multi-byte character gives bytes that are not valid UTF-8
    if (isCont((units as Uint8Array)[start]) || isCont((units as Uint8Array)[end])) {
      throw new Unknown('this substring cuts a multi-byte character in two', p.range, 'W_UNSUPPORTED');
    }
    return new TextDecoder().decode(bytes);
  }

  /** The word of an unquoted `${v:-word}`: its quoted parts stay quoted (not split). */
  wordSegs(w: Word): (Seg | typeof BREAK)[] {
    const out: (Seg | typeof BREAK)[] = [];
    for (const p of w.parts) {
      if (p.type === 'Literal') out.push({ t: p.value, q: 2 });
      else if (p.type === 'Escaped' || p.type === 'SingleQuoted' || p.type === 'AnsiCQuoted') out.push({ t: this.quotedValue(p), q: 1 });
      else if (p.type === 'DoubleQuoted') {
        const d = this.expandDq(p.parts);
        if (d.segs.length === 0 && d.present) out.push({ t: '', q: 1 });
        for (const x of d.segs) out.push(x);
      } else for (const x of this.expandPart(p, false)) out.push(x);
    }
    return out;
  }

  /** `${v:-word}` inside double quotes: single quotes are literal there. */
  expandScalarDqArg(w: Word): string {
    let s = '';
    for (const p of w.parts) {
      if (p.type === 'Literal' || p.type === 'Escaped') s += p.value;
      else if (p.type === 'SingleQuoted') s += `'${p.value}'`;
      else if (p.type === 'DoubleQuoted') s += this.joinDq(p.parts);
      else s += this.joinSegs(this.expandPart(p, true));
    }
    return s;
  }

  /**
   * The replacement of `${v/pat/rep}`: bash 5.2 (`patsub_replacement`) replaces an unquoted `&`
   * (written or coming from an unquoted expansion) with the matched text.
   */
  expandReplacement(w: Word, inDq: boolean): (string | typeof MATCH)[] {
    void inDq;
    const out: (string | typeof MATCH)[] = [];
    const addSplit = (t: string): void => {
      const pieces = t.split('&');
      pieces.forEach((x, i) => {
        if (i > 0) out.push(MATCH);
        if (x) out.push(x);
      });
    };
    for (const p of w.parts) {
      switch (p.type) {
        case 'Literal': addSplit(p.value); break;
        case 'Escaped': case 'SingleQuoted': case 'AnsiCQuoted': out.push(this.quotedValue(p)); break;
        case 'DoubleQuoted': out.push(this.joinDq(p.parts)); break;
        default: addSplit(this.joinSegs(this.expandPart(p, true)));
      }
    }
    return out;
  }

  compile(segs: { t: string; quoted: boolean }[], p: ParamExpansionPart): RegExp {
    try {
      return compilePattern(segs.map((s) => ({ text: s.t, quoted: s.quoted })));
    } catch (e) {
      if (e instanceof PatternUnknown) throw new Unknown(`this pattern cannot be evaluated statically (${e.message})`, p.range, 'W_UNSUPPORTED');
      throw e;
    }
  }

  checkAsciiForPattern(s: string, segs: { t: string; quoted: boolean }[], p: ParamExpansionPart): void {
    if (/[^\x00-\x7f]/.test(s) && segs.some((x) => !x.quoted && /[?[]/.test(x.t))) {
      throw new Unknown('matching non-ASCII text against `?` or `[…]` depends on the locale', p.range, 'W_UNSUPPORTED');
    }
  }

  /** Evaluates a standalone assignment (package-function override lines). */
  evalAssignmentIn(a: Assignment): boolean | undefined {
    return this.runAssignment(a, false, false);
  }
}

const BREAK = Symbol('break');

/** Points every range inside a re-read word at the original word. */
function rebaseRanges(node: unknown, range: Range): void {
  if (Array.isArray(node)) {
    for (const x of node) rebaseRanges(x, range);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const o = node as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) {
    if (k === 'range') o[k] = range;
    else if (typeof v === 'object') rebaseRanges(v, range);
  }
}

function maxKey(m: Map<number, string>): number {
  let max = -1;
  for (const k of m.keys()) if (k > max) max = k;
  return max;
}

const ERE_CLASSES: Record<string, string> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: 'a-zA-Z0-9', upper: 'A-Z', lower: 'a-z', space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t', punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', cntrl: '\\x00-\\x1f\\x7f', print: ' -~', graph: '!-~',
};

/** Converts a POSIX ERE (quoted parts literal) to a JS regex source, or undefined when unsure. */
function ereToJs(segs: { t: string; quoted: boolean }[]): { source: string; alternation: boolean } | undefined {
  const chars: string[] = [];
  const quoted: boolean[] = [];
  for (const sg of segs) for (const c of sg.t) { chars.push(c); quoted.push(sg.quoted); }
  let out = '';
  let alternation = false;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c.charCodeAt(0) > 127) return undefined;
    if (quoted[i]) { out += esc(c); continue; }
    if (c === '\\') {
      const n = chars[i + 1];
      if (n === undefined || /[a-zA-Z0-9]/.test(n)) return undefined;
      out += esc(n);
      i++;
      continue;
    }
    if (c === '|') alternation = true;
    if (c === '[') {
      let j = i + 1;
      let body = '';
      if (chars[j] === '^') { body += '^'; j++; }
      if (chars[j] === ']') { body += '\\]'; j++; }
      let closed = false;
      for (; j < chars.length; j++) {
        const d = chars[j] as string;
        if (d === ']') { closed = true; break; }
        if (d.charCodeAt(0) > 127) return undefined;
        if (d === '[' && chars[j + 1] === ':') {
          const end = chars.indexOf(':', j + 2);
          const name = chars.slice(j + 2, end).join('');
          if (end === -1 || chars[end + 1] !== ']' || ERE_CLASSES[name] === undefined) return undefined;
          body += ERE_CLASSES[name];
          j = end + 1;
          continue;
        }
        if (d === '[' && (chars[j + 1] === '=' || chars[j + 1] === '.')) return undefined;
        body += d === '\\' || d === ']' || d === '[' ? '\\' + d : d;
      }
      if (!closed) return undefined;
      out += '[' + body + ']';
      i = j;
      continue;
    }
    out += c;
  }
  return { source: out, alternation };
}

function one(a: string): boolean {
  return a !== '';
}

function isUnary(op: string): boolean {
  return /^-[a-zA-Z]$/.test(op);
}

function esc(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? '\\' + c : c;
}

function isCont(b: number | undefined): boolean {
  return b !== undefined && (b & 0xc0) === 0x80;
}

function utf8Bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/**
 * A glob pattern that cannot match a file next to a PKGBUILD: a URL (it would need a
 * directory named `https:`), or a `let` expression `name=…` (a file named like an
 * assignment). Everything else stays unknown.
 */
/** Cheap pre-check for {@link hasGlobChars}: an unquoted segment holds `*`, `?` or `[`. */
function mayGlob(segs: readonly Seg[]): boolean {
  for (const x of segs) {
    if (x.q === 1) continue;
    const t = x.t;
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c === 42 || c === 63 || c === 91) return true; // * ? [
    }
  }
  return false;
}

function clearlyLiteralGlob(segs: Seg[], letArg: boolean): boolean {
  let t = '';
  for (const x of segs) t += x.t;
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(t)) return true;
  return letArg && /^[a-zA-Z_][a-zA-Z0-9_]*(\[[^\]]*\])?[-+*/%&|^<>]?=/.test(t);
}
const MATCH = Symbol('match');

function fillReplacement(rep: (string | typeof MATCH)[], matched: string): string {
  let s = '';
  for (const x of rep) s += x === MATCH ? matched : x;
  return s;
}

function intCompare(op: string, a: bigint, b: bigint): boolean {
  switch (op) {
    case '-eq': return a === b;
    case '-ne': return a !== b;
    case '-lt': return a < b;
    case '-le': return a <= b;
    case '-gt': return a > b;
    default: return a >= b;
  }
}

function rangeOfList(list: Statement[], fallback: Range): Range {
  const first = list[0];
  const last = list[list.length - 1];
  if (!first || !last) return fallback;
  return { start: first.range.start, end: last.range.end };
}

// ---------------------------------------------------------------------------------------------
// Syntactic effects

interface Effects {
  vars: Set<string>;
  functions: FunctionDefinition[];
  output: Range[];
  chaos: boolean;
}

/** What a piece of code could change if it ran: variables, functions, output. */
export function collectEffects(
  node: Statement | Pipeline | Command | Statement[] | CompoundCommand,
  functions: ReadonlyMap<string, { def: FunctionDefinition }>,
): Effects {
  const eff: Effects = { vars: new Set(), functions: [], output: [], chaos: false };
  const seenFns = new Set<string>();
  const visit = (n: unknown, outRedirected: boolean, inFunctionDef: boolean): void => {
    if (eff.chaos) return;
    if (Array.isArray(n)) {
      for (const x of n) visit(x, outRedirected, inFunctionDef);
      return;
    }
    if (typeof n !== 'object' || n === null) return;
    const node = n as { type?: string };
    switch (node.type) {
      case 'Statement': visit((n as Statement).list, outRedirected, inFunctionDef); return;
      case 'AndOrList': visit((n as AndOrList).pipelines, outRedirected, inFunctionDef); return;
      case 'Pipeline': {
        const pl = n as Pipeline;
        pl.commands.forEach((c, i) => visit(c, outRedirected || i < pl.commands.length - 1, inFunctionDef));
        return;
      }
      case 'FunctionDefinition': {
        const fd = n as FunctionDefinition;
        if (!inFunctionDef) eff.functions.push(fd);
        return;
      }
      case 'SimpleCommand': {
        const c = n as SimpleCommand;
        for (const a of c.assignments) eff.vars.add(a.name);
        for (const a of c.args) if (a.type === 'Assignment') eff.vars.add(a.name);
        scanWords(c, eff, functions, seenFns, visit);
        const name = c.name?.text;
        if (name === undefined) return;
        const redirected = outRedirected || c.redirects.some((r) => (r.fd ?? '1') === '1' && r.op.startsWith('>') || r.op.startsWith('&>'));
        if (name === 'eval' || name === 'source' || name === '.' || name === 'exit') {
          eff.chaos = true;
          return;
        }
        if (name === 'read' || name === 'mapfile' || name === 'readarray' || name === 'printf' || name === 'getopts' || name === 'unset' || name === 'declare' || name === 'typeset' || name === 'let' || name === 'export' || name === 'readonly' || name === 'local') {
          for (const a of c.args) {
            if (a.type === 'Word' && /^[a-zA-Z_][a-zA-Z0-9_]*/.test(a.text)) eff.vars.add((/^[a-zA-Z_][a-zA-Z0-9_]*/.exec(a.text) as RegExpExecArray)[0]);
            if (a.type === 'Word' && name === 'let') for (const m of a.text.matchAll(/[a-zA-Z_][a-zA-Z0-9_]*/g)) eff.vars.add(m[0]);
          }
          if (name === 'read') eff.vars.add('REPLY');
          if (name === 'mapfile' || name === 'readarray') eff.vars.add('MAPFILE');
          if (name === 'unset') for (const a of c.args) if (a.type === 'Word') seenFnsUnset(a.text, eff);
        }
        const f = functions.get(name);
        if (f && !seenFns.has(name)) {
          seenFns.add(name);
          visit(f.def.body, redirected, true);
        } else if (!redirected && name !== 'true' && name !== 'false' && name !== ':' && !f) {
          if (BUILTIN_OUTPUT.has(name) || !['declare', 'typeset', 'local', 'export', 'readonly', 'unset', 'let', 'test', '[', 'return', 'break', 'continue', 'shift'].includes(name)) {
            eff.output.push(c.range);
          }
        }
        return;
      }
      case 'For': case 'Select': {
        const f = n as { variable: string; words?: Word[]; body: Statement[] };
        eff.vars.add(f.variable);
        for (const w of f.words ?? []) scanWord(w, eff, functions, seenFns, visit);
        visit(f.body, outRedirected, inFunctionDef);
        return;
      }
      case 'ArithFor': case 'Arith': {
        const texts = node.type === 'Arith' ? [(n as { expr: ArithmeticText }).expr] : [(n as { init: ArithmeticText }).init, (n as { test: ArithmeticText }).test, (n as { update: ArithmeticText }).update];
        for (const t of texts) for (const m of t.text.matchAll(/[a-zA-Z_][a-zA-Z0-9_]*/g)) eff.vars.add(m[0]);
        if (node.type === 'ArithFor') visit((n as { body: Statement[] }).body, outRedirected, inFunctionDef);
        return;
      }
      case 'Test': {
        const walkT = (e: TestExpr): void => {
          switch (e.type) {
            case 'TestWord': scanWord(e.word, eff, functions, seenFns, visit); break;
            case 'TestUnary': scanWord(e.operand, eff, functions, seenFns, visit); break;
            case 'TestBinary': scanWord(e.left, eff, functions, seenFns, visit); scanWord(e.right, eff, functions, seenFns, visit); break;
            case 'TestNot': case 'TestGroup': walkT(e.expr); break;
            default: walkT(e.left); walkT(e.right);
          }
        };
        walkT((n as { expr: TestExpr }).expr);
        return;
      }
      default: {
        const c = n as Record<string, unknown>;
        const redirected = outRedirected || (Array.isArray(c.redirects) && (c.redirects as Redirect[]).some((r) => (r.fd ?? '1') === '1' && r.op.startsWith('>') || r.op.startsWith('&>')));
        for (const k of ['clauses', 'condition', 'body', 'elseBody', 'items']) {
          if (k in c) visit(c[k], redirected, inFunctionDef);
        }
        if (node.type === 'Case') scanWord((n as { word: Word }).word, eff, functions, seenFns, visit);
        if (node.type === 'IfClause' || node.type === 'CaseItem') {
          // handled through keys above
        }
      }
    }
  };
  visit(node, false, false);
  return eff;
}

function seenFnsUnset(text: string, eff: Effects): void {
  if (/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(text)) eff.vars.add(text);
}

type Visit = (n: unknown, out: boolean, inFn: boolean) => void;

function scanWords(c: SimpleCommand, eff: Effects, functions: ReadonlyMap<string, { def: FunctionDefinition }>, seen: Set<string>, visit: Visit): void {
  for (const a of c.assignments) scanAssignment(a, eff, functions, seen, visit);
  if (c.name) scanWord(c.name, eff, functions, seen, visit);
  for (const a of c.args) {
    if (a.type === 'Word') scanWord(a, eff, functions, seen, visit);
    else scanAssignment(a, eff, functions, seen, visit);
  }
}

function scanAssignment(a: Assignment, eff: Effects, functions: ReadonlyMap<string, { def: FunctionDefinition }>, seen: Set<string>, visit: Visit): void {
  if (a.value.type === 'Word') scanWord(a.value, eff, functions, seen, visit);
  else for (const el of a.value.elements) scanWord(el.value, eff, functions, seen, visit);
}

/** `${v:=x}` assigns; command substitutions run commands (their assignments stay in the subshell). */
function scanWord(w: Word, eff: Effects, functions: ReadonlyMap<string, { def: FunctionDefinition }>, seen: Set<string>, visit: Visit): void {
  const walk = (parts: WordPart[]): void => {
    for (const p of parts) {
      if (p.type === 'DoubleQuoted') walk(p.parts);
      else if (p.type === 'ParamExpansion') {
        if ((p.op === '=' || p.op === ':=') && p.name) eff.vars.add(p.name);
        if (p.arg) walk(p.arg.parts);
        if (p.arg2) walk(p.arg2.parts);
      } else if (p.type === 'ArithmeticExpansion') {
        for (const m of p.expr.text.matchAll(/[a-zA-Z_][a-zA-Z0-9_]*/g)) eff.vars.add(m[0]);
      }
    }
  };
  walk(w.parts);
  void functions;
  void seen;
  void visit;
}

/** Converts a shell variable to the model's value (undefined when unset or unknown). */
/**
 * An indexed array's elements in index order. Elements are almost always set in ascending
 * order, so the map's own order is checked first and the keys are sorted only when it is not.
 */
function arrayElements(m: Map<number, string>): string[] {
  const out: string[] = [];
  let prev = -Infinity;
  let ordered = true;
  // (Map.forEach: for…of over a Map allocates an entry array per element)
  m.forEach((v, k) => {
    if (k < prev) ordered = false;
    prev = k;
    out.push(v);
  });
  if (ordered) return out;
  return [...m.keys()].sort((a, b) => a - b).map((k) => m.get(k) as string);
}

export function toValue(v: ShellVar): Value | undefined {
  if (v.unknown || v.unset) return undefined;
  if (v.kind === 's') return v.scalar;
  if (v.kind === 'a') return arrayElements(v.arr as Map<number, string>);
  return [...(v.assoc as Map<string, string>).values()];
}
