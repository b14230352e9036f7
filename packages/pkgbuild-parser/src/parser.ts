/**
 * A recursive-descent parser for the bash language PKGBUILDs use. It reads the text directly
 * (bash's tokenization depends on context), builds the AST of `ast.ts` with ranges, reports
 * syntax errors as `E_SYNTAX` diagnostics and resumes at the next line. It never throws, runs
 * in linear time for ordinary input and caps nesting depth (`E_NESTING`).
 */
import type {
  ArithmeticText, ArrayElement, ArrayLiteral, Assignment, CaseItem, Command, Comment,
  CompoundCommand, FunctionDefinition, Heredoc, IfClause, ParamExpansionPart, ParamOp, Pipeline,
  Redirect, Script, SimpleCommand, Statement, TestExpr, Word, WordPart, AndOrList,
} from './ast.js';
import { LineMap, RESERVED, decodeAnsiC, isDigit, isMeta, isName, isNameChar, isNameCode, isNameStart, isSpecialParam } from './lexer.js';
import type { Diagnostic, Range } from './model.js';

/** Maximum nesting of commands, substitutions and quotes before the parser gives up. */
export const MAX_DEPTH = 150;

class SyntaxFail extends Error {
  constructor(readonly offset: number, message: string, readonly code = 'E_SYNTAX', readonly endOffset?: number) {
    super(message);
  }
}

/** What ends a word in the current context. */
const enum WordMode {
  /** Ordinary command word. */
  Command,
  /** Inside `[[ ]]`: `<`, `>` are operators but `(`… patterns after `=~` are kept. */
  Test,
  /** Regex operand of `=~`: parentheses and `|` are part of the word. */
  Regex,
}

const DECL_BUILTINS = new Set(['declare', 'typeset', 'local', 'export', 'readonly']);

/** Parse result of {@link parseScript}. */
export interface ScriptParse {
  script: Script;
  diagnostics: Diagnostic[];
}

/** Parses bash source text into a {@link Script}. Never throws. */
export function parseScript(text: string): ScriptParse {
  const p = new Parser(text);
  const script = p.parseTop();
  return { script, diagnostics: p.diagnostics };
}

/**
 * Parses `text` as exactly one shell word (used to re-read the words brace expansion produces).
 * Returns undefined when the text is not a single well-formed word.
 */
export function parseWordText(text: string): Word | undefined {
  if (text === '') return { type: 'Word', parts: [], text: '', range: new LineMap('').range(0, 0) };
  const p = new Parser(text);
  try {
    const w = p.parseWord(WordMode.Command);
    return p.pos === text.length && p.diagnostics.length === 0 ? w : undefined;
  } catch (e) {
    if (e instanceof SyntaxFail) return undefined;
    throw e;
  }
}

interface PendingHeredoc {
  redirect: Redirect;
  delimiter: string;
  quoted: boolean;
  strip: boolean;
}

class Parser {
  readonly src: string;
  readonly len: number;
  readonly lines: LineMap;
  pos = 0;
  depth = 0;
  readonly diagnostics: Diagnostic[] = [];
  readonly comments: Comment[] = [];
  pending: PendingHeredoc[] = [];

  constructor(text: string) {
    this.src = text;
    this.len = text.length;
    this.lines = new LineMap(text);
  }

  range(a: number, b: number): Range {
    return this.lines.range(a, b);
  }

  fail(message: string, offset = this.pos, end?: number): never {
    throw new SyntaxFail(Math.min(offset, this.len), message, 'E_SYNTAX', end);
  }

  enter(): void {
    if (++this.depth > MAX_DEPTH) {
      throw new SyntaxFail(this.pos, `nesting deeper than ${MAX_DEPTH} levels: the parser stops here`, 'E_NESTING');
    }
  }

  leave(): void {
    this.depth--;
  }

  peek(o = 0): string | undefined {
    return this.src[this.pos + o];
  }

  startsWith(s: string): boolean {
    return this.src.startsWith(s, this.pos);
  }

  // -------------------------------------------------------------------------------------------
  // Blanks, comments, newlines

  /** Skips blanks, line continuations and a trailing comment (not the newline). */
  skipBlanks(): void {
    const s = this.src;
    for (;;) {
      const x = s.charCodeAt(this.pos);
      if (x === 32 || x === 9) this.pos++; // space, tab
      else if (x === 92 && s.charCodeAt(this.pos + 1) === 10) this.pos += 2; // \⏎
      else if (x === 35) { // #
        this.readComment();
      } else return;
    }
  }

  readComment(): void {
    const s = this.src;
    const start = this.pos;
    let end = s.indexOf('\n', start);
    if (end === -1) end = this.len;
    this.comments.push({ type: 'Comment', text: s.slice(start + 1, end), range: this.range(start, end) });
    this.pos = end;
  }

  /** Consumes one newline and then any pending heredoc bodies. */
  newline(): void {
    this.pos++;
    if (this.pending.length > 0) this.readHeredocBodies();
  }

  /** Skips blanks, comments and newlines. */
  skipLinebreaks(): void {
    for (;;) {
      this.skipBlanks();
      if (this.src[this.pos] === '\n') this.newline();
      else return;
    }
  }

  /** Offset {@link reservedHere} last looked at, and what it found there. */
  private reservedAt = -1;
  private reservedWord: string | undefined;

  /**
   * The reserved word at the current position, if any (no consumption). The text never
   * changes, so the answer for the last offset asked about is kept: the parser asks several
   * times at the start of every command.
   */
  reservedHere(): string | undefined {
    const pos = this.pos;
    if (pos === this.reservedAt) return this.reservedWord;
    const w = this.reservedAtOffset(pos);
    this.reservedAt = pos;
    this.reservedWord = w;
    return w;
  }

  private reservedAtOffset(pos: number): string | undefined {
    const s = this.src;
    const c = s[pos];
    if (c === undefined) return undefined;
    if (c === '{' || c === '}' || c === '!') {
      return isMeta(s[pos + 1]) ? c : undefined;
    }
    if (c === '[' && s[pos + 1] === '[') return isMeta(s[pos + 2]) ? '[[' : undefined;
    if (c === ']' && s[pos + 1] === ']') return isMeta(s[pos + 2]) ? ']]' : undefined;
    if (!isNameStart(c)) return undefined;
    let e = pos + 1;
    // reserved words have at most 8 characters: no need to scan a longer name to its end
    while (e < this.len && e - pos <= 8 && isNameCode(s.charCodeAt(e))) e++;
    if (e - pos > 8) return undefined;
    if (!isMeta(s[e])) return undefined;
    const w = s.slice(pos, e);
    return RESERVED.has(w) ? w : undefined;
  }

  expectReserved(w: string): number {
    this.skipLinebreaks();
    if (this.reservedHere() !== w) this.fail(`expected \`${w}'` + this.foundText());
    const start = this.pos;
    this.pos += w.length;
    return start;
  }


  foundText(): string {
    const c = this.src[this.pos];
    if (c === undefined) return ' but found end of file';
    if (c === '\n') return ' but found a newline';
    let e = this.pos;
    while (e < this.len && e - this.pos < 20 && !isMeta(this.src[e])) e++;
    const t = e > this.pos ? this.src.slice(this.pos, e) : c;
    return ` but found \`${t}'`;
  }

  // -------------------------------------------------------------------------------------------
  // Top level and lists

  parseTop(): Script {
    const body: Statement[] = [];
    while (this.pos < this.len) {
      const stmtStart = this.pos;
      try {
        this.skipLinebreaks();
        if (this.pos >= this.len) break;
        const r = this.reservedHere();
        if (r && TERMINATORS.has(r)) this.fail(`syntax error near unexpected token \`${r}'`);
        const c = this.src[this.pos];
        if (c === ')') this.fail("syntax error near unexpected token `)'");
        if (c === ';' || c === '&' || c === '|') this.fail(`syntax error near unexpected token \`${this.opText()}'`);
        const st = this.parseStatement();
        if (this.src[this.pos] === ')') this.fail("syntax error near unexpected token `)'");
        body.push(st);
        this.afterStatement(st);
      } catch (e) {
        if (!(e instanceof SyntaxFail)) throw e;
        this.report(e);
        this.pending = [];
        this.depth = 0;
        if (e.code === 'E_NESTING') {
          this.pos = this.len;
          break;
        }
        const from = Math.max(e.offset, stmtStart);
        const nl = this.src.indexOf('\n', from);
        this.pos = nl === -1 ? this.len : nl + 1;
      }
    }
    return { type: 'Script', body, comments: this.comments, range: this.range(0, this.len) };
  }

