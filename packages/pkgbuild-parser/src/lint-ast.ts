/**
 * AST walks the linter needs: assignments as makepkg's line-grep sees them inside package
 * functions, top-level assignments, commands that print at the top level, and the index layout
 * of the `source` array.
 */
import type { Assignment, Command, FunctionDefinition, Script, SimpleCommand, Statement, Word } from './ast.js';
import type { Range } from './model.js';
import { lineMatches, printedLines } from './package-overrides.js';

/** One assignment found in a function body the way makepkg's `extract_function_variable` finds it. */
export interface FunctionAssignment {
  name: string;
  /** Matched by makepkg's array regex (`NAME+?=(`) rather than its scalar regex (`NAME+?=[^(]`). */
  arrayForm: boolean;
  /** Always true: only lines makepkg's grep sees are returned. */
  visible: boolean;
  range: Range;
}

function compoundChildren(cmd: Command): Statement[][] {
  switch (cmd.type) {
    case 'If':
      return [...cmd.clauses.flatMap((c) => [c.condition, c.body]), ...(cmd.elseBody ? [cmd.elseBody] : [])];
    case 'For':
    case 'ArithFor':
    case 'Select':
      return [cmd.body];
    case 'While':
      return [cmd.condition, cmd.body];
    case 'Case':
      return cmd.items.map((i) => i.body);
    case 'BraceGroup':
    case 'Subshell':
      return [cmd.body];
    default:
      return [];
  }
}

const LINE_START_ASSIGNMENT = /^[ \t\n\v\f\r]* ([a-zA-Z_][a-zA-Z0-9_]*)\+?=/;

/**
 * The assignments makepkg's `grep -E '^[[:space:]]* NAME\+?=…'` matches in the `declare -f`
 * rendering of a function (re-created by `printedLines`; heredoc lines included, `url=` as the
 * last statement excluded, as in makepkg).
 */
export function functionAssignments(fn: FunctionDefinition): FunctionAssignment[] {
  const out: FunctionAssignment[] = [];
  for (const line of printedLines(fn)) {
    const m = LINE_START_ASSIGNMENT.exec(line.text);
    const name = m?.[1];
    if (!name) continue;
    const arrayForm = lineMatches(line.text, name, true);
    if (arrayForm || lineMatches(line.text, name, false)) out.push({ name, arrayForm, visible: true, range: line.range });
  }
  return out;
}

/** Top-level function definitions by name (the last definition wins, as in bash). */
export function topLevelFunctions(script: Script): Map<string, FunctionDefinition> {
  const out = new Map<string, FunctionDefinition>();
  walkTopLevel(script.body, (cmd) => {
    if (cmd.type === 'FunctionDefinition') out.set(cmd.name, cmd);
  });
  return out;
}

/**
 * Visit every command run at the top level (including inside top-level `if`/`for`/`case`/
 * groups and pipelines), without descending into function bodies or substitutions.
 * `ctx.conditional` is true inside any compound command; `ctx.piped` for a pipeline's non-last
 * commands; `ctx.stdoutAway` when an enclosing compound command redirects stdout.
 */
export function walkTopLevel(
  body: Statement[],
  visit: (cmd: Command, ctx: { conditional: boolean; piped: boolean; stdoutAway: boolean }) => void,
  conditional = false,
  stdoutAway = false,
): void {
  for (const st of body) {
    for (const pl of st.list.pipelines) {
      pl.commands.forEach((cmd, i) => {
        const piped = i < pl.commands.length - 1;
        visit(cmd, { conditional: conditional || st.list.pipelines.length > 1, piped, stdoutAway });
        if (cmd.type === 'FunctionDefinition' || cmd.type === 'SimpleCommand') return;
        const away = stdoutAway || piped || redirectsStdoutAway(cmd.redirects);
        for (const child of compoundChildren(cmd)) walkTopLevel(child, visit, true, away);
      });
    }
  }
}

/** Assignments a simple command performs (prefix assignments with no command, or declaration builtins). */
export function commandAssignments(cmd: SimpleCommand): Assignment[] {
  if (cmd.name === undefined) return cmd.assignments;
  const name = cmd.name.text;
  if (name === 'declare' || name === 'typeset' || name === 'local' || name === 'export' || name === 'readonly') {
    return cmd.args.filter((a): a is Assignment => a.type === 'Assignment');
  }
  return [];
}

/** Whether these redirections send stdout somewhere other than the terminal/stdout. */
export function redirectsStdoutAway(redirects: SimpleCommand['redirects']): boolean {
  return redirects.some((r) => {
    const fd = r.fd ?? '1';
    if (r.op === '&>' || r.op === '&>>') return true;
    if (fd !== '1') return false;
    if (r.op === '>' || r.op === '>>' || r.op === '>|') return true;
    if (r.op === '>&') return r.target.text !== '1';
    return false;
  });
}

const PRINTERS = new Set([
  'echo', 'printf', 'cat', 'ls', 'pwd', 'env', 'printenv', 'date', 'head', 'tail', 'tee', 'seq',
  'uname', 'whoami', 'id', 'sed', 'awk', 'grep', 'egrep', 'fgrep', 'find', 'tr', 'cut', 'sort',
  'uniq', 'wc', 'yes', 'plain', 'msg', 'msg2', 'type', 'which', 'nproc', 'hostname',
]);

