/**
 * The bash parser: node shapes and ranges, every quoting form, compound commands, heredocs,
 * and error recovery (an `E_SYNTAX` at the right place, then parsing goes on).
 */
import { describe, expect, it } from 'vitest';
import type { Assignment, Command, FunctionDefinition, SimpleCommand, Statement, Word } from './ast.js';
import { MAX_DEPTH, parseScript } from './parser.js';

const first = (src: string): Command => {
  const r = parseScript(src);
  expect(r.diagnostics).toEqual([]);
  const c = r.script.body[0]?.list.pipelines[0]?.commands[0];
  if (!c) throw new Error('no command');
  return c;
};
const simple = (src: string): SimpleCommand => {
  const c = first(src);
  if (c.type !== 'SimpleCommand') throw new Error(`not a simple command: ${c.type}`);
  return c;
};
const word = (src: string): Word => simple(`x ${src}`).args[0] as Word;

describe('words and quoting', () => {
  it('splits a word into typed parts with ranges', () => {
    const w = word(`a'b'"c$d"$'e\\n'\\ f`);
    expect(w.parts.map((p) => p.type)).toEqual(['Literal', 'SingleQuoted', 'DoubleQuoted', 'AnsiCQuoted', 'Escaped', 'Literal']);
    expect(w.text).toBe(`a'b'"c$d"$'e\\n'\\ f`);
    expect(w.range.start).toEqual({ line: 1, column: 3, offset: 2 });
    const dq = w.parts[2];
    if (dq?.type !== 'DoubleQuoted') throw new Error();
    expect(dq.parts.map((p) => p.type)).toEqual(['Literal', 'ParamExpansion']);
    expect(w.parts[3]).toMatchObject({ type: 'AnsiCQuoted', value: 'e\n' });
  });

  it('ends a literal where the expansion after it begins (words, double quotes, assignments)', () => {
    // x xy$b"cd${e}"
    const w = word('xy$b"cd${e}"');
    expect(w.parts.map((p) => [p.type, p.range.start.offset, p.range.end.offset])).toEqual([
      ['Literal', 2, 4],
      ['ParamExpansion', 4, 6],
      ['DoubleQuoted', 6, 14],
    ]);
    const dq = w.parts[2];
    if (dq?.type !== 'DoubleQuoted') throw new Error();
    expect(dq.parts.map((p) => [p.type, p.range.start.offset, p.range.end.offset])).toEqual([
      ['Literal', 7, 9],
      ['ParamExpansion', 9, 13],
    ]);
    const v = simple('a=xy$b').assignments[0]?.value;
    if (!v || v.type !== 'Word') throw new Error('no assignment');
    expect(v.parts.map((p) => [p.type, p.range.start.offset, p.range.end.offset])).toEqual([
      ['Literal', 2, 4],
      ['ParamExpansion', 4, 6],
    ]);
  });

  it('removes line continuations outside single quotes', () => {
    const w = word("ab\\\ncd'x\\\ny'");
    expect(w.parts).toMatchObject([{ type: 'Literal', value: 'abcd' }, { type: 'SingleQuoted', value: 'x\\\ny' }]);
  });

  it('parses every parameter-expansion operator', () => {
    const ops = [':-', '-', ':=', '=', ':+', '+', ':?', '?', '#', '##', '%', '%%', '/', '//', '/#', '/%', '^', '^^', ',', ',,', ':'];
    for (const op of ops) {
      const w = word(`\${v${op}x}`);
      expect(w.parts[0]).toMatchObject({ type: 'ParamExpansion', name: 'v', op, braced: true });
    }
    expect(word('${#a[@]}').parts[0]).toMatchObject({ name: 'a', length: true, index: '@' });
    expect(word('${!ref}').parts[0]).toMatchObject({ name: 'ref', indirect: true });
    const rep = word('${v//a b/c}').parts[0];
    if (rep?.type !== 'ParamExpansion') throw new Error();
    expect(rep.arg?.text).toBe('a b');
    expect(rep.arg2?.text).toBe('c');
    const sub = word('${v: -1:2}').parts[0];
    if (sub?.type !== 'ParamExpansion') throw new Error();
    expect([sub.op, sub.arg?.text, sub.arg2?.text]).toEqual([':', ' -1', '2']);
    expect(word('${arr[i+1]}').parts[0]).toMatchObject({ name: 'arr', index: { text: 'i+1' } });
  });

  it('parses substitutions, arithmetic and process substitution', () => {
    expect(word('$(echo "$(date)")').parts[0]).toMatchObject({ type: 'CommandSubstitution', backtick: false });
    expect(word('`echo hi`').parts[0]).toMatchObject({ type: 'CommandSubstitution', backtick: true });
    expect(word('$((1 + (2*3)))').parts[0]).toMatchObject({ type: 'ArithmeticExpansion', expr: { text: '1 + (2*3)' } });
    expect(word('$( (cd x) )').parts[0]).toMatchObject({ type: 'CommandSubstitution' });
    expect(word('<(ls)').parts[0]).toMatchObject({ type: 'ProcessSubstitution', direction: '<' });
  });
});

