/**
 * Per-package overrides, extracted the way makepkg 6.0.2 does (`extract_function_variable` in
 * util/pkgbuild.sh): it prints the package function with `declare -f`, greps the lines that
 * start with `NAME=` / `NAME+=`, and `eval`s each of them in order, starting from the global
 * value, ignoring control flow. This module re-creates bash's `declare -f` line layout from
 * the AST, applies the same grep, and evaluates the matched lines statically.
 */
import type { Assignment, Command, FunctionDefinition, Heredoc, Pipeline, SimpleCommand, Statement, Word } from './ast.js';
import { Evaluator, type ShellVar, Unknown, toValue } from './evaluator.js';
import type { Diagnostic, PackageInfo, Range, Value } from './model.js';
import { parseScript } from './parser.js';


/** Keys makepkg prints for a package (scalars, then arrays), see srcinfo.sh. */
const PKG_SCALARS = ['pkgdesc', 'url', 'install', 'changelog'];
const PKG_ARRAYS = ['arch', 'groups', 'license', 'checkdepends', 'depends', 'optdepends', 'provides', 'conflicts', 'replaces', 'options', 'backup'];
const ARCH_ARRAYS = ['source', 'provides', 'conflicts', 'depends', 'replaces', 'optdepends', 'makedepends', 'checkdepends',
  'cksums', 'md5sums', 'sha1sums', 'sha224sums', 'sha256sums', 'sha384sums', 'sha512sums', 'b2sums'];

/** makepkg locals in scope when the override lines are eval'd (they shadow PKGBUILD globals). */
const MAKEPKG_LOCALS = ['pkg', 'singlevalued', 'multivalued', 'attr', 'package_arch', 'a', 'multivalued_arch_attrs', 'attrname',
  'isarray', 'outvalue', 'outputvar', 'funcname', 'attr_regex', 'decl', 'r', 'shellopts', 'REPLY', 'srcdir', 'pkgdir',
  'pkgdirbase', 'basever', 'startdir'];

/** One line of bash's `declare -f` output (only what matters for the grep). */
interface PrintedLine {
  text: string;
  /** Source range of the construct the line comes from. */
  range: Range;
  /** The statement when the line is a statement's first line. */
  statement?: Statement;
  /** The line sits inside control flow (if/case/loop/subshell/nested function/heredoc/string). */
  control: boolean;
}

/** Keys that never lead to statements (ranges, word internals). */
const RANGE_KEYS = new Set(['range', 'nameRange', 'variableRange']);
const SKIP_KEYS = new Set([...RANGE_KEYS, 'parts', 'value', 'index', 'target', 'heredoc', 'expr', 'word', 'patterns', 'words', 'comments']);

/**
 * Depth-first walk over the AST's objects (arrays are walked through), not descending into the
 * `skip` keys; `enter` sees each object first and returns false to keep out of its children.
 */
function walkAst(root: unknown, skip: ReadonlySet<string>, enter: (node: { type?: string }) => boolean | void): void {
  const visit = (n: unknown): void => {
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    if (typeof n !== 'object' || n === null) return;
    if (enter(n as { type?: string }) === false) return;
    const o = n as Record<string, unknown>;
    // for…in over the AST's plain objects: their own keys in Object.entries' order, without the
    // [key, value] pair arrays
    for (const k in o) {
      const v = o[k];
      if (typeof v === 'object' && v !== null && !skip.has(k)) visit(v);
    }
  };
  visit(root);
}

/** Result for one package. */
export interface OverrideResult {
  info: PackageInfo;
  ranges: Record<string, Range>;
}