  report(e: SyntaxFail): void {
    const end = e.endOffset ?? Math.min(this.len, e.offset + 1);
    this.diagnostics.push({ code: e.code, severity: 'error', message: e.message, range: this.range(e.offset, Math.max(end, e.offset)) });
  }

  opText(): string {
    const s = this.src;
    const c = s[this.pos] as string;
    const n = s[this.pos + 1];
    if ((c === ';' || c === '&' || c === '|') && n === c) return c + c;
    return c;
  }

  /** After a statement: its terminator was consumed; at top level require a separator. */
  afterStatement(st: Statement): void {
    void st;
  }

  /**
   * Parses statements until a terminator: a reserved word in `stops`, `)` (when `paren`),
   * `;;`/`;&`/`;;&` (when `caseItem`) or end of input (only when `eofOk`).
   */
  parseList(stops: ReadonlySet<string>, opts: { paren?: boolean; caseItem?: boolean; what: string }): Statement[] {
    const body: Statement[] = [];
    for (;;) {
      this.skipLinebreaks();
      const c = this.src[this.pos];
      if (c === undefined) {
        this.fail(`unexpected end of file: ${opts.what} is not closed`);
      }
      const r = this.reservedHere();
      if (r !== undefined && stops.has(r)) return body;
      if (r !== undefined && TERMINATORS.has(r)) this.fail(`syntax error near unexpected token \`${r}'`);
      if (c === ')') {
        if (opts.paren || opts.caseItem) return body;
        this.fail("syntax error near unexpected token `)'");
      }
      if (c === ';' && opts.caseItem && (this.src[this.pos + 1] === ';' || this.src[this.pos + 1] === '&')) return body;
      if (c === ';' || c === '&' || c === '|') this.fail(`syntax error near unexpected token \`${this.opText()}'`);
      body.push(this.parseStatement(opts.caseItem === true));
    }
  }

  parseStatement(inCase = false): Statement {
    const start = this.pos;
    const list = this.parseAndOr();
    this.skipBlanks();
    const s = this.src;
    const c = s[this.pos];
    let background = false;
    if (c === ';') {
      const n = s[this.pos + 1];
      if (n === ';' || n === '&') {
        if (!inCase) this.fail(`syntax error near unexpected token \`${n === ';' ? ';;' : ';&'}'`);
      } else this.pos++;
    } else if (c === '&') {
      this.pos++;
      background = true;
    } else if (c === '\n') {
      this.newline();
    } else if (c !== undefined && c !== ')' && this.reservedHere() === undefined) {
      this.fail(`syntax error near unexpected token \`${this.opText()}'`);
    } else if (c !== undefined && c !== ')') {
      // a reserved word directly after a command: only valid as a terminator keyword (`} fi`)
      const r = this.reservedHere() as string;
      if (!TERMINATORS.has(r)) this.fail(`syntax error near unexpected token \`${r}'`);
    }
    const end = list.range.end.offset;
    return { type: 'Statement', list, background, range: this.range(start, Math.max(end, start)) };
  }

  parseAndOr(): AndOrList {
    const start = this.pos;
    const pipelines: Pipeline[] = [this.parsePipeline()];
    const operators: ('&&' | '||')[] = [];
    for (;;) {
      this.skipBlanks();
      const s = this.src;
      const c = s[this.pos];
      if ((c === '&' || c === '|') && s[this.pos + 1] === c) {
        operators.push(c === '&' ? '&&' : '||');
        this.pos += 2;
        this.skipLinebreaks();
        pipelines.push(this.parsePipeline());
      } else break;
    }
    const last = pipelines[pipelines.length - 1] as Pipeline;
    return { type: 'AndOrList', pipelines, operators, range: this.range(start, last.range.end.offset) };
  }

  parsePipeline(): Pipeline {
    this.skipBlanks();
    const start = this.pos;
    let negated = false;
    let timed = false;
    for (;;) {
      const r = this.reservedHere();
      if (r === '!') {
        negated = !negated;
        this.pos++;
        this.skipBlanks();
      } else if (r === 'time') {
        timed = true;
        this.pos += 4;
        this.skipBlanks();
        if (this.startsWith('-p') && isMeta(this.peek(2))) {
          this.pos += 2;
          this.skipBlanks();
        }
      } else break;
    }
    const commands: Command[] = [this.parseCommand()];
    const operators: ('|' | '|&')[] = [];
    for (;;) {
      this.skipBlanks();
      const s = this.src;
      if (s[this.pos] === '|' && s[this.pos + 1] !== '|') {
        const op = s[this.pos + 1] === '&' ? '|&' : '|';
        this.pos += op.length;
        operators.push(op);
        this.skipLinebreaks();
        commands.push(this.parseCommand());
      } else break;
    }
    const last = commands[commands.length - 1] as Command;
    return { type: 'Pipeline', negated, timed, commands, operators, range: this.range(start, last.range.end.offset) };
  }

  // -------------------------------------------------------------------------------------------
  // Commands

  parseCommand(): Command {
    this.enter();
    try {
      this.skipBlanks();
      const s = this.src;
      const c = s[this.pos];
      if (c === undefined) this.fail('unexpected end of file: a command was expected');
      const r = this.reservedHere();
      switch (r) {
        case 'if': return this.withRedirects(this.parseIf());
        case 'for': return this.withRedirects(this.parseFor());
        case 'select': return this.withRedirects(this.parseSelect());
        case 'while': case 'until': return this.withRedirects(this.parseWhile(r === 'until'));
        case 'case': return this.withRedirects(this.parseCase());
        case '{': return this.withRedirects(this.parseBraceGroup());
        case '[[': return this.withRedirects(this.parseTest());
        case 'function': return this.parseFunctionKeyword();
        case 'coproc': this.fail('`coproc` is not supported');
        case undefined: break;
        default: this.fail(`syntax error near unexpected token \`${r}'`);
      }
      if (c === '(') {
        if (s[this.pos + 1] === '(') {
          const arith = this.tryArithCommand();
          if (arith) return this.withRedirects(arith);
        }
        return this.withRedirects(this.parseSubshell());
      }
      return this.parseSimpleCommand();
    } finally {
      this.leave();
    }
  }

  withRedirects<T extends CompoundCommand>(cmd: T): T {
    for (;;) {
      this.skipBlanks();
      const r = this.tryRedirect();
      if (!r) break;
      cmd.redirects.push(r);
      cmd.range = this.range(cmd.range.start.offset, r.range.end.offset);
    }
    return cmd;
  }

  parseIf(): CompoundCommand {
    const start = this.pos;
    this.pos += 2;
    const clauses: IfClause[] = [];
    let elseBody: Statement[] | undefined;
    let clauseStart = start;
    for (;;) {
      const condition = this.parseList(THEN, { what: '`if` condition' });
      this.expectReserved('then');
      const body = this.parseList(IF_BODY_END, { what: '`if`' });
      clauses.push({ type: 'IfClause', condition, body, range: this.range(clauseStart, this.pos) });
      const r = this.reservedHere();
      if (r === 'elif') {
        clauseStart = this.pos;
        this.pos += 4;
        continue;
      }
      if (r === 'else') {
        this.pos += 4;
        elseBody = this.parseList(FI, { what: '`if`' });
      }
      this.expectReserved('fi');
      break;
    }
    const cmd: CompoundCommand = { type: 'If', clauses, redirects: [], range: this.range(start, this.pos) };
    if (elseBody) cmd.elseBody = elseBody;
    return cmd;
  }

  parseDoGroup(): Statement[] {
    this.skipLinebreaks();
    const r = this.reservedHere();
    if (r === '{') {
      // bash accepts `for x in …; { …; }` as the loop body
      const g = this.parseBraceGroup();
      return g.body;
    }
    this.expectReserved('do');
    const body = this.parseList(DONE, { what: '`do`' });
    this.expectReserved('done');
    return body;
  }