describe('assignments', () => {
  it('parses scalar, append, indexed and array forms with ranges', () => {
    const c = simple('a=1 b+=2 c[3]=x d=(x "y z" [5]=w) e+=()');
    const as = c.assignments as Assignment[];
    expect(as.map((a) => [a.name, a.append, a.value.type])).toEqual([
      ['a', false, 'Word'], ['b', true, 'Word'], ['c', false, 'Word'], ['d', false, 'ArrayLiteral'], ['e', true, 'ArrayLiteral'],
    ]);
    expect(as[2]?.index?.text).toBe('3');
    const d = as[3]?.value;
    if (d?.type !== 'ArrayLiteral') throw new Error();
    expect(d.elements.map((e) => [e.key?.text, e.value.text])).toEqual([[undefined, 'x'], [undefined, '"y z"'], ['5', 'w']]);
    expect(as[3]?.range).toMatchObject({ start: { column: 17 }, end: { column: 34 } });
  });

  it('keeps comments inside multi-line arrays', () => {
    const c = simple('depends=(\n  a # first\n  # alone\n  b\n)');
    const v = c.assignments[0]?.value;
    if (v?.type !== 'ArrayLiteral') throw new Error();
    expect(v.elements.map((e) => e.value.text)).toEqual(['a', 'b']);
    expect(v.comments.map((x) => x.text)).toEqual([' first', ' alone']);
    expect(c.range.end).toEqual({ line: 5, column: 2, offset: 37 });
  });

  it('parses declaration builtins with array arguments', () => {
    const c = simple('declare -a -g x=(1 2) y');
    expect(c.name?.text).toBe('declare');
    expect(c.args.map((a) => (a.type === 'Assignment' ? `=${a.name}` : a.text))).toEqual(['-a', '-g', '=x', 'y']);
  });
});

