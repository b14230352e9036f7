export type { Diagnostic, PackageInfo, Pkgbuild, PkgbuildFunction, Position, Range, Severity, Value } from './model.js';
export { toSrcinfo } from './srcinfo-writer.js';
export type { SrcinfoOptions } from './srcinfo-writer.js';
export { parseSrcinfo, SrcinfoParseError } from './srcinfo-reader.js';
export { parseSourceEntry, sourcesFor } from './source-entry.js';
export type { ArchSources, SourceEntry, SourceGroup, VcsProtocol } from './source-entry.js';
export { CHECKSUM_ALGORITHMS } from './schema.js';
export type { ChecksumAlgorithm } from './schema.js';
export { parsePkgbuild, parsePkgbuildOrThrow } from './parse.js';
export type { ParsePkgbuildOptions, ParseResult, PkgbuildLocations } from './parse.js';
export { PkgbuildError, PkgbuildParseError } from './errors.js';
export type {
  AndOrList, AnsiCQuotedPart, ArithCommand, ArithForCommand, ArithmeticExpansionPart, ArithmeticText, ArrayElement,
  ArrayLiteral, Assignment, BraceGroup, CaseCommand, CaseItem, Command, CommandSubstitutionPart, Comment, CompoundCommand,
  DoubleQuotedPart, EscapedChar, ForCommand, FunctionDefinition, Heredoc, IfClause, IfCommand, LiteralPart, Node,
  ParamExpansionPart, ParamOp, Pipeline, ProcessSubstitutionPart, Redirect, Script, SelectCommand, SimpleCommand,
  SingleQuotedPart, Statement, Subshell, TestCommand, TestExpr, WhileCommand, Word, WordPart,
} from './ast.js';
export { lintPkgbuild } from './lint.js';
export type { LintInput, LintOptions } from './lint.js';
export { LINT_RULES } from './lint-rules.js';
export type { LintRule } from './lint-rules.js';