  parseFor(): CompoundCommand {
    const start = this.pos;
    this.pos += 3;
    this.skipBlanks();
    if (this.startsWith('((')) {
      const open = this.pos;
      this.pos += 2;
      const parts = this.parseArithUntil('))', open, true);
      const texts = parts;
      this.skipBlanks();
      if (this.peek() === ';') this.pos++;
      const body = this.parseDoGroup();
      return {
        type: 'ArithFor', init: texts[0] as ArithmeticText, test: texts[1] as ArithmeticText,
        update: texts[2] as ArithmeticText, body, redirects: [], range: this.range(start, this.pos),
      };
    }
    const nameStart = this.pos;
    while (isNameChar(this.peek())) this.pos++;
    const variable = this.src.slice(nameStart, this.pos);
    if (!isName(variable) || !isMeta(this.peek())) this.fail(`\`${variable || this.foundText()}': not a valid identifier in \`for'`, nameStart);
    const variableRange = this.range(nameStart, this.pos);
    const words = this.parseInWords();
    const body = this.parseDoGroup();
    const cmd: CompoundCommand = { type: 'For', variable, variableRange, body, redirects: [], range: this.range(start, this.pos) };
    if (words) cmd.words = words;
    return cmd;
  }

  parseInWords(): Word[] | undefined {
    const save = this.pos;
    this.skipLinebreaks();
    if (this.reservedHere() !== 'in') {
      // `for x; do` or `for x do`
      this.skipBlanks();
      if (this.peek() === ';') this.pos++;
      else if (this.reservedHere() !== 'do') this.pos = save;
      return undefined;
    }
    this.pos += 2;
    const words: Word[] = [];
    for (;;) {
      this.skipBlanks();
      const c = this.peek();
      if (c === ';' || c === '\n') {
        if (c === ';') this.pos++;
        else this.newline();
        break;
      }
      if (c === undefined) this.fail('unexpected end of file in `for` word list');
      if (isMeta(c)) this.fail(`syntax error near unexpected token \`${this.opText()}'`);
      words.push(this.parseWord(WordMode.Command));
    }
    return words;
  }

  parseSelect(): CompoundCommand {
    const start = this.pos;
    this.pos += 6;
    this.skipBlanks();
    const nameStart = this.pos;
    while (isNameChar(this.peek())) this.pos++;
    const variable = this.src.slice(nameStart, this.pos);
    if (!isName(variable)) this.fail('not a valid identifier in `select`', nameStart);
    const words = this.parseInWords();
    const body = this.parseDoGroup();
    const cmd: CompoundCommand = { type: 'Select', variable, body, redirects: [], range: this.range(start, this.pos) };
    if (words) cmd.words = words;
    return cmd;
  }

  parseWhile(until: boolean): CompoundCommand {
    const start = this.pos;
    this.pos += 5;
    const condition = this.parseList(DO, { what: until ? '`until`' : '`while`' });
    const body = this.parseDoGroup();
    return { type: 'While', until, condition, body, redirects: [], range: this.range(start, this.pos) };
  }

  parseCase(): CompoundCommand {
    const start = this.pos;
    this.pos += 4;
    this.skipBlanks();
    if (isMeta(this.peek())) this.fail('`case` needs a word');
    const word = this.parseWord(WordMode.Command);
    this.skipLinebreaks();
    if (this.reservedHere() !== 'in') this.fail('expected `in` after the `case` word' + this.foundText());
    this.pos += 2;
    const items: CaseItem[] = [];
    for (;;) {
      this.skipLinebreaks();
      if (this.reservedHere() === 'esac') {
        this.pos += 4;
        break;
      }
      if (this.pos >= this.len) this.fail('unexpected end of file: `case` is not closed with `esac`');
      const itemStart = this.pos;
      if (this.peek() === '(') {
        this.pos++;
        this.skipBlanks();
      }
      const patterns: Word[] = [];
      for (;;) {
        this.skipBlanks();
        const c = this.peek();
        if (c === undefined || c === '\n' || c === ')' || c === '|' || c === ';' || c === '&' || c === '<' || c === '>' || c === '(') {
          this.fail('a `case` pattern was expected' + this.foundText());
        }
        patterns.push(this.parseWord(WordMode.Command, true));
        this.skipBlanks();
        if (this.peek() === '|') {
          this.pos++;
          continue;
        }
        if (this.peek() === ')') {
          this.pos++;
          break;
        }
        this.fail('expected `)` after the `case` pattern' + this.foundText());
      }
      const body = this.parseList(ESAC, { caseItem: true, what: '`case`' });
      this.skipBlanks();
      const item: CaseItem = { type: 'CaseItem', patterns, body, range: this.range(itemStart, this.pos) };
      const s = this.src;
      if (s[this.pos] === ';') {
        if (s.startsWith(';;&', this.pos)) { item.terminator = ';;&'; this.pos += 3; }
        else if (s.startsWith(';;', this.pos)) { item.terminator = ';;'; this.pos += 2; }
        else if (s.startsWith(';&', this.pos)) { item.terminator = ';&'; this.pos += 2; }
        item.range = this.range(itemStart, this.pos);
      } else if (s[this.pos] === ')') {
        this.fail("syntax error near unexpected token `)'");
      }
      items.push(item);
      if (item.terminator === undefined) {
        this.skipLinebreaks();
        if (this.reservedHere() !== 'esac') this.fail('expected `esac`' + this.foundText());
      }
    }
    return { type: 'Case', word, items, redirects: [], range: this.range(start, this.pos) };
  }

  parseBraceGroup(): CompoundCommand & { type: 'BraceGroup' } {
    const start = this.pos;
    this.pos += 1;
    const body = this.parseList(RBRACE, { what: '`{`' });
    this.expectReserved('}');
    return { type: 'BraceGroup', body, redirects: [], range: this.range(start, this.pos) };
  }

  parseSubshell(): CompoundCommand {
    const start = this.pos;
    this.pos += 1;
    const body = this.parseList(NONE, { paren: true, what: '`(`' });
    if (this.peek() !== ')') this.fail('expected `)`' + this.foundText());
    this.pos++;
    return { type: 'Subshell', body, redirects: [], range: this.range(start, this.pos) };
  }

  tryArithCommand(): CompoundCommand | undefined {
    const start = this.pos;
    const diagLen = this.diagnostics.length;
    this.pos += 2;
    try {
      const [expr] = this.parseArithUntil('))', start, false);
      return { type: 'Arith', expr: expr as ArithmeticText, redirects: [], range: this.range(start, this.pos) };
    } catch (e) {
      if (!(e instanceof SyntaxFail) || e.code === 'E_NESTING') throw e;
      this.pos = start;
      this.diagnostics.length = diagLen;
      return undefined;
    }
  }

  parseFunctionKeyword(): FunctionDefinition {
    const start = this.pos;
    this.pos += 8;
    this.skipBlanks();
    const nameStart = this.pos;
    while (!isMeta(this.peek()) && this.peek() !== '"' && this.peek() !== "'" && this.peek() !== '$' && this.peek() !== '`') this.pos++;
    const name = this.src.slice(nameStart, this.pos);
    if (name === '') this.fail('`function` needs a name' + this.foundText());
    const nameRange = this.range(nameStart, this.pos);
    this.skipBlanks();
    if (this.peek() === '(') {
      this.pos++;
      this.skipBlanks();
      if (this.peek() !== ')') this.fail('expected `)` in the function definition' + this.foundText());
      this.pos++;
    }
    return this.finishFunction(start, name, nameRange, true);
  }