describe('compound commands', () => {
  it('parses functions in all three forms', () => {
    const r = parseScript('a() { :; }\nfunction b { :; }\nfunction c() ( : )\nd()\n{\n  :\n}\n');
    expect(r.diagnostics).toEqual([]);
    const fns = r.script.body.map((s) => s.list.pipelines[0]?.commands[0] as FunctionDefinition);
    expect(fns.map((f) => [f.name, f.keyword, f.body.type])).toEqual([
      ['a', false, 'BraceGroup'], ['b', true, 'BraceGroup'], ['c', true, 'Subshell'], ['d', false, 'BraceGroup'],
    ]);
    expect(fns[3]?.range).toMatchObject({ start: { line: 4, column: 1 }, end: { line: 7, column: 2 } });
  });

  it('parses if/elif/else, loops, case, groups and tests', () => {
    const src = [
      'if [[ $a == b* && ! -z $c ]]; then x; elif (( i > 2 )); then y; else z; fi',
      'for i in 1 2; do :; done; for ((i=0; i<3; i++)); do :; done',
      'while read -r l; do :; done < f; until false; do break; done',
      'case $x in a|b) one ;; (c) two ;& *) three ;;& esac',
      '{ a; b; } > /dev/null; ( c ) && ! d || e | f |& g',
      '[ -n "$x" ] && test 1 -eq 1',
    ].join('\n');
    const r = parseScript(src);
    expect(r.diagnostics).toEqual([]);
    const types = r.script.body.map((s: Statement) => s.list.pipelines.map((p) => p.commands.map((c) => c.type).join('|')).join(' && '));
    expect(types).toEqual(['If', 'For', 'ArithFor', 'While', 'While', 'Case', 'BraceGroup', 'Subshell && SimpleCommand && SimpleCommand|SimpleCommand|SimpleCommand', 'SimpleCommand && SimpleCommand']);
    const cs = r.script.body[5]?.list.pipelines[0]?.commands[0];
    if (cs?.type !== 'Case') throw new Error();
    expect(cs.items.map((i) => [i.patterns.map((p) => p.text), i.terminator])).toEqual([[['a', 'b'], ';;'], [['c'], ';&'], [['*'], ';;&']]);
    const iff = r.script.body[0]?.list.pipelines[0]?.commands[0];
    if (iff?.type !== 'If') throw new Error();
    expect(iff.clauses.length).toBe(2);
    const t = iff.clauses[0]?.condition[0]?.list.pipelines[0]?.commands[0];
    expect(t).toMatchObject({ type: 'Test', expr: { type: 'TestAnd', left: { type: 'TestBinary', op: '==' }, right: { type: 'TestNot' } } });
  });

  it('reads heredocs, including quoted and tab-stripped ones', () => {
    const r = parseScript('cat <<EOF; cat <<-"X"\nhello $name\nEOF\n\tliteral $x\n\tX\nafter=1\n');
    expect(r.diagnostics).toEqual([]);
    const cmds = r.script.body.slice(0, 2).map((s) => s.list.pipelines[0]?.commands[0] as SimpleCommand);
    const h1 = cmds[0]?.redirects[0]?.heredoc;
    const h2 = cmds[1]?.redirects[0]?.heredoc;
    expect(h1).toMatchObject({ delimiter: 'EOF', quoted: false, body: 'hello $name\n' });
    expect(h1?.content.parts.map((p) => p.type)).toEqual(['Literal', 'ParamExpansion', 'Literal']);
    expect(h2).toMatchObject({ delimiter: 'X', quoted: true, stripTabs: true, body: '\tliteral $x\n' });
    const third = r.script.body[2]?.list.pipelines[0]?.commands[0] as SimpleCommand | undefined;
    expect(third?.assignments[0]?.name).toBe('after');
  });

  it('records comments', () => {
    const r = parseScript('# top\na=1 # trailing\n');
    expect(r.script.comments.map((c) => [c.text, c.range.start.line, c.range.start.column])).toEqual([[' top', 1, 1], [' trailing', 2, 5]]);
  });
});

describe('errors and recovery', () => {
  it('reports an unterminated quote at its opening and goes on after a bad line', () => {
    const r = parseScript('a=1\nb=)\nc=2\n');
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ code: 'E_SYNTAX', range: { start: { line: 2, column: 3 } } });
    expect(r.script.body.map((s) => (s.list.pipelines[0]?.commands[0] as SimpleCommand | undefined)?.assignments[0]?.name)).toEqual(['a', 'c']);
  });

  it('reports unclosed constructs', () => {
    for (const src of ['x="abc', "x='abc", 'if true; then', 'f() {', 'a=(1 2', 'case x in', 'x=$(foo', 'x=${a', 'for x in 1; do']) {
      const r = parseScript(src);
      expect(r.diagnostics.length, src).toBeGreaterThan(0);
      expect(r.diagnostics[0]?.code, src).toBe('E_SYNTAX');
    }
  });

  it('rejects stray keywords and operators', () => {
    for (const src of ['fi', 'done', ';;', '&& x', 'then x', 'a | ', 'x )']) {
      expect(parseScript(src).diagnostics[0]?.code, src).toBe('E_SYNTAX');
    }
  });

  it('caps nesting depth instead of overflowing the stack', () => {
    const deep = '$('.repeat(5000) + ')'.repeat(5000);
    const r = parseScript(`x=${deep}`);
    expect(r.diagnostics[0]?.code).toBe('E_NESTING');
    const braces = '{ '.repeat(MAX_DEPTH * 3) + ':' + '; }'.repeat(MAX_DEPTH * 3);
    expect(parseScript(braces).diagnostics[0]?.code).toBe('E_NESTING');
  });

  it('never throws on arbitrary bytes', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const alphabet = 'ab=$(){}[]"\'`\\;&|<>#\n \t!*?~-+:,/%^.0123456789';
    for (let i = 0; i < 300; i++) {
      let s = '';
      const n = Math.floor(rnd() * 200);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      expect(() => parseScript(s)).not.toThrow();
    }
  });
});