/** Re-creates which lines `declare -f NAME` prints for a function definition. */
export function printedLines(def: FunctionDefinition): PrintedLine[] {
  const lines: PrintedLine[] = [];
  const body = def.body;
  const walkList = (stmts: Statement[], lastSemi: boolean, control: boolean, firstInline: boolean, suffix = ''): void => {
    for (let i = 0; i < stmts.length; i++) {
      const st = stmts[i] as Statement;
      const prev = stmts[i - 1];
      const atStart = !(i === 0 && firstInline) && !(prev !== undefined && prev.background);
      const last = i === stmts.length - 1;
      const semi = !last || lastSemi;
      const andOrControl = control || st.list.pipelines.length > 1;
      if (atStart) {
        // the last statement of an `if`/`while` condition is followed by `; then` / `; do`
        // only a line that starts with an assignment, or a statement spanning lines (its
        // continuation lines are printed raw), can match makepkg's grep: skip printing the rest
        const head = st.list.pipelines[0]?.commands[0];
        const relevant = (head?.type === 'SimpleCommand' && head.assignments.length > 0 && !st.list.pipelines[0]?.negated && !st.list.pipelines[0]?.timed)
          || st.range.start.line !== st.range.end.line;
        const text = relevant ? printStatement(st) + (semi && !st.background ? ';' : '') + (last ? suffix : '') : '\u0000';
        pushText(text, st.range, st, andOrControl);
      }
      for (const pl of st.list.pipelines) descendPipeline(pl, andOrControl);
    }
  };
  const pushText = (text: string, range: Range, st: Statement | undefined, control: boolean): void => {
    const parts = text.split('\n');
    const first: PrintedLine = { text: '    ' + (parts[0] as string), range, control };
    if (st) first.statement = st;
    lines.push(first);
    for (let k = 1; k < parts.length; k++) lines.push({ text: parts[k] as string, range, control: true });
  };
  const descendPipeline = (pl: Pipeline, control: boolean): void => {
    for (const c of pl.commands) descend(c, control);
  };
  const heredocs = (rs: { heredoc?: Heredoc }[]): void => {
    for (const r of rs) {
      if (!r.heredoc) continue;
      const h = r.heredoc;
      let body = h.body;
      if (h.stripTabs) body = body.split('\n').map((l) => l.replace(/^\t+/, '')).join('\n');
      const ls = body.split('\n');
      if (ls[ls.length - 1] === '') ls.pop();
      for (const l of ls) lines.push({ text: l, range: h.range, control: true });
    }
  };
  const descend = (c: Command, control: boolean): void => {
    switch (c.type) {
      case 'SimpleCommand':
        heredocs(c.redirects);
        return;
      case 'FunctionDefinition':
        descendCompound(c.body, true, true);
        heredocs(c.redirects);
        return;
      default:
        descendCompound(c, control, false);
        heredocs(c.redirects);
    }
  };
  const descendCompound = (c: Exclude<Command, SimpleCommand | FunctionDefinition>, control: boolean, fnBody: boolean): void => {
    switch (c.type) {
      case 'BraceGroup': walkList(c.body, false, control || !fnBody ? control : control, false); return;
      case 'Subshell': walkList(c.body, false, true, true, ' )'); return;
      case 'If':
        for (const cl of c.clauses) {
          walkList(cl.condition, true, true, true, ' then');
          walkList(cl.body, true, true, false);
        }
        if (c.elseBody) walkList(c.elseBody, true, true, false);
        return;
      case 'For': case 'Select': case 'ArithFor': walkList(c.body, true, true, false); return;
      case 'While':
        walkList(c.condition, true, true, true, ' do');
        walkList(c.body, true, true, false);
        return;
      case 'Case':
        for (const it of c.items) walkList(it.body, false, true, false);
        return;
      default:
        return;
    }
  };
  if (body.type === 'BraceGroup') walkList(body.body, false, false, false);
  else descendCompound(body, true, false);
  return lines;
}

/** Bash's re-printing of a statement's text (enough for the override grep and eval). */
function printStatement(st: Statement): string {
  const out: string[] = [];
  st.list.pipelines.forEach((pl, i) => {
    if (i > 0) out.push(st.list.operators[i - 1] as string);
    if (pl.timed) out.push('time');
    if (pl.negated) out.push('!');
    pl.commands.forEach((c, j) => {
      if (j > 0) out.push(pl.operators[j - 1] as string);
      out.push(c.type === 'SimpleCommand' ? printSimple(c) : `\u0000${c.type}`);
    });
  });
  if (st.background) out.push('&');
  return out.join(' ');
}

