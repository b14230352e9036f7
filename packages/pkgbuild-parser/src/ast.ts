/**
 * The bash syntax tree produced by the PKGBUILD parser. Every node carries a {@link Range}
 * (1-based line/column, 0-based offsets into the original text) so editors and linters can
 * point at the exact construct.
 *
 * The tree keeps what a static reader needs: quoting of every word part, each expansion with
 * its operator, assignments (including arrays and `declare` forms), compound commands,
 * redirections and heredoc bodies, plus the comments of the file.
 */
import type { Range } from './model.js';

interface NodeBase {
  range: Range;
}

// ---------------------------------------------------------------------------------------------
// Words

/** Unquoted literal text (no backslash escapes inside; those are {@link EscapedChar}). */
export interface LiteralPart extends NodeBase {
  type: 'Literal';
  value: string;
}

/** A backslash-escaped character outside quotes (`\$`, `\ `); it is quoted: no glob, no braces. */
export interface EscapedChar extends NodeBase {
  type: 'Escaped';
  value: string;
}

/** `'…'` (value without the quotes). */
export interface SingleQuotedPart extends NodeBase {
  type: 'SingleQuoted';
  value: string;
}

/** `$'…'` with the C escapes already decoded into `value`. */
export interface AnsiCQuotedPart extends NodeBase {
  type: 'AnsiCQuoted';
  /** Decoded as in a UTF-8 locale. */
  value: string;
  /** Decoded as in the C locale, when different (`\u00e9` stays the text `\u00E9` there). */
  valueC?: string;
}

/** `"…"` or `$"…"` (`locale: true`); parts inside are literals and expansions. */
export interface DoubleQuotedPart extends NodeBase {
  type: 'DoubleQuoted';
  parts: WordPart[];
  locale: boolean;
}

/**
 * Parameter-expansion operators, as written after the name/subscript:
 * `:-` `-` `:=` `=` `:+` `+` `:?` `?` (defaults), `#` `##` `%` `%%` (pattern removal),
 * `/` `//` `/#` `/%` (replacement), `^` `^^` `,` `,,` (case), `:` (substring), `@` (transform).
 */
export type ParamOp =
  | ':-' | '-' | ':=' | '=' | ':+' | '+' | ':?' | '?'
  | '#' | '##' | '%' | '%%'
  | '/' | '//' | '/#' | '/%'
  | '^' | '^^' | ',' | ',,'
  | ':'
  | '@';

/**
 * `$name`, `$1`, `$@`, `${name}`, `${name[i]}`, `${#name}`, `${!name}`, `${name op arg}`…
 * For `${v/pat/rep}` `arg` is the pattern and `arg2` the replacement; for `${v:off:len}` `arg`
 * is the offset and `arg2` the length; for `${v@Q}` `arg` holds the operator letter.
 */
export interface ParamExpansionPart extends NodeBase {
  type: 'ParamExpansion';
  /** Variable name, positional digit(s) or special (`@ * # ? - $ ! 0`). */
  name: string;
  /** `${…}` form (false for `$name`). */
  braced: boolean;
  /** Subscript: `'@'`, `'*'` or the index word (`${a[1]}`, `${a[$i]}`). */
  index?: '@' | '*' | Word;
  /** `${#name}` / `${#arr[@]}`. */
  length: boolean;
  /** `${!name}` indirection (or `${!prefix*}`, `${!arr[@]}`). */
  indirect: boolean;
  op?: ParamOp;
  arg?: Word;
  arg2?: Word;
  /** Set when the brace content could not be understood (the value is then unknown). */
  unsupported?: string;
}

/** `$(…)` or `` `…` `` */
export interface CommandSubstitutionPart extends NodeBase {
  type: 'CommandSubstitution';
  backtick: boolean;
  body: Statement[];
}

/** `$((…))` or the legacy `$[…]`. */
export interface ArithmeticExpansionPart extends NodeBase {
  type: 'ArithmeticExpansion';
  expr: ArithmeticText;
}