  finishFunction(start: number, name: string, nameRange: Range, keyword: boolean): FunctionDefinition {
    this.skipLinebreaks();
    const r = this.reservedHere();
    let body: CompoundCommand;
    this.enter();
    try {
      switch (r) {
        case '{': body = this.parseBraceGroup(); break;
        case 'if': body = this.parseIf(); break;
        case 'for': body = this.parseFor(); break;
        case 'while': case 'until': body = this.parseWhile(r === 'until'); break;
        case 'case': body = this.parseCase(); break;
        case 'select': body = this.parseSelect(); break;
        case '[[': body = this.parseTest(); break;
        default:
          if (this.peek() === '(') {
            body = (this.peek(1) === '(' && this.tryArithCommand()) || this.parseSubshell();
          } else this.fail(`the body of function \`${name}' must be a compound command such as \`{ …; }'` + this.foundText());
      }
    } finally {
      this.leave();
    }
    const fn: FunctionDefinition = { type: 'FunctionDefinition', name, nameRange, keyword, body, redirects: [], range: this.range(start, body.range.end.offset) };
    for (;;) {
      this.skipBlanks();
      const rd = this.tryRedirect();
      if (!rd) break;
      fn.redirects.push(rd);
      fn.range = this.range(start, rd.range.end.offset);
    }
    return fn;
  }

  // -------------------------------------------------------------------------------------------
  // [[ … ]]

  parseTest(): CompoundCommand {
    const start = this.pos;
    this.pos += 2;
    const expr = this.testOr();
    this.skipTestBlanks();
    if (this.reservedHere() !== ']]') this.fail('expected `]]`' + this.foundText());
    this.pos += 2;
    return { type: 'Test', expr, redirects: [], range: this.range(start, this.pos) };
  }

  skipTestBlanks(): void {
    for (;;) {
      this.skipBlanks();
      if (this.peek() === '\n') this.newline();
      else return;
    }
  }

  testOr(): TestExpr {
    let left = this.testAnd();
    for (;;) {
      this.skipTestBlanks();
      if (this.startsWith('||')) {
        this.pos += 2;
        const right = this.testAnd();
        left = { type: 'TestOr', left, right, range: this.range(left.range.start.offset, right.range.end.offset) };
      } else return left;
    }
  }

  testAnd(): TestExpr {
    let left = this.testNot();
    for (;;) {
      this.skipTestBlanks();
      if (this.startsWith('&&')) {
        this.pos += 2;
        const right = this.testNot();
        left = { type: 'TestAnd', left, right, range: this.range(left.range.start.offset, right.range.end.offset) };
      } else return left;
    }
  }

  testNot(): TestExpr {
    this.skipTestBlanks();
    const start = this.pos;
    if (this.peek() === '!' && isMeta(this.peek(1))) {
      this.pos++;
      this.enter();
      try {
        const expr = this.testNot();
        return { type: 'TestNot', expr, range: this.range(start, expr.range.end.offset) };
      } finally {
        this.leave();
      }
    }
    return this.testPrimary();
  }

  testPrimary(): TestExpr {
    this.skipTestBlanks();
    const start = this.pos;
    const c = this.peek();
    if (c === '(') {
      this.pos++;
      this.enter();
      try {
        const expr = this.testOr();
        this.skipTestBlanks();
        if (this.peek() !== ')') this.fail('expected `)` in `[[ ]]`' + this.foundText());
        this.pos++;
        return { type: 'TestGroup', expr, range: this.range(start, this.pos) };
      } finally {
        this.leave();
      }
    }
    if (c === undefined || c === ')' || (isMeta(c) && c !== '<' && c !== '>') || this.reservedHere() === ']]') {
      this.fail('an expression was expected in `[[ ]]`' + this.foundText());
    }
    const first = this.parseWord(WordMode.Test);
    const ft = first.text;
    this.skipTestBlanks();
    // unary operator?
    if (/^-[a-zA-Z]$/.test(ft) && first.parts.length === 1 && first.parts[0]?.type === 'Literal') {
      const nc = this.peek();
      if (nc !== undefined && this.reservedHere() !== ']]' && !(nc === '&' && this.peek(1) === '&') && !(nc === '|' && this.peek(1) === '|') && nc !== ')') {
        // could be binary with `first` as left operand when the next word is an operator
        const save = this.pos;
        const opw = this.readTestOperator();
        if (opw === undefined) {
          this.pos = save;
          const operand = this.parseWord(WordMode.Test);
          return { type: 'TestUnary', op: ft, operand, range: this.range(start, operand.range.end.offset) };
        }
        this.pos = save;
      }
    }
    const op = this.readTestOperator();
    if (op === undefined) return { type: 'TestWord', word: first, range: first.range };
    this.skipTestBlanks();
    if (this.pos >= this.len || this.reservedHere() === ']]') this.fail(`an operand was expected after \`${op}'`);
    const right = this.parseWord(op === '=~' ? WordMode.Regex : WordMode.Test);
    return { type: 'TestBinary', op, left: first, right, range: this.range(start, right.range.end.offset) };
  }

