import type { ErrorReport } from '../cli-error.js';
import type { Colors } from '../output.js';
import { sanitizeLine } from '../terminal-text.js';
import { formatDuration } from '../units.js';
import { summarizeWorker } from '../worker-summary.js';
import type { WorkerBinary } from '../provision-event.js';
import { FAILURE_TAIL_LINES } from './reporter.js';

/** The one line that ends a successful install: what, where, how long. */
export function successLine(worker: WorkerBinary, durationMs: number, alreadyInstalled: boolean, c: Colors, verb = 'installed'): string {
  const s = summarizeWorker(worker);
  const what = `${c.bold(s.id)}${s.version ? ` ${s.version}` : ''}${s.backend ? ` (${s.backend})` : ''}`;
  const where = s.binary ?? s.dir;
  if (alreadyInstalled) {
    return `${c.green('✔')} ${what} is already installed${where ? ` at ${where}` : ''} ${c.dim('(use --force to reinstall)')}`;
  }
  return `${c.green('✔')} ${verb} ${what}${where ? ` → ${where}` : ''} ${c.dim(`in ${formatDuration(durationMs)}`)}`;
}

/**
 * The failure report: the message, what to do, the last log lines and where the full log is.
 * `collectedTail` is used when the error itself carries no `logTail`.
 */
export function failureLines(error: ErrorReport, collectedTail: readonly string[], c: Colors): string[] {
  const lines = [`${c.red('✖')} ${c.red(c.bold('error'))} ${c.dim(error.code)} ${error.message}`];
  if (error.hint) lines.push(`  ${c.cyan('hint:')} ${error.hint}`);
  const tail = (error.logTail && error.logTail.length > 0 ? error.logTail : collectedTail).slice(-FAILURE_TAIL_LINES);
  if (tail.length > 0) {
    lines.push(c.dim(`  last ${tail.length} log line${tail.length === 1 ? '' : 's'}:`));
    for (const l of tail) lines.push(`  ${c.dim('│')} ${sanitizeLine(l)}`);
  }
  if (error.logFile) lines.push(`  ${c.dim('full log:')} ${error.logFile}`);
  return lines;
}

/** The line printed after a Ctrl-C. */
export function cancelledLine(c: Colors): string {
  return `${c.yellow('✖')} cancelled: nothing was installed`;
}
