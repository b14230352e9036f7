import type { Colors, OutputStream } from '../output.js';
import type { ProvisionEvent } from '../provision-event.js';
import type { Outcome, Reporter } from './reporter.js';
import { cancelledLine, failureLines } from './summary-lines.js';

/**
 * `--json` for long commands: every `ProvisionEvent` as one JSON line on stdout (the schema the
 * hive streams over SSE). Human messages (the failure report) still go to stderr.
 */
export class NdjsonReporter implements Reporter {
  readonly #out: OutputStream;
  readonly #err: OutputStream;
  readonly #c: Colors;
  readonly #jobId: string;
  #seq = 0;
  #sawTerminal = false;

  constructor(out: OutputStream, err: OutputStream, errColors: Colors, jobId: string) {
    this.#out = out;
    this.#err = err;
    this.#c = errColors;
    this.#jobId = jobId;
  }

  event(e: ProvisionEvent): void {
    this.#seq = Math.max(this.#seq, e.seq);
    if (e.type === 'done' || e.type === 'error') this.#sawTerminal = true;
    this.#out.write(`${JSON.stringify(e)}\n`);
  }

  note(message: string): void {
    this.#err.write(`${message}\n`);
  }

  finish(outcome: Outcome): void {
    if (outcome.kind === 'done') return;
    // A failure before the provisioner could emit anything (bad catalog, bad arguments) still
    // ends the stream with a schema-valid error event.
    if (!this.#sawTerminal) {
      const error = outcome.kind === 'error' ? outcome.error : { code: 'ABORT_ERR', message: 'cancelled by the user' };
      const e: ProvisionEvent = { v: 1, seq: this.#seq + 1, ts: Date.now(), jobId: this.#jobId, type: 'error', error };
      this.#out.write(`${JSON.stringify(e)}\n`);
    }
    if (outcome.kind === 'error') for (const l of failureLines(outcome.error, [], this.#c)) this.#err.write(`${l}\n`);
    else this.#err.write(`${cancelledLine(this.#c)}\n`);
  }
}
