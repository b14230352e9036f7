import type { Colors, OutputStream } from '../output.js';
import type { Phase, ProvisionEvent } from '../provision-event.js';
import { sanitizeLine, truncate } from '../terminal-text.js';
import { formatAmount, formatDuration, formatRate, progressBar } from '../units.js';
import { BUILD_PHASES, FAILURE_TAIL_LINES, type Outcome, type Reporter } from './reporter.js';
import { cancelledLine, failureLines, successLine } from './summary-lines.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const LOG_LINES_SHOWN = 6;
const TICK_MS = 80;

interface PhaseRow {
  phase: Phase;
  status: 'running' | 'done' | 'skipped' | 'failed';
  startedAt: number;
  durationMs?: number;
  reason?: string;
}

interface Transfer {
  phase: Phase;
  label: string;
  unit: 'bytes' | 'items';
  current: number;
  total?: number;
  rate?: number;
  firstTs: number;
  firstCurrent: number;
  lastTs: number;
}

/** Options of {@link LiveReporter}. */
export interface LiveReporterOptions {
  /** The first line, kept above the live view (e.g. `Installing demo-worker-rbee`). */
  title: string;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
  /** Redraw on a timer (off in unit tests, which call `render()`). @default true */
  animate?: boolean;
  /** The verb of the summary line. @default 'installed' */
  verb?: string;
  /** Where the final summary line goes (a result, so stdout). */
  result: OutputStream;
  /** Colours for `result`. */
  resultColors: Colors;
}

/**
 * The terminal view of an install: one line per phase with a spinner or its duration, a progress
 * bar per download (bytes, rate, ETA), the last lines of the build log under the build phase, and
 * at the end one summary line. Redraws in place on stderr, at most every 80 ms.
 */
export class LiveReporter implements Reporter {
  readonly #out: OutputStream;
  readonly #c: Colors;
  readonly #result: OutputStream;
  readonly #rc: Colors;
  readonly #now: () => number;
  readonly #phases: PhaseRow[] = [];
  readonly #transfers = new Map<string, Transfer>();
  readonly #recent: string[] = [];
  #phaseLog: { phase: Phase; lines: string[] } | undefined;
  #height = 0;
  #frame = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #footer: string | undefined;
  #finished = false;
  readonly #verb: string;
  readonly #restoreCursor = () => this.#out.write('\u001b[?25h');

  constructor(out: OutputStream, colors: Colors, options: LiveReporterOptions) {
    this.#out = out;
    this.#c = colors;
    this.#result = options.result;
    this.#rc = options.resultColors;
    this.#verb = options.verb ?? 'installed';
    this.#now = options.now ?? Date.now;
    this.#out.write(`${options.title}\n\u001b[?25l`);
    process.once('exit', this.#restoreCursor);
    if (options.animate !== false) {
      this.#timer = setInterval(() => this.render(), TICK_MS);
      this.#timer.unref();
    }
  }

  #row(phase: Phase, ts: number): PhaseRow {
    let row = this.#phases.find((p) => p.phase === phase);
    if (!row) {
      row = { phase, status: 'running', startedAt: ts };
      this.#phases.push(row);
    }
    return row;
  }

  event(e: ProvisionEvent): void {
    switch (e.type) {
      case 'phase': {
        const row = this.#row(e.phase, e.ts);
        if (e.status === 'start') {
          row.status = 'running';
          row.startedAt = e.ts;
        } else {
          row.status = e.status === 'done' ? 'done' : e.status;
          row.durationMs = e.durationMs ?? Math.max(0, e.ts - row.startedAt);
          if (e.reason) row.reason = e.reason;
          for (const [k, t] of this.#transfers) if (t.phase === e.phase) this.#transfers.delete(k);
        }
        break;
      }
      case 'progress': {
        this.#row(e.phase, e.ts);
        const key = `${e.phase}\u0000${e.label ?? ''}`;
        const t = this.#transfers.get(key);
        if (t) {
          t.current = e.current;
          t.total = e.total ?? t.total;
          t.rate = e.rate;
          t.lastTs = e.ts;
        } else {
          this.#transfers.set(key, {
            phase: e.phase,
            label: e.label ?? e.phase,
            unit: e.unit,
            current: e.current,
            total: e.total,
            rate: e.rate,
            firstTs: e.ts,
            firstCurrent: e.current,
            lastTs: e.ts,
          });
        }
        break;
      }
      case 'log': {
        const line = sanitizeLine(e.line);
        this.#recent.push(line);
        if (this.#recent.length > FAILURE_TAIL_LINES) this.#recent.shift();
        if (BUILD_PHASES.has(e.phase)) {
          if (!this.#phaseLog || this.#phaseLog.phase !== e.phase) this.#phaseLog = { phase: e.phase, lines: [] };
          this.#phaseLog.lines.push(line);
          if (this.#phaseLog.lines.length > LOG_LINES_SHOWN) this.#phaseLog.lines.shift();
        }
        break;
      }
      case 'warning':
        this.#permanent(`${this.#c.yellow('⚠')} ${this.#c.yellow('warning')} ${this.#c.dim(e.code)} ${sanitizeLine(e.message)}`);
        break;
      default:
        break;
    }
  }

  note(message: string): void {
    this.#footer = message;
    this.render();
  }

  /** Writes a line above the live view, where it stays. */
  #permanent(line: string): void {
    this.#write(`${this.#clear()}${line}\n`, false);
  }

  #clear(): string {
    const h = this.#height;
    this.#height = 0;
    return h > 0 ? `\u001b[${h}A\r\u001b[J` : '';
  }

