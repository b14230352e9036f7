export { inspectPkgbuild, inspectPkgbuilds } from './inspect.js';
export type { InspectOptions, InspectOutcome, InspectResult } from './inspect.js';
export { ExecutorError } from './errors.js';
export type { ExecutorErrorCode, ExecutorErrorFields } from './errors.js';
export type { SandboxMode } from './sandbox.js';
export { runPkgbuild, ALL_STEPS } from './run.js';
export type { FunctionEvent, OutputLine, PkgbuildStep, RunOptions, RunResult } from './run.js';
