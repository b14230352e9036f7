export { run, version } from './run.js';
export type { RunOptions } from './run.js';
export { ExitCode } from './exit-codes.js';
export type { ExitCodeValue } from './exit-codes.js';
export { CliError } from './cli-error.js';
export type { CliErrorOptions, ErrorReport } from './cli-error.js';
export { formatDiagnostic, countDiagnostics } from './diagnostic-printer.js';
export type { DiagnosticCounts, FormatDiagnosticOptions } from './diagnostic-printer.js';
export type { CliIo, OutputStream } from './output.js';