/** `<(…)` / `>(…)` */
export interface ProcessSubstitutionPart extends NodeBase {
  type: 'ProcessSubstitution';
  direction: '<' | '>';
  body: Statement[];
}

export type WordPart =
  | LiteralPart
  | EscapedChar
  | SingleQuotedPart
  | AnsiCQuotedPart
  | DoubleQuotedPart
  | ParamExpansionPart
  | CommandSubstitutionPart
  | ArithmeticExpansionPart
  | ProcessSubstitutionPart;

/**
 * A shell word. `text` is the source text as written (line continuations included);
 * brace-expansion and glob characters live in unquoted {@link LiteralPart}s.
 */
export interface Word extends NodeBase {
  type: 'Word';
  parts: WordPart[];
  text: string;
}

/** The text of an arithmetic context (`$((…))`, `((…))`, C-style for) with its expansions. */
export interface ArithmeticText extends NodeBase {
  type: 'ArithmeticText';
  /** Literal text and `$…` expansions, as in a double-quoted string. */
  parts: WordPart[];
  text: string;
}

// ---------------------------------------------------------------------------------------------
// Assignments

/** One element of `a=(…)`: a word, or `[key]=word`. */
export interface ArrayElement extends NodeBase {
  type: 'ArrayElement';
  /** `[key]=` subscript text, when given. */
  key?: Word;
  value: Word;
}

export interface ArrayLiteral extends NodeBase {
  type: 'ArrayLiteral';
  elements: ArrayElement[];
  /** Comments written between the parentheses. */
  comments: Comment[];
}

/** `name=value`, `name+=value`, `name=(…)`, `name[i]=value`. */
export interface Assignment extends NodeBase {
  type: 'Assignment';
  name: string;
  /** `name[i]=` subscript (raw word). */
  index?: Word;
  append: boolean;
  /** Scalar value (possibly an empty word) or array literal. */
  value: Word | ArrayLiteral;
  /** Range of the name (and subscript) only. */
  nameRange: Range;
}

// ---------------------------------------------------------------------------------------------
// Commands

export interface Heredoc extends NodeBase {
  type: 'Heredoc';
  delimiter: string;
  /** Delimiter was quoted: no expansion in the body. */
  quoted: boolean;
  /** `<<-`: leading tabs stripped. */
  stripTabs: boolean;
  /** Body text as written (tabs not yet stripped), without the delimiter line. */
  body: string;
  /** Parsed body when unquoted (expansions), else a single literal. */
  content: Word;
}

/** `>`, `>>`, `<`, `<<`, `<<-`, `<<<`, `&>`, `&>>`, `>&`, `<&`, `<>`, `>|` with optional fd. */
export interface Redirect extends NodeBase {
  type: 'Redirect';
  fd?: string;
  op: string;
  /** Target word (for heredocs: the delimiter word). */
  target: Word;
  heredoc?: Heredoc;
}

/** A simple command: prefix assignments, command name, arguments, redirections. */
export interface SimpleCommand extends NodeBase {
  type: 'SimpleCommand';
  assignments: Assignment[];
  name?: Word;
  /**
   * Arguments. For declaration builtins (`declare local export readonly typeset`) arguments
   * shaped like assignments are parsed as {@link Assignment}s (arrays included).
   */
  args: (Word | Assignment)[];
  redirects: Redirect[];
}

export interface IfClause extends NodeBase {
  type: 'IfClause';
  condition: Statement[];
  body: Statement[];
}

/** `if … then … elif … else … fi` */
export interface IfCommand extends NodeBase {
  type: 'If';
  clauses: IfClause[];
  elseBody?: Statement[];
  redirects: Redirect[];
}

/** `for name [in words]; do …; done` */
export interface ForCommand extends NodeBase {
  type: 'For';
  variable: string;
  variableRange: Range;
  /** `undefined` when there is no `in` (iterates `"$@"`). */
  words?: Word[];
  body: Statement[];
  redirects: Redirect[];
}

/** `for ((init; test; update)); do …; done` */
export interface ArithForCommand extends NodeBase {
  type: 'ArithFor';
  init: ArithmeticText;
  test: ArithmeticText;
  update: ArithmeticText;
  body: Statement[];
  redirects: Redirect[];
}

