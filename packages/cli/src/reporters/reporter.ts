import type { ErrorReport } from '../cli-error.js';
import type { ProvisionEvent, WorkerBinary } from '../provision-event.js';

/** How a long command (install, build) ended, as the reporters show it. */
export type Outcome =
  | { kind: 'done'; worker: WorkerBinary; durationMs: number; alreadyInstalled: boolean }
  | { kind: 'error'; error: ErrorReport }
  | { kind: 'cancelled' };

/** Renders a stream of `ProvisionEvent`s: the live view, plain lines or NDJSON. */
export interface Reporter {
  /** Called for every event, in order. */
  event(e: ProvisionEvent): void;
  /** A one-off message for the user (e.g. "cancelling…"). */
  note(message: string): void;
  /** The end: prints the summary line or the failure report, and restores the terminal. */
  finish(outcome: Outcome): void;
}

/** Phases whose log lines are a build log (shown scrolling under the phase). */
export const BUILD_PHASES: ReadonlySet<string> = new Set(['prepare', 'pkgver', 'build', 'check', 'package']);

/** How many log lines a failure report shows. */
export const FAILURE_TAIL_LINES = 30;