/** Whether a top-level simple command would write to stdout (and so into `--printsrcinfo`). */
export function printsToStdout(cmd: SimpleCommand): boolean {
  if (!cmd.name || cmd.name.parts.some((p) => p.type !== 'Literal' && p.type !== 'SingleQuoted' && p.type !== 'DoubleQuoted')) return false;
  const name = cmd.name.text.replace(/^['"]|['"]$/g, '');
  const args = cmd.args.map((a) => (a.type === 'Word' ? a.text : ''));
  if (redirectsStdoutAway(cmd.redirects)) return false;
  if (PRINTERS.has(name)) {
    if ((name === 'grep' || name === 'egrep' || name === 'fgrep') && args.some((a) => /^-[a-zA-Z]*q|^--(quiet|silent)$/.test(a))) return false;
    if (name === 'sed' && args.some((a) => /^-[a-zA-Z]*i|^--in-place/.test(a))) return false;
    if (name === 'printf' && args[0] === '-v') return false;
    return true;
  }
  if ((name === 'declare' || name === 'typeset' || name === 'export' || name === 'readonly') && args.some((a) => /^-[a-zA-Z]*p/.test(a))) return true;
  if (name === 'set' && args.length === 0) return true;
  return false;
}

/** A word's value when it is plain literal/quoted text with no expansion, else undefined. */
export function literalValue(w: Word): string | undefined {
  let out = '';
  for (const p of w.parts) {
    if (p.type === 'Literal') {
      if (/[{*?[]/.test(p.value)) return undefined;
      out += p.value;
    } else if (p.type === 'Escaped' || p.type === 'SingleQuoted' || p.type === 'AnsiCQuoted') {
      out += p.value;
    } else if (p.type === 'DoubleQuoted') {
      for (const q of p.parts) {
        if (q.type !== 'Literal' && q.type !== 'Escaped') return undefined;
        out += q.value;
      }
    } else {
      return undefined;
    }
  }
  return out;
}

function literalIndex(w: Word | undefined): number | undefined {
  const t = w ? literalValue(w) : undefined;
  return t !== undefined && /^\d+$/.test(t) ? Number(t) : undefined;
}

/**
 * Whether the top-level `source` array ends up sparse (makepkg's `lint_source`), for the
 * straight-line cases that can be decided without running code; `undefined` when unknown.
 */
export function sourceIsSparse(script: Script): boolean | undefined {
  let touchesIndices = false;
  let conditional = false;
  const ops: { a?: Assignment; unset?: string[] }[] = [];
  walkTopLevel(script.body, (cmd, ctx) => {
    if (cmd.type !== 'SimpleCommand') return;
    for (const a of commandAssignments(cmd)) {
      if (a.name !== 'source') continue;
      if (ctx.conditional) conditional = true;
      if (a.index || (a.value.type === 'ArrayLiteral' && a.value.elements.some((e) => e.key))) touchesIndices = true;
      ops.push({ a });
    }
    if (cmd.name?.text === 'unset') {
      const targets = cmd.args.flatMap((w) => (w.type === 'Word' ? [literalValue(w) ?? '?'] : []));
      if (targets.some((t) => t.startsWith('source[') || t === 'source' || t === '?')) {
        if (ctx.conditional) conditional = true;
        if (targets.some((t) => t.startsWith('source[') || t === '?')) touchesIndices = true;
        ops.push({ unset: targets });
      }
    }
  });
  if (!touchesIndices) return false;
  if (conditional) return undefined;
  let indices = new Set<number>();
  const next = (): number => (indices.size === 0 ? 0 : Math.max(...indices) + 1);
  for (const op of ops) {
    if (op.unset) {
      for (const t of op.unset) {
        if (t === 'source') indices = new Set();
        const m = /^source\[(\d+)\]$/.exec(t);
        if (m) indices.delete(Number(m[1]));
        else if (t !== 'source' && t.startsWith('source[')) return undefined;
      }
      continue;
    }
    const a = op.a!;
    if (a.index) {
      const i = literalIndex(a.index);
      if (i === undefined || a.value.type === 'ArrayLiteral') return undefined;
      indices.add(i);
      continue;
    }
    if (a.value.type === 'ArrayLiteral') {
      if (!a.append) indices = new Set();
      let i = next();
      for (const el of a.value.elements) {
        if (el.key) {
          const k = literalIndex(el.key);
          if (k === undefined) return undefined;
          i = k;
        } else if (literalValue(el.value) === undefined) {
          return undefined;
        }
        indices.add(i);
        i += 1;
      }
    } else if (a.append) {
      if (indices.size === 0) indices.add(0);
    } else {
      indices.add(0);
    }
  }
  if (indices.size === 0) return false;
  return Math.max(...indices) + 1 !== indices.size;
}

/** Names read through a parameter expansion (`$name`, `${name…}`) anywhere in the file. */
export function referencedNames(script: Script): Set<string> {
  const names = new Set<string>();
  const stack: unknown[] = [script];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (const n of node) stack.push(n);
    } else if (node !== null && typeof node === 'object') {
      const rec = node as Record<string, unknown>;
      if (rec.type === 'ParamExpansion' && typeof rec.name === 'string') names.add(rec.name);
      for (const [k, v] of Object.entries(rec)) if (k !== 'range' && k !== 'nameRange' && typeof v === 'object') stack.push(v);
    }
  }
  return names;
}