/** `select name in …; do …; done` */
export interface SelectCommand extends NodeBase {
  type: 'Select';
  variable: string;
  words?: Word[];
  body: Statement[];
  redirects: Redirect[];
}

/** `while …; do …; done` / `until …` */
export interface WhileCommand extends NodeBase {
  type: 'While';
  until: boolean;
  condition: Statement[];
  body: Statement[];
  redirects: Redirect[];
}

export interface CaseItem extends NodeBase {
  type: 'CaseItem';
  patterns: Word[];
  body: Statement[];
  /** `;;`, `;&`, `;;&`, or undefined for the last item without a terminator. */
  terminator?: ';;' | ';&' | ';;&';
}

/** `case word in pattern) … ;; esac` */
export interface CaseCommand extends NodeBase {
  type: 'Case';
  word: Word;
  items: CaseItem[];
  redirects: Redirect[];
}

/** `{ …; }` */
export interface BraceGroup extends NodeBase {
  type: 'BraceGroup';
  body: Statement[];
  redirects: Redirect[];
}

/** `( … )` */
export interface Subshell extends NodeBase {
  type: 'Subshell';
  body: Statement[];
  redirects: Redirect[];
}

/** Expression inside `[[ … ]]`. */
export type TestExpr =
  | { type: 'TestWord'; word: Word; range: Range }
  | { type: 'TestUnary'; op: string; operand: Word; range: Range }
  | { type: 'TestBinary'; op: string; left: Word; right: Word; range: Range }
  | { type: 'TestNot'; expr: TestExpr; range: Range }
  | { type: 'TestAnd' | 'TestOr'; left: TestExpr; right: TestExpr; range: Range }
  | { type: 'TestGroup'; expr: TestExpr; range: Range };

/** `[[ … ]]` */
export interface TestCommand extends NodeBase {
  type: 'Test';
  expr: TestExpr;
  redirects: Redirect[];
}

/** `(( … ))` */
export interface ArithCommand extends NodeBase {
  type: 'Arith';
  expr: ArithmeticText;
  redirects: Redirect[];
}

/** `name() compound`, `function name compound`, `function name() compound`. */
export interface FunctionDefinition extends NodeBase {
  type: 'FunctionDefinition';
  name: string;
  nameRange: Range;
  keyword: boolean;
  body: CompoundCommand;
  redirects: Redirect[];
}

export type CompoundCommand =
  | IfCommand
  | ForCommand
  | ArithForCommand
  | SelectCommand
  | WhileCommand
  | CaseCommand
  | BraceGroup
  | Subshell
  | TestCommand
  | ArithCommand;

export type Command = SimpleCommand | CompoundCommand | FunctionDefinition;

/** `[!] cmd [| cmd]…` (`time` is recorded too). */
export interface Pipeline extends NodeBase {
  type: 'Pipeline';
  negated: boolean;
  timed: boolean;
  commands: Command[];
  /** Operators between commands: `|` or `|&`. */
  operators: ('|' | '|&')[];
}

/** `p1 && p2 || p3` */
export interface AndOrList extends NodeBase {
  type: 'AndOrList';
  pipelines: Pipeline[];
  operators: ('&&' | '||')[];
}

/** One list element with its terminator (`;`, `&`, newline, or none at end of input/group). */
export interface Statement extends NodeBase {
  type: 'Statement';
  list: AndOrList;
  background: boolean;
}

export interface Comment extends NodeBase {
  type: 'Comment';
  /** Text after `#`. */
  text: string;
}

/** The root of a parsed file. */
export interface Script extends NodeBase {
  type: 'Script';
  body: Statement[];
  comments: Comment[];
}

/** Any node with a `type`. */
export type Node =
  | Script
  | Statement
  | AndOrList
  | Pipeline
  | Command
  | Assignment
  | ArrayLiteral
  | ArrayElement
  | Word
  | WordPart
  | Redirect
  | Heredoc
  | IfClause
  | CaseItem
  | Comment
  | ArithmeticText
  | TestExpr;