function printSimple(c: SimpleCommand): string {
  const words: string[] = [];
  for (const a of c.assignments) words.push(printAssignment(a));
  if (c.name) words.push(printWord(c.name));
  for (const a of c.args) words.push(a.type === 'Assignment' ? printAssignment(a) : printWord(a));
  for (const r of c.redirects) words.push(`${r.fd ?? ''}${r.op} ${printWord(r.target)}`);
  return words.join(' ');
}

/** Word text without line continuations (bash drops `\⏎` outside single quotes when reading). */
function printWord(w: Word): string {
  const t = w.text;
  if (!t.includes('\\\n')) return t;
  let out = '';
  let inSingle = false;
  let inDouble = false;
  for (let i = 0; i < t.length; i++) {
    const c = t[i] as string;
    if (inSingle) {
      if (c === "'") inSingle = false;
      out += c;
      continue;
    }
    if (c === '\\' && t[i + 1] === '\n') {
      i++;
      continue;
    }
    if (c === '\\') {
      out += c + (t[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === "'" && !inDouble) inSingle = true;
    else if (c === '"') inDouble = !inDouble;
    out += c;
  }
  return out;
}

function printAssignment(a: Assignment): string {
  let s = a.name;
  if (a.index) s += `[${printWord(a.index)}]`;
  s += a.append ? '+=' : '=';
  if (a.value.type === 'Word') return s + printWord(a.value);
  const els = a.value.elements.map((el) => (el.key ? `[${printWord(el.key)}]=` : '') + printWord(el.value));
  return s + '(' + els.join(' ') + ')';
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';

/** makepkg's grep: `^[[:space:]]* NAME\+?=\(` (array) or `^[[:space:]]* NAME\+?=[^(]` (scalar). */
export function lineMatches(line: string, name: string, isArray: boolean): boolean {
  // find a literal space preceded only by [[:space:]] characters, followed by NAME
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (!isSpace(c)) return false;
    if (c !== ' ') continue;
    if (!line.startsWith(name, i + 1)) continue;
    let j = i + 1 + name.length;
    if (line[j] === '+') j++;
    if (line[j] !== '=') continue;
    const n = line[j + 1];
    if (isArray ? n === '(' : n !== undefined && n !== '(') return true;
  }
  return false;
}

/** Names assigned at a line start in the printed function (`NAME=` / `NAME+=`). */
function candidateNames(lines: PrintedLine[]): Set<string> {
  const names = new Set<string>();
  for (const l of lines) {
    const m = /^[ \t\n\v\f\r]* ([a-zA-Z_][a-zA-Z0-9_]*)\+?=/.exec(l.text);
    if (m) names.add(m[1] as string);
  }
  return names;
}

/** Which names makepkg may extract for a package and whether they are arrays. */
function extractable(name: string): boolean | undefined {
  if (PKG_SCALARS.includes(name)) return false;
  if (PKG_ARRAYS.includes(name)) return true;
  const u = name.indexOf('_');
  if (u > 0 && ARCH_ARRAYS.includes(name.slice(0, u)) && name.length > u + 1) return true;
  return undefined;
}

/**
 * Extracts the overrides of package `pkg` from its function as makepkg does.
 * `globals` are the PKGBUILD's final global variables.
 */
export function extractOverrides(
  pkg: string,
  fn: FunctionDefinition,
  globals: ReadonlyMap<string, ShellVar>,
  opts: { carch: string; src: string; locale?: 'C' | 'C.UTF-8' },
  diagnostics: Diagnostic[],
): { info: PackageInfo; ranges: Record<string, Range>; isStatic: boolean } {
  const lines = printedLines(fn);
  const overrides: Record<string, Value> = {};
  const unknown: string[] = [];
  const ranges: Record<string, Range> = {};
  let isStatic = true;
  const names = [...candidateNames(lines)].filter((n) => extractable(n) !== undefined);
  let fnLocalsCache: Set<string> | undefined;
  const fnLocals = (): Set<string> => (fnLocalsCache ??= functionLocals(fn));
  const seen = new Set<string>();
  const warn = (code: string, message: string, range: Range, severity: Diagnostic['severity'] = 'warning'): void => {
    const key = `${code}@${range.start.offset}:${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    diagnostics.push({ code, severity, message, range });
  };
  const matchedStatements = new Set<Statement>();
  // one shell for the package, as makepkg evals every line in the same shell
  const ev = new Evaluator(opts.src, { carch: opts.carch, locale: opts.locale ?? 'C' });
  ev.overrideMode = true;
  if (names.length > 0) {
    globals.forEach((v, k) => ev.globals.set(k, v));
    for (const l of MAKEPKG_LOCALS) ev.globals.set(l, { kind: 's', unknown: true });
    ev.globals.set('pkgname', { kind: 's', scalar: pkg });
  }
  for (const name of names) {
    const isArray = extractable(name) as boolean;
    const diagStart = ev.diagnostics.length;
    // the global value is copied first (only when set and non-empty)
    const g = globals.get(name);
    let start: ShellVar;
    if (g?.unknown) start = { kind: isArray ? 'a' : 's', unknown: true };
    else if (isArray) {
      const vals = g ? toValue(g) : undefined;
      const arr = Array.isArray(vals) ? vals : typeof vals === 'string' ? [vals] : [];
      start = { kind: 'a', arr: new Map(arr.length > 0 ? arr.map((v, i) => [i, v] as [number, string]) : []) };
    } else {
      const vals = g ? toValue(g) : undefined;
      const s = Array.isArray(vals) ? (vals[0] ?? '') : (vals ?? '');
      start = { kind: 's', scalar: s };
    }
    ev.globals.set('outvalue', start);
    let matched = false;
    for (const line of lines) {
      if (!lineMatches(line.text, name, isArray)) continue;
      matched = true;
      ranges[name] = line.range;
      if (line.statement) matchedStatements.add(line.statement);
      if (line.control) {
        warn('W_OVERRIDE_CONTROL_FLOW', `makepkg applies this \`${name}' assignment of package \`${pkg}' regardless of the surrounding control flow (it greps the function text line by line)`, line.range);
      }
      const stripped = line.text.replace(/^[ \t\n\v\f\r]+/, '');
      const evalText = 'outvalue' + stripped.slice(name.length);
      const parsed = parseScript(evalText);
      if (parsed.diagnostics.length > 0) {
        // bash's eval reports a syntax error; the value stays as it was
        warn('W_OVERRIDE_SYNTAX', `makepkg evaluates this line of \`${pkg}' on its own (\`${stripped.slice(0, 40)}'), which is a syntax error there; the assignment is ignored`, line.range);
        continue;
      }
      const stmts = parsed.script.body;
      const one = stmts.length === 1 ? stmts[0] : undefined;
      const cmd = one && !one.background && one.list.pipelines.length === 1 && one.list.pipelines[0]?.commands.length === 1 && !one.list.pipelines[0]?.negated
        ? one.list.pipelines[0].commands[0]
        : undefined;
      if (!cmd || cmd.type !== 'SimpleCommand' || cmd.name || cmd.redirects.length > 0 || cmd.assignments.length !== 1) {
        ev.globals.set('outvalue', { kind: isArray ? 'a' : 's', unknown: true });
        warn('W_OVERRIDE_DYNAMIC', `makepkg evals this whole line of \`${pkg}' to read \`${name}'; a line holding more than one assignment is not evaluated statically`, line.range);
        continue;
      }
      const asg = cmd.assignments[0] as Assignment;
      ev.src = evalText;
      // references to the function's own locals or loop variables: makepkg sees them unset
      for (const ref of referencedNames(asg)) {
        if (!globals.has(ref) && fnLocals().has(ref)) {
          warn('W_OVERRIDE_CONTROL_FLOW', `\`${ref}' is local to \`${fn.name}' (or a loop variable); makepkg evaluates \`${name}' without running the function, so \`${ref}' is unset there`, line.range);
        }
      }
      try {
        ev.evalAssignmentIn(asg);
      } catch (e) {
        if (!(e instanceof Unknown)) throw e;
        ev.globals.set('outvalue', { kind: isArray ? 'a' : 's', unknown: true });
      }
    }
    if (!matched) continue;
    const unknownValue = ev.lookup('outvalue')?.unknown === true;
    for (const d of ev.diagnostics.slice(diagStart)) {
      if (d.code.startsWith('W_') || d.code.startsWith('E_')) {
        // rebase: the diagnostic ranges refer to the eval text; point at the line instead
        warn(d.code === 'W_DYNAMIC' || d.code === 'W_COMMAND_SUBSTITUTION' ? 'W_OVERRIDE_DYNAMIC' : d.code, `package \`${pkg}', \`${name}': ${d.message}`, ranges[name] as Range, d.severity);
      }
    }
    if (unknownValue) {
      unknown.push(name);
      isStatic = false;
      continue;
    }
    const v = ev.lookup('outvalue');
    const val = v ? toValue(v) : undefined;
    if (isArray) overrides[name] = Array.isArray(val) ? val : val === undefined ? [] : [val];
    else overrides[name] = Array.isArray(val) ? (val[0] ?? '') : (val ?? '');
  }
  // assignments makepkg does not see (there are none where the function's text has no `=`)
  const eq = opts.src.indexOf('=', fn.range.start.offset);
  if (eq !== -1 && eq < fn.range.end.offset) reportIgnored(fn, matchedStatements, pkg, warn);
  const info: PackageInfo = { name: pkg, overrides };
  if (unknown.length > 0) info.unknown = unknown;
  return { info, ranges, isStatic };
}

