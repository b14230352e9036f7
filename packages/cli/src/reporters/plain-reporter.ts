import type { Colors, OutputStream } from '../output.js';
import type { ProvisionEvent } from '../provision-event.js';
import { sanitizeLine } from '../terminal-text.js';
import { formatAmount, formatDuration } from '../units.js';
import { FAILURE_TAIL_LINES, type Outcome, type Reporter } from './reporter.js';
import { cancelledLine, failureLines, successLine } from './summary-lines.js';

const PROGRESS_EVERY_MS = 1000;

/** Options of {@link PlainReporter}. */
export interface PlainReporterOptions {
  /** The first line (e.g. `Installing demo-worker-rbee`). */
  title: string;
  /** Where the final summary line goes (a result, so stdout). */
  result: OutputStream;
  /** Colours for `result`. */
  resultColors: Colors;
  /** The verb of the summary line. @default 'installed' */
  verb?: string;
}

/**
 * Append-only lines for CI logs and pipes, in makepkg's `==>` style: one line per phase start
 * and end, download progress at most once a second per file, every build-log line prefixed with
 * its phase. No cursor movement, no colour unless forced.
 */
export class PlainReporter implements Reporter {
  readonly #out: OutputStream;
  readonly #c: Colors;
  readonly #options: PlainReporterOptions;
  readonly #lastProgress = new Map<string, number>();
  readonly #recent: string[] = [];

  constructor(out: OutputStream, colors: Colors, options: PlainReporterOptions) {
    this.#out = out;
    this.#c = colors;
    this.#options = options;
    out.write(`${colors.bold('==>')} ${options.title}\n`);
  }

  #line(text: string): void {
    this.#out.write(`${text}\n`);
  }

  event(e: ProvisionEvent): void {
    const c = this.#c;
    switch (e.type) {
      case 'phase':
        if (e.status === 'start') this.#line(`${c.green('==>')} ${e.phase}`);
        else if (e.status === 'done') this.#line(`  ${c.blue('->')} ${e.phase} done${e.durationMs !== undefined ? ` (${formatDuration(e.durationMs)})` : ''}`);
        else if (e.status === 'skipped') this.#line(`  ${c.blue('->')} ${e.phase} skipped${e.reason ? `: ${sanitizeLine(e.reason)}` : ''}`);
        // the reason is the error's message, printed in full by finish()
        else this.#line(`  ${c.red('->')} ${e.phase} failed`);
        break;
      case 'progress': {
        const key = `${e.phase}\u0000${e.label ?? ''}`;
        const last = this.#lastProgress.get(key);
        const complete = e.total !== undefined && e.current >= e.total;
        if (last !== undefined && !complete && e.ts - last < PROGRESS_EVERY_MS) break;
        if (last === -1) break; // already reported complete
        this.#lastProgress.set(key, complete ? -1 : e.ts);
        const amount =
          e.total !== undefined && e.total > 0
            ? `${formatAmount(e.current, e.unit)} / ${formatAmount(e.total, e.unit)} (${Math.floor((e.current / e.total) * 100)}%)`
            : formatAmount(e.current, e.unit);
        this.#line(`  ${c.blue('->')} ${e.label ? `${sanitizeLine(e.label)} ` : ''}${amount}`);
        break;
      }
      case 'log': {
        const line = sanitizeLine(e.line);
        this.#recent.push(line);
        if (this.#recent.length > FAILURE_TAIL_LINES) this.#recent.shift();
        this.#line(`${c.dim(`${e.phase} |`)} ${line}`);
        break;
      }
      case 'warning':
        this.#line(`${c.yellow('warning:')} ${e.code} ${sanitizeLine(e.message)}`);
        break;
      default:
        break;
    }
  }

  note(message: string): void {
    this.#line(message);
  }

  finish(outcome: Outcome): void {
    if (outcome.kind === 'done') {
      this.#options.result.write(
        `${successLine(outcome.worker, outcome.durationMs, outcome.alreadyInstalled, this.#options.resultColors, this.#options.verb)}\n`,
      );
    } else if (outcome.kind === 'error') {
      for (const l of failureLines(outcome.error, this.#recent, this.#c)) this.#line(l);
    } else this.#line(cancelledLine(this.#c));
  }
}