  #write(prefix: string, finalFrame: boolean): void {
    const lines = this.#lines(finalFrame);
    this.#height = lines.length;
    this.#out.write(prefix + lines.map((l) => `${l}\n`).join(''));
  }

  #transferLine(t: Transfer, width: number): string {
    const c = this.#c;
    const elapsed = Math.max(1, t.lastTs - t.firstTs);
    const rate = t.rate ?? (t.lastTs > t.firstTs ? ((t.current - t.firstCurrent) * 1000) / elapsed : undefined);
    const parts = [`    ${t.label}`];
    if (t.total !== undefined && t.total > 0) {
      parts.push(c.cyan(progressBar(t.current / t.total, 20)));
      parts.push(`${formatAmount(t.current, t.unit)} / ${formatAmount(t.total, t.unit)}`);
    } else parts.push(formatAmount(t.current, t.unit));
    if (rate !== undefined && rate > 0) {
      parts.push(c.dim(formatRate(rate, t.unit)));
      if (t.total !== undefined && t.total > t.current) parts.push(c.dim(`ETA ${formatDuration(((t.total - t.current) / rate) * 1000)}`));
    }
    return truncate(parts.join('  '), width);
  }

  #lines(finalFrame: boolean): string[] {
    const c = this.#c;
    const width = Math.max(20, (this.#out.columns ?? 80) - 1);
    const now = this.#now();
    const out: string[] = [];
    const spin = SPINNER[this.#frame % SPINNER.length] ?? '-';
    for (const row of this.#phases) {
      const icon =
        row.status === 'running'
          ? finalFrame
            ? c.red('✖')
            : c.cyan(spin)
          : row.status === 'done'
            ? c.green('✔')
            : row.status === 'skipped'
              ? c.dim('↓')
              : c.red('✖');
      const time = row.status === 'running' ? now - row.startedAt : (row.durationMs ?? 0);
      const extra = row.status === 'skipped' ? c.dim(`skipped${row.reason ? `: ${row.reason}` : ''}`) : c.dim(formatDuration(time));
      out.push(truncate(`${icon} ${row.phase.padEnd(8)} ${extra}`, width));
      if (finalFrame || row.status !== 'running') continue;
      for (const t of this.#transfers.values()) if (t.phase === row.phase) out.push(this.#transferLine(t, width));
      if (this.#phaseLog && this.#phaseLog.phase === row.phase) {
        for (const l of this.#phaseLog.lines) out.push(truncate(`    ${c.dim('│')} ${c.dim(l)}`, width));
      }
    }
    if (this.#footer && !finalFrame) out.push(c.yellow(truncate(this.#footer, width)));
    const maxRows = Math.max(3, (this.#out.rows ?? 40) - 2);
    return out.length > maxRows ? out.slice(out.length - maxRows) : out;
  }

  /** Redraws the view (called by the timer). */
  render(): void {
    if (this.#finished) return;
    this.#frame++;
    this.#write(this.#clear(), false);
  }

  finish(outcome: Outcome): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#timer) clearInterval(this.#timer);
    const c = this.#c;
    if (outcome.kind !== 'done') {
      for (const row of this.#phases) if (row.status === 'running') {
        row.status = 'failed';
        row.durationMs = this.#now() - row.startedAt;
      }
    }
    let tail = '';
    if (outcome.kind === 'done') {
      // nothing on stderr: the summary is the result
    } else if (outcome.kind === 'error') tail = failureLines(outcome.error, this.#recent, c).map((l) => `${l}\n`).join('');
    else tail = `${cancelledLine(c)}\n`;
    const lines = this.#lines(true);
    this.#out.write(`${this.#clear()}${lines.map((l) => `${l}\n`).join('')}${tail}\u001b[?25h`);
    process.removeListener('exit', this.#restoreCursor);
    if (outcome.kind === 'done') {
      this.#result.write(`${successLine(outcome.worker, outcome.durationMs, outcome.alreadyInstalled, this.#rc, this.#verb)}\n`);
    }
  }
}