function reportIgnored(fn: FunctionDefinition, matched: Set<Statement>, pkg: string, warn: (code: string, message: string, range: Range) => void): void {
  const enter = (o: { type?: string }): boolean => {
    if (o.type === 'Statement') {
      const st = o as Statement;
      const first = st.list.pipelines[0]?.commands[0];
      const assigns: Assignment[] = [];
      for (const pl of st.list.pipelines) {
        for (const c of pl.commands) {
          if (c.type === 'SimpleCommand') {
            for (const a of c.assignments) assigns.push(a);
            if (c.name && ['declare', 'local', 'typeset', 'readonly', 'export'].includes(c.name.text)) for (const a of c.args) if (a.type === 'Assignment') assigns.push(a);
          }
        }
      }
      for (const a of assigns) {
        if (extractable(a.name) === undefined) continue;
        const isFirst = first?.type === 'SimpleCommand' && first.assignments[0] === a;
        if (isFirst && matched.has(st)) continue;
        warn('W_OVERRIDE_CONTROL_FLOW', `makepkg does not see this \`${a.name}' assignment in package \`${pkg}' (it only reads lines of the function that start with \`${a.name}=')`, a.range);
      }
      // a statement's own pipelines are all it holds; nested statements are found below them
      walkAst(st.list, SKIP_KEYS, enter);
      return false;
    }
    return true;
  };
  walkAst(fn.body, SKIP_KEYS, enter);
}

/** Variables local to a function: `local`/`declare` names and loop variables. */
function functionLocals(fn: FunctionDefinition): Set<string> {
  const out = new Set<string>();
  walkAst(fn.body, SKIP_KEYS, (o) => {
    if (o.type === 'For' || o.type === 'Select') out.add((o as { variable: string }).variable);
    if (o.type === 'SimpleCommand') {
      const c = o as SimpleCommand;
      if (c.name && ['local', 'declare', 'typeset'].includes(c.name.text)) {
        for (const a of c.args) {
          if (a.type === 'Assignment') out.add(a.name);
          else if (/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(a.text)) out.add(a.text);
        }
      }
    }
  });
  return out;
}

function referencedNames(a: Assignment): Set<string> {
  const out = new Set<string>();
  walkAst(a.value, RANGE_KEYS, (o) => {
    const name = (o as { name?: string }).name;
    if (o.type === 'ParamExpansion' && name) out.add(name);
  });
  return out;
}