  readTestOperator(): string | undefined {
    const s = this.src;
    const c = s[this.pos];
    if (c === '<' || c === '>') {
      this.pos++;
      return c;
    }
    if (c === '=' || c === '!') {
      if (s[this.pos + 1] === '=' && isMeta(s[this.pos + 2])) { this.pos += 2; return c + '='; }
      if (c === '=' && s[this.pos + 1] === '~' && isMeta(s[this.pos + 2])) { this.pos += 2; return '=~'; }
      if (c === '=' && isMeta(s[this.pos + 1])) { this.pos += 1; return '='; }
      return undefined;
    }
    if (c === '-') {
      const m = /^-(eq|ne|lt|le|gt|ge|nt|ot|ef)/.exec(s.slice(this.pos, this.pos + 4));
      if (m && isMeta(s[this.pos + m[0].length])) {
        this.pos += m[0].length;
        return m[0];
      }
    }
    return undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Simple commands, assignments, redirections

  parseSimpleCommand(): Command {
    const start = this.pos;
    const assignments: Assignment[] = [];
    const args: (Word | Assignment)[] = [];
    const redirects: Redirect[] = [];
    let name: Word | undefined;
    let decl = false;
    let end = start;
    for (;;) {
      this.skipBlanks();
      const c = this.peek();
      if (c === undefined || c === '\n' || c === ';' || c === '&' && this.peek(1) !== '>' || c === '|' || c === ')') break;
      const rd = this.tryRedirect();
      if (rd) {
        redirects.push(rd);
        end = rd.range.end.offset;
        continue;
      }
      if (c === '(') {
        if (name && args.length === 0 && assignments.length === 0 && redirects.length === 0) {
          // `name ( )` function definition
          this.pos++;
          this.skipBlanks();
          if (this.peek() !== ')') this.fail("syntax error near unexpected token `('" , this.pos);
          this.pos++;
          const fnName = name.text;
          if (!isValidFunctionName(fnName)) this.fail(`\`${fnName}': not a valid identifier`, name.range.start.offset);
          return this.finishFunction(start, fnName, name.range, false);
        }
        this.fail("syntax error near unexpected token `('");
      }
      if (name === undefined || decl) {
        const asg = this.tryAssignment();
        if (asg) {
          if (name === undefined) assignments.push(asg);
          else args.push(asg);
          end = asg.range.end.offset;
          continue;
        }
      }
      if (name === undefined && this.reservedHere() !== undefined && assignments.length + redirects.length === 0) {
        break;
      }
      const w = this.parseWord(WordMode.Command);
      end = w.range.end.offset;
      if (name === undefined) {
        name = w;
        decl = DECL_BUILTINS.has(w.text);
      } else args.push(w);
    }
    if (end === start && assignments.length === 0 && name === undefined && redirects.length === 0) {
      this.fail(`syntax error near unexpected token \`${this.pos >= this.len ? 'end of file' : this.opText()}'`);
    }
    const cmd: SimpleCommand = { type: 'SimpleCommand', assignments, args, redirects, range: this.range(start, end) };
    if (name) cmd.name = name;
    return cmd;
  }

  /** Tries `name=`, `name+=`, `name[sub]=` at the current position. */
  tryAssignment(): Assignment | undefined {
    const s = this.src;
    const start = this.pos;
    if (!isNameStart(s[start])) return undefined;
    let i = start + 1;
    while (i < this.len && isNameCode(s.charCodeAt(i))) i++;
    const name = s.slice(start, i);
    let index: Word | undefined;
    if (s[i] === '[') {
      // subscript up to the matching `]` on this word
      let depth = 0;
      let j = i;
      for (; j < this.len; j++) {
        const ch = s[j];
        if (ch === '[') depth++;
        else if (ch === ']') {
          depth--;
          if (depth === 0) break;
        } else if (ch === '\n' || ch === undefined) return undefined;
        else if (ch === '\\') j++;
      }
      if (j >= this.len) return undefined;
      const after = s[j + 1];
      if (after !== '=' && !(after === '+' && s[j + 2] === '=')) return undefined;
      const save = this.pos;
      this.pos = i + 1;
      index = this.parseDelimitedWord((c) => c === ']' , false, j);
      this.pos = save;
      i = j + 1;
    }
    let append = false;
    if (s[i] === '+' && s[i + 1] === '=') {
      append = true;
      i += 2;
    } else if (s[i] === '=') i += 1;
    else return undefined;
    const nameEnd = append ? i - 2 : i - 1;
    const nameRange = this.range(start, nameEnd);
    this.pos = i;
    let value: Word | ArrayLiteral;
    if (s[i] === '(' ) {
      if (index) this.fail('cannot assign a list to an array member', i);
      value = this.parseArrayLiteral();
    } else if (isMeta(s[i])) {
      value = { type: 'Word', parts: [], text: '', range: this.range(i, i) };
    } else {
      value = this.parseWord(WordMode.Command, false, true);
    }
    const asg: Assignment = { type: 'Assignment', name, append, value, nameRange, range: this.range(start, value.range.end.offset) };
    if (index) asg.index = index;
    return asg;
  }

  parseArrayLiteral(): ArrayLiteral {
    const start = this.pos;
    this.pos++;
    const elements: ArrayElement[] = [];
    const commentsBefore = this.comments.length;
    this.enter();
    try {
      for (;;) {
        // blanks, newlines and comments are separators inside ( )
        for (;;) {
          this.skipBlanks();
          if (this.peek() === '\n') this.pos++;
          else break;
        }
        const c = this.peek();
        if (c === ')') {
          this.pos++;
          break;
        }
        if (c === undefined) this.fail('unexpected end of file: array `(` is not closed', start);
        if (isMeta(c)) this.fail(`syntax error near unexpected token \`${this.opText()}' in an array`);
        const elStart = this.pos;
        let key: Word | undefined;
        if (c === '[') {
          const save = this.pos;
          this.pos++;
          const k = this.parseDelimitedWord((ch) => ch === ']', false);
          if (this.peek() === ']' && this.peek(1) === '=') {
            this.pos += 2;
            key = k;
          } else this.pos = save;
        }
        const value = isMeta(this.peek()) && key
          ? { type: 'Word' as const, parts: [], text: '', range: this.range(this.pos, this.pos) }
          : this.parseWord(WordMode.Command);
        const el: ArrayElement = { type: 'ArrayElement', value, range: this.range(elStart, value.range.end.offset) };
        if (key) el.key = key;
        elements.push(el);
      }
    } finally {
      this.leave();
    }
    return { type: 'ArrayLiteral', elements, comments: this.comments.slice(commentsBefore), range: this.range(start, this.pos) };
  }

  /** Parses a redirection if one starts here. */
  tryRedirect(): Redirect | undefined {
    const s = this.src;
    const start = this.pos;
    let i = start;
    let fd: string | undefined;
    while (isDigit(s[i])) i++;
    if (i > start) {
      if (s[i] !== '<' && s[i] !== '>') return undefined;
      fd = s.slice(start, i);
    } else if (s[i] === '{') {
      let j = i + 1;
      while (isNameChar(s[j])) j++;
      if (s[j] === '}' && j > i + 1 && (s[j + 1] === '<' || s[j + 1] === '>')) {
        fd = s.slice(i, j + 1);
        i = j + 1;
      } else return undefined;
    }
    const c = s[i];
    let op: string;
    if (c === '&' && s[i + 1] === '>') {
      if (fd !== undefined) return undefined;
      op = s[i + 2] === '>' ? '&>>' : '&>';
    } else if (c === '<') {
      if (s[i + 1] === '(' && fd === undefined) return undefined; // process substitution
      if (s.startsWith('<<<', i)) op = '<<<';
      else if (s.startsWith('<<-', i)) op = '<<-';
      else if (s.startsWith('<<', i)) op = '<<';
      else if (s.startsWith('<&', i)) op = '<&';
      else if (s.startsWith('<>', i)) op = '<>';
      else op = '<';
    } else if (c === '>') {
      if (s[i + 1] === '(' && fd === undefined) return undefined;
      if (s.startsWith('>>', i)) op = '>>';
      else if (s.startsWith('>&', i)) op = '>&';
      else if (s.startsWith('>|', i)) op = '>|';
      else op = '>';
    } else return undefined;
    this.pos = i + op.length;
    this.skipBlanks();
    const tc = this.peek();
    if (tc === undefined || (isMeta(tc) && !((tc === '<' || tc === '>') && this.peek(1) === '('))) this.fail(`a file name was expected after \`${op}'` + this.foundText());
    const target = this.parseWord(WordMode.Command);
    const redirect: Redirect = { type: 'Redirect', op, target, range: this.range(start, this.pos) };
    if (fd !== undefined) redirect.fd = fd;
    if (op === '<<' || op === '<<-') {
      let delimiter = '';
      let quoted = false;
      for (const p of target.parts) {
        switch (p.type) {
          case 'Literal': delimiter += p.value; break;
          case 'Escaped': delimiter += p.value; quoted = true; break;
          case 'SingleQuoted': case 'AnsiCQuoted': delimiter += p.type === 'SingleQuoted' ? p.value : s.slice(p.range.start.offset + 2, p.range.end.offset - 1); quoted = true; break;
          case 'DoubleQuoted': delimiter += s.slice(p.range.start.offset + (p.locale ? 2 : 1), p.range.end.offset - 1); quoted = true; break;
          default: delimiter += s.slice(p.range.start.offset, p.range.end.offset);
        }
      }
      this.pending.push({ redirect, delimiter, quoted, strip: op === '<<-' });
    }
    return redirect;
  }

  readHeredocBodies(): void {
    const list = this.pending;
    this.pending = [];
    const s = this.src;
    for (const h of list) {
      const bodyStart = this.pos;
      let lineStart = this.pos;
      let bodyEnd = -1;
      let after = this.len;
      while (lineStart < this.len) {
        let nl = s.indexOf('\n', lineStart);
        if (nl === -1) nl = this.len;
        let line = s.slice(lineStart, nl);
        if (h.strip) {
          let k = 0;
          while (line[k] === '\t') k++;
          line = line.slice(k);
        }
        if (line === h.delimiter) {
          bodyEnd = lineStart;
          after = Math.min(nl + 1, this.len);
          break;
        }
        lineStart = nl + 1;
      }
      if (bodyEnd === -1) {
        // bash warns and uses the rest of the file as the body
        this.diagnostics.push({
          code: 'W_HEREDOC_EOF', severity: 'warning',
          message: `here-document delimited by end of file (wanted \`${h.delimiter}')`,
          range: h.redirect.range,
        });
        bodyEnd = this.len;
        after = this.len;
      }
      const body = s.slice(bodyStart, bodyEnd);
      let content: Word;
      if (h.quoted) {
        content = { type: 'Word', parts: body ? [{ type: 'Literal', value: body, range: this.range(bodyStart, bodyEnd) }] : [], text: body, range: this.range(bodyStart, bodyEnd) };
      } else {
        const save = this.pos;
        this.pos = bodyStart;
        const parts = this.parseDqContent(bodyEnd, true);
        this.pos = save;
        content = { type: 'Word', parts, text: body, range: this.range(bodyStart, bodyEnd) };
      }
      const hd: Heredoc = { type: 'Heredoc', delimiter: h.delimiter, quoted: h.quoted, stripTabs: h.strip, body, content, range: this.range(bodyStart, bodyEnd) };
      h.redirect.heredoc = hd;
      this.pos = after;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Words

  /**
   * Parses one word. `casePattern`: `(`/`|` handling for case patterns; `assignValue`: the
   * value of an assignment (a `(` is then an error handled by the caller).
   */
  parseWord(mode: WordMode, casePattern = false, assignValue = false): Word {
    void casePattern;
    void assignValue;
    const start = this.pos;
    const parts: WordPart[] = [];
    const s = this.src;
    let litStart = -1;
    // the literal is `lit` + s.slice(litSeg, pos): its text is read from the source, `lit` only
    // holds what came before a line continuation
    let lit = '';
    let litSeg = 0;
    // `textEnd`: where the literal ends when a `$…` part after it was parsed first
    const flush = (textEnd = this.pos): void => {
      if (litStart !== -1) {
        parts.push({ type: 'Literal', value: lit + s.slice(litSeg, textEnd), range: this.range(litStart, textEnd) });
        litStart = -1;
        lit = '';
      }
    };
    let parenDepth = 0;
    this.enter();
    try {
      for (;;) {
        if (mode !== WordMode.Regex) {
          // a run of characters that are literal here whatever follows: take them in one step
          let e = this.pos;
          while (e < this.len) {
            const x = s.charCodeAt(e);
            if (x < 128 && PLAIN_WORD[x] === 0) break;
            e++;
          }
          if (e > this.pos) {
            if (litStart === -1) litSeg = litStart = this.pos;
            this.pos = e;
          }
        }
        const c = s[this.pos];
        if (c === undefined) break;
        if (mode === WordMode.Regex) {
          if (c === '(') parenDepth++;
          else if (c === ')' && parenDepth > 0) parenDepth--;
          else if (parenDepth === 0 && (c === ' ' || c === '\t' || c === '\n' || c === ')' || (c === '&' && s[this.pos + 1] === '&') || (c === '|' && s[this.pos + 1] === '|'))) break;
          else if (parenDepth > 0 && c === '\n') break;
          if (c === '(' || c === ')' || c === '|' || c === '<' || c === '>' || c === '&' || c === ';') {
            if (litStart === -1) litSeg = litStart = this.pos;
            this.pos++;
            continue;
          }
        } else if ((c === '<' || c === '>') && s[this.pos + 1] === '(') {
          flush();
          parts.push(this.parseProcessSubstitution());
          continue;
        } else if (isMeta(c)) {
          // extglob-style pattern `@(…)` etc. directly after a pattern character
          if (c === '(' && parts.length + (litStart === -1 ? 0 : 1) > 0 && /[?*+@!]/.test(s[this.pos - 1] ?? '') && litStart !== -1) {
            const close = this.matchParen(this.pos, mode === WordMode.Test);
            if (close !== -1) {
              this.pos = close + 1; // litStart !== -1: the literal runs on over the pattern
              continue;
            }
          }
          if (mode === WordMode.Test && c === '(' ) break;
          break;
        }
        switch (c) {
          case '\\': {
            const n = s[this.pos + 1];
            if (n === '\n') {
              if (litStart !== -1) {
                lit += s.slice(litSeg, this.pos);
                litSeg = this.pos + 2;
              }
              this.pos += 2;
              continue;
            }
            flush();
            if (n === undefined) {
              parts.push({ type: 'Literal', value: '\\', range: this.range(this.pos, this.pos + 1) });
              this.pos++;
            } else {
              parts.push({ type: 'Escaped', value: n, range: this.range(this.pos, this.pos + 2) });
              this.pos += 2;
            }
            continue;
          }
          case "'": {
            flush();
            parts.push(this.parseSingleQuoted());
            continue;
          }
          case '"': {
            flush();
            parts.push(this.parseDoubleQuoted(false));
            continue;
          }
          case '`': {
            flush();
            parts.push(this.parseBacktick());
            continue;
          }
          case '$': {
            const dollarAt = this.pos;
            const part = this.parseDollar(false);
            if (part) {
              flush(dollarAt);
              parts.push(part);
              continue;
            }
            break;
          }
          default:
            break;
        }
        if (litStart === -1) litSeg = litStart = this.pos;
        this.pos++;
      }
      flush();
    } finally {
      this.leave();
    }
    if (this.pos === start) this.fail(`syntax error near unexpected token \`${this.opText()}'`);
    return { type: 'Word', parts, text: s.slice(start, this.pos), range: this.range(start, this.pos) };
  }

  /** Offset of the `)` matching the `(` at `open`, or -1 (same line only, quotes skipped). */
  matchParen(open: number, multiline: boolean): number {
    const s = this.src;
    let depth = 0;
    let braces = 0;
    for (let i = open; i < this.len; i++) {
      const c = s[i];
      if (c === '\\') { i++; continue; }
      if (c === '{') braces++;
      else if (c === '}') braces--;
      if (multiline || braces > 0) {
        if (c === '(') depth++;
        else if (c === ')') {
          depth--;
          if (depth === 0) return i;
        }
        continue;
      }
      if (c === "'") {
        const e = s.indexOf("'", i + 1);
        if (e === -1) return -1;
        i = e;
        continue;
      }
      if (c === '(') depth++;
      else if (c === ')') {
        depth--;
        if (depth === 0) return i;
      } else if (c === '\n' || c === ' ' || c === '\t') return -1;
    }
    return -1;
  }

  parseProcessSubstitution(): WordPart {
    const start = this.pos;
    const direction = this.src[start] as '<' | '>';
    this.pos += 2;
    this.enter();
    try {
      const body = this.parseList(NONE, { paren: true, what: `\`${direction}(\`` });
      if (this.src[this.pos] !== ')') this.fail('expected `)` closing the process substitution' + this.foundText());
      this.pos++;
      return { type: 'ProcessSubstitution', direction, body, range: this.range(start, this.pos) };
    } finally {
      this.leave();
    }
  }

  parseSingleQuoted(): WordPart {
    const start = this.pos;
    const e = this.src.indexOf("'", start + 1);
    if (e === -1) this.fail("unexpected end of file while looking for the matching `''", start, this.len);
    this.pos = e + 1;
    return { type: 'SingleQuoted', value: this.src.slice(start + 1, e), range: this.range(start, this.pos) };
  }

  parseDoubleQuoted(locale: boolean): WordPart {
    const start = this.pos;
    this.pos += locale ? 2 : 1;
    this.enter();
    try {
      const parts = this.parseDqContent(-1, false);
      if (this.src[this.pos] !== '"') this.fail('unexpected end of file while looking for the matching `"\'', start, this.len);
      this.pos++;
      return { type: 'DoubleQuoted', parts, locale, range: this.range(start, this.pos) };
    } finally {
      this.leave();
    }
  }

  /**
   * Double-quote content up to `"` (when `end` is -1) or up to offset `end` (heredoc body,
   * where `"` is literal).
   */
  parseDqContent(end: number, heredoc: boolean): WordPart[] {
    const s = this.src;
    const parts: WordPart[] = [];
    let litStart = -1;
    // the literal is `lit` + s.slice(litSeg, pos): its text is read from the source, `lit` only
    // holds what came before a line continuation
    let lit = '';
    let litSeg = 0;
    const limit = end === -1 ? this.len : end;
    // `textEnd`: where the literal ends when a `$…` part after it was parsed first
    const flush = (textEnd = this.pos): void => {
      if (litStart !== -1) {
        parts.push({ type: 'Literal', value: lit + s.slice(litSeg, textEnd), range: this.range(litStart, textEnd) });
        litStart = -1;
        lit = '';
      }
    };
    while (this.pos < limit) {
      // a run of characters that are literal inside double quotes: take them in one step
      let e = this.pos;
      while (e < limit) {
        const x = s.charCodeAt(e);
        if (x === 34 || x === 92 || x === 36 || x === 96) break; // " \ $ `
        e++;
      }
      if (e > this.pos) {
        if (litStart === -1) litSeg = litStart = this.pos;
        this.pos = e;
        if (e >= limit) break;
      }
      const c = s[this.pos] as string;
      if (c === '"' && !heredoc) break;
      if (c === '\\') {
        const n = s[this.pos + 1];
        if (n === '\n') {
          if (litStart !== -1) {
            lit += s.slice(litSeg, this.pos);
            litSeg = this.pos + 2;
          }
          this.pos += 2;
          continue;
        }
        if (n === '$' || n === '`' || n === '\\' || (n === '"' && !heredoc)) {
          flush();
          parts.push({ type: 'Escaped', value: n, range: this.range(this.pos, this.pos + 2) });
          this.pos += 2;
          continue;
        }
      } else if (c === '$') {
        const dollarAt = this.pos;
        const part = this.parseDollar(true);
        if (part) {
          flush(dollarAt);
          parts.push(part);
          continue;
        }
      } else if (c === '`') {
        flush();
        parts.push(this.parseBacktick());
        continue;
      }
      if (litStart === -1) litSeg = litStart = this.pos;
      this.pos++;
    }
    flush();
    return parts;
  }

  parseBacktick(): WordPart {
    const start = this.pos;
    const s = this.src;
    let i = start + 1;
    let inner = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) this.fail('unexpected end of file while looking for the matching ``\'', start, this.len);
      if (c === '`') break;
      if (c === '\\' && (s[i + 1] === '$' || s[i + 1] === '`' || s[i + 1] === '\\')) {
        inner += s[i + 1];
        i += 2;
        continue;
      }
      inner += c;
      i++;
    }
    this.pos = i + 1;
    const body = this.parseNested(inner, start + 1);
    return { type: 'CommandSubstitution', backtick: true, body, range: this.range(start, this.pos) };
  }

  /** Parses `text` (from a backtick body) as a nested script; positions are approximated. */
  parseNested(text: string, baseOffset: number): Statement[] {
    if (text.trim() === '') return [];
    const sub = new Parser(text);
    sub.depth = this.depth;
    const r = sub.parseTop();
    for (const d of sub.diagnostics) {
      const o = Math.min(baseOffset + d.range.start.offset, this.len);
      this.diagnostics.push({ ...d, range: this.range(o, Math.min(o + 1, this.len)) });
    }
    // ranges inside backticks are relative to the inner text; rebase the statement ranges only
    return r.body.map((st) => ({ ...st, range: this.range(Math.min(baseOffset + st.range.start.offset, this.len), Math.min(baseOffset + st.range.end.offset, this.len)) }));
  }

  /**
   * Parses what follows a `$`. Returns undefined when the `$` is literal.
   */
  parseDollar(inDq: boolean): WordPart | undefined {
    const s = this.src;
    const start = this.pos;
    const n = s[start + 1];
    if (n === "'" && !inDq) {
      let i = start + 2;
      for (;;) {
        const c = s[i];
        if (c === undefined) this.fail("unexpected end of file while looking for the matching `''", start, this.len);
        if (c === '\\') { i += 2; continue; }
        if (c === "'") break;
        i++;
      }
      this.pos = i + 1;
      const raw = s.slice(start + 2, i);
      const part: WordPart = { type: 'AnsiCQuoted', value: decodeAnsiC(raw), range: this.range(start, this.pos) };
      if (/\\[uU]/.test(raw)) {
        const c = decodeAnsiC(raw, true);
        if (c !== part.value) part.valueC = c;
      }
      return part;
    }
    if (n === '"' && !inDq) {
      this.pos = start + 1;
      const dq = this.parseDoubleQuoted(false);
      const part = dq as WordPart & { type: 'DoubleQuoted' };
      part.locale = true;
      part.range = this.range(start, this.pos);
      return part;
    }
    if (n === '(') {
      if (s[start + 2] === '(') {
        const save = this.pos;
        const diagLen = this.diagnostics.length;
        this.pos = start + 3;
        try {
          const [expr] = this.parseArithUntil('))', start, false);
          return { type: 'ArithmeticExpansion', expr: expr as ArithmeticText, range: this.range(start, this.pos) };
        } catch (e) {
          if (!(e instanceof SyntaxFail) || e.code === 'E_NESTING') throw e;
          this.pos = save;
          this.diagnostics.length = diagLen;
        }
      }
      this.pos = start + 2;
      this.enter();
      try {
        const body = this.parseList(NONE, { paren: true, what: '`$(`' });
        if (s[this.pos] !== ')') this.fail('expected `)` closing `$(`' + this.foundText(), this.pos);
        this.pos++;
        return { type: 'CommandSubstitution', backtick: false, body, range: this.range(start, this.pos) };
      } finally {
        this.leave();
      }
    }
    if (n === '[') {
      this.pos = start + 2;
      const [expr] = this.parseArithUntil(']', start, false);
      return { type: 'ArithmeticExpansion', expr: expr as ArithmeticText, range: this.range(start, this.pos) };
    }
    if (n === '{') return this.parseBracedParam(inDq);
    if (isNameStart(n)) {
      let i = start + 2;
      while (isNameCode(s.charCodeAt(i))) i++;
      this.pos = i;
      return { type: 'ParamExpansion', name: s.slice(start + 1, i), braced: false, length: false, indirect: false, range: this.range(start, i) };
    }
    if (isDigit(n) || isSpecialParam(n)) {
      this.pos = start + 2;
      return { type: 'ParamExpansion', name: n as string, braced: false, length: false, indirect: false, range: this.range(start, this.pos) };
    }
    return undefined;
  }

  /**
   * Arithmetic text up to `close` (`))` or `]`), balancing parentheses. With `forHeader`,
   * returns three texts split at top-level `;` (C-style for).
   */
  parseArithUntil(close: string, openOffset: number, forHeader: boolean): ArithmeticText[] {
    const s = this.src;
    const texts: ArithmeticText[] = [];
    let depth = 0;
    let segStart = this.pos;
    let parts: WordPart[] = [];
    let litStart = -1;
    // the literal is `lit` + s.slice(litSeg, pos): its text is read from the source, `lit` only
    // holds what came before a line continuation
    let lit = '';
    let litSeg = 0;
    // `textEnd`: where the literal ends when a `$…` part after it was parsed first
    const flush = (textEnd = this.pos): void => {
      if (litStart !== -1) {
        parts.push({ type: 'Literal', value: lit + s.slice(litSeg, textEnd), range: this.range(litStart, textEnd) });
        litStart = -1;
        lit = '';
      }
    };
    const endSeg = (): void => {
      flush();
      texts.push({ type: 'ArithmeticText', parts, text: s.slice(segStart, this.pos), range: this.range(segStart, this.pos) });
      parts = [];
    };
    this.enter();
    try {
      for (;;) {
        const c = s[this.pos];
        if (c === undefined) this.fail(`unexpected end of file: \`${close}' was expected`, openOffset, this.len);
        if (depth === 0 && s.startsWith(close, this.pos)) {
          endSeg();
          this.pos += close.length;
          break;
        }
        if (close === '))' && depth === 0 && c === ')') this.fail('not an arithmetic expression', this.pos);
        if (forHeader && depth === 0 && c === ';') {
          endSeg();
          this.pos++;
          segStart = this.pos;
          continue;
        }
        if (c === '(') depth++;
        else if (c === ')') depth--;
        else if (c === '\\' && s[this.pos + 1] === '\n') {
          if (litStart !== -1) {
            lit += s.slice(litSeg, this.pos);
            litSeg = this.pos + 2;
          }
          this.pos += 2;
          continue;
        }
        else if (c === '$') {
          const dollarAt = this.pos;
          const part = this.parseDollar(true);
          if (part) { flush(dollarAt); parts.push(part); continue; }
        } else if (c === '`') {
          flush();
          parts.push(this.parseBacktick());
          continue;
        } else if (c === '"') {
          flush();
          parts.push(this.parseDoubleQuoted(false));
          continue;
        }
        if (litStart === -1) litSeg = litStart = this.pos;
        this.pos++;
      }
    } finally {
      this.leave();
    }
    if (forHeader) {
      if (texts.length !== 3) this.fail('a C-style `for` needs `((init; test; update))`', openOffset);
    }
    return texts;
  }

  parseBracedParam(inDq: boolean): ParamExpansionPart {
    const s = this.src;
    const start = this.pos;
    let i = start + 2;
    let length = false;
    let indirect = false;
    const mk = (name: string): ParamExpansionPart => ({ type: 'ParamExpansion', name, braced: true, length, indirect, range: this.range(start, this.pos) });
    // ${#} ${#name} ${!name}
    if (s[i] === '#' && s[i + 1] !== '}' && (isNameStart(s[i + 1]) || isDigit(s[i + 1]) || isSpecialParam(s[i + 1]))) {
      length = true;
      i++;
    } else if (s[i] === '!' && s[i + 1] !== '}' && (isNameStart(s[i + 1]) || isDigit(s[i + 1]) || s[i + 1] === '@' || s[i + 1] === '*' || s[i + 1] === '#')) {
      indirect = true;
      i++;
    }
    let name: string;
    if (isNameStart(s[i])) {
      const ns = i;
      while (isNameCode(s.charCodeAt(i))) i++;
      name = s.slice(ns, i);
    } else if (isDigit(s[i])) {
      const ns = i;
      while (isDigit(s[i])) i++;
      name = s.slice(ns, i);
    } else if (isSpecialParam(s[i])) {
      name = s[i] as string;
      i++;
    } else {
      return this.skipUnsupportedParam(start, i, mk);
    }
    this.pos = i;
    const part = mk(name);
    if (s[i] === '[') {
      if ((s[i + 1] === '@' || s[i + 1] === '*') && s[i + 2] === ']') {
        part.index = s[i + 1] as '@' | '*';
        this.pos = i + 3;
      } else {
        this.pos = i + 1;
        part.index = this.parseDelimitedWord((c) => c === ']', false);
        if (s[this.pos] !== ']') this.fail('expected `]` in the parameter subscript', this.pos);
        this.pos++;
      }
    }
    if (indirect && (s[this.pos] === '*' || s[this.pos] === '@') && s[this.pos + 1] === '}') {
      // ${!prefix*} / ${!prefix@}
      part.unsupported = 'prefix';
      this.pos += 2;
      part.range = this.range(start, this.pos);
      return part;
    }
    const c = s[this.pos];
    if (c === '}') {
      this.pos++;
      part.range = this.range(start, this.pos);
      return part;
    }
    if (length) return this.skipUnsupportedParam(start, this.pos, mk);
    let op: ParamOp | undefined;
    const two = s.slice(this.pos, this.pos + 2);
    switch (two) {
      case ':-': case ':=': case ':+': case ':?': case '##': case '%%': case '//': case '/#': case '/%': case '^^': case ',,':
        op = two as ParamOp;
        break;
      default:
        if (c === '-' || c === '=' || c === '+' || c === '?' || c === '#' || c === '%' || c === '/' || c === '^' || c === ',' || c === ':' || c === '@') op = c as ParamOp;
    }
    if (op === undefined) return this.skipUnsupportedParam(start, this.pos, mk);
    this.pos += op.length;
    part.op = op;
    this.enter();
    try {
      if (op === '/' || op === '//' || op === '/#' || op === '/%') {
        part.arg = this.parseDelimitedWord((ch) => ch === '/' || ch === '}', false);
        if (s[this.pos] === '/') {
          this.pos++;
          part.arg2 = this.parseDelimitedWord((ch) => ch === '}', false);
        }
      } else if (op === ':') {
        part.arg = this.parseDelimitedWord((ch) => ch === ':' || ch === '}', false, -1, true);
        if (s[this.pos] === ':') {
          this.pos++;
          part.arg2 = this.parseDelimitedWord((ch) => ch === '}', false, -1, true);
        }
      } else if (op === '@') {
        part.arg = this.parseDelimitedWord((ch) => ch === '}', false);
      } else {
        const literalSingle = inDq && (op === ':-' || op === '-' || op === ':=' || op === '=' || op === ':+' || op === '+' || op === ':?' || op === '?');
        part.arg = this.parseDelimitedWord((ch) => ch === '}', literalSingle);
      }
    } finally {
      this.leave();
    }
    if (s[this.pos] !== '}') this.fail('unexpected end of file: `${` is not closed with `}`', start, this.len);
    this.pos++;
    part.range = this.range(start, this.pos);
    return part;
  }

  skipUnsupportedParam(start: number, from: number, mk: (name: string) => ParamExpansionPart): ParamExpansionPart {
    // find the matching `}` (quotes and nested `${` respected)
    const s = this.src;
    let depth = 1;
    let i = from;
    for (; i < this.len; i++) {
      const c = s[i];
      if (c === '\\') { i++; continue; }
      if (c === "'") {
        const e = s.indexOf("'", i + 1);
        if (e === -1) break;
        i = e;
        continue;
      }
      if (c === '{') depth++;
      else if (c === '}') {
        depth--;
        if (depth === 0) break;
      }
    }
    if (i >= this.len) this.fail('unexpected end of file: `${` is not closed with `}`', start, this.len);
    this.pos = i + 1;
    const text = s.slice(start, this.pos);
    // bash rejects these when they are expanded, not when parsed
    const part = mk('');
    part.unsupported = text;
    part.range = this.range(start, this.pos);
    return part;
  }

  /**
   * A word inside `${…}` or a subscript: blanks and newlines are literal, quoting and
   * expansions work, nested braces are balanced; stops (unconsumed) where `stop` matches at
   * brace depth 0 or at offset `endAt`.
   */
  parseDelimitedWord(stop: (c: string) => boolean, singleLiteral: boolean, endAt = -1, arith = false): Word {
    const s = this.src;
    const start = this.pos;
    const parts: WordPart[] = [];
    let litStart = -1;
    // the literal is `lit` + s.slice(litSeg, pos): its text is read from the source, `lit` only
    // holds what came before a line continuation
    let lit = '';
    let litSeg = 0;
    let braces = 0;
    let parens = 0;
    // `textEnd`: where the literal ends when a `$…` part after it was parsed first
    const flush = (textEnd = this.pos): void => {
      if (litStart !== -1) {
        parts.push({ type: 'Literal', value: lit + s.slice(litSeg, textEnd), range: this.range(litStart, textEnd) });
        litStart = -1;
        lit = '';
      }
    };
    for (;;) {
      if (endAt !== -1 && this.pos >= endAt) break;
      const c = s[this.pos];
      if (c === undefined) break;
      if (braces === 0 && parens === 0 && stop(c)) break;
      if (c === '{') braces++;
      else if (c === '}') braces--;
      else if (arith && c === '(') parens++;
      else if (arith && c === ')') parens--;
      else if (c === '\\') {
        const n = s[this.pos + 1];
        if (n === '\n') {
          if (litStart !== -1) {
            lit += s.slice(litSeg, this.pos);
            litSeg = this.pos + 2;
          }
          this.pos += 2;
          continue;
        }
        if (n !== undefined) {
          flush();
          parts.push({ type: 'Escaped', value: n, range: this.range(this.pos, this.pos + 2) });
          this.pos += 2;
          continue;
        }
      } else if (c === "'" && !singleLiteral) {
        flush();
        parts.push(this.parseSingleQuoted());
        continue;
      } else if (c === '"') {
        flush();
        parts.push(this.parseDoubleQuoted(false));
        continue;
      } else if (c === '$') {
        const dollarAt = this.pos;
        const part = this.parseDollar(false);
        if (part) { flush(dollarAt); parts.push(part); continue; }
      } else if (c === '`') {
        flush();
        parts.push(this.parseBacktick());
        continue;
      }
      if (litStart === -1) litSeg = litStart = this.pos;
      this.pos++;
    }
    flush();
    return { type: 'Word', parts, text: s.slice(start, this.pos), range: this.range(start, this.pos) };
  }
}

/**
 * ASCII characters that an unquoted word (outside a `=~` regex) takes as plain literal text
 * whatever follows them: 1, or 0 for the blanks, metacharacters, quotes, `\\`, `$` and `` ` ``.
 * Characters from U+0080 up are all plain.
 */
const PLAIN_WORD = new Uint8Array(128).fill(1);
for (const c of ' \t\n;&|()<>\\\'"`$') PLAIN_WORD[c.charCodeAt(0)] = 0;

const TERMINATORS = new Set(['then', 'elif', 'else', 'fi', 'do', 'done', 'esac', '}', 'in', ']]']);
const THEN = new Set(['then']);
const IF_BODY_END = new Set(['elif', 'else', 'fi']);
const FI = new Set(['fi']);
const DO = new Set(['do']);
const DONE = new Set(['done']);
const ESAC = new Set(['esac']);
const RBRACE = new Set(['}']);
const NONE = new Set<string>();

function isValidFunctionName(n: string): boolean {
  if (n === '' || RESERVED.has(n)) return false;
  for (const c of n) {
    if (c === '$' || c === '`' || c === '"' || c === "'" || c === '\\' || c === '=' ) return false;
  }
  return !/^[0-9]+$/.test(n);
}

export { isValidFunctionName };
