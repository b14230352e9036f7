import { randomBytes } from 'node:crypto';
import { isAbortError, toErrorReport, type ErrorReport } from './cli-error.js';
import type { CommandContext } from './context.js';
import { ExitCode } from './exit-codes.js';
import { isInteractive } from './output.js';
import type { ProvisionEvent, WorkerBinary } from './provision-event.js';
import { LiveReporter } from './reporters/live-reporter.js';
import { NdjsonReporter } from './reporters/ndjson-reporter.js';
import { PlainReporter } from './reporters/plain-reporter.js';
import type { Reporter } from './reporters/reporter.js';

/** What a long command hands to the library call it wraps. */
export interface JobHandles {
  jobId: string;
  signal: AbortSignal;
  onEvent: (e: ProvisionEvent) => void;
}

/** A long command (install, build): a title, and the library call that does the work. */
export interface Job {
  /** First line of the view, e.g. `Installing demo-worker-rbee`. */
  title: string;
  /** Verb of the summary line. @default 'installed' */
  verb?: string;
  start(handles: JobHandles): Promise<WorkerBinary>;
}

/** A job id the provisioner accepts (`^[A-Za-z0-9._-]{1,64}$`), unique enough for one home. */
export function newJobId(): string {
  return `cli-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

function pickReporter(ctx: CommandContext, job: Job, jobId: string): Reporter {
  if (ctx.globals.json) return new NdjsonReporter(ctx.io.stdout, ctx.io.stderr, ctx.err, jobId);
  const common = { title: job.title, result: ctx.io.stdout, resultColors: ctx.out, verb: job.verb ?? 'installed' };
  if (isInteractive(ctx.io.stderr, ctx.io.env)) return new LiveReporter(ctx.io.stderr, ctx.err, common);
  return new PlainReporter(ctx.io.stderr, ctx.err, common);
}

/**
 * Runs a long job with the reporter that fits the output (live view on a terminal, plain lines
 * otherwise, NDJSON with `--json`), makes the first Ctrl-C cancel it, and maps the outcome to an
 * exit code.
 */
export async function runJob(ctx: CommandContext, job: Job): Promise<number> {
  const jobId = newJobId();
  const reporter = pickReporter(ctx, job, jobId);
  let doneEvent: Extract<ProvisionEvent, { type: 'done' }> | undefined;
  let errorEvent: Extract<ProvisionEvent, { type: 'error' }> | undefined;
  ctx.cancellable(() => reporter.note('cancelling… (press Ctrl-C again to quit at once)'));
  const started = Date.now();
  try {
    const worker = await job.start({
      jobId,
      signal: ctx.signal,
      onEvent: (e) => {
        if (e.type === 'done') doneEvent = e;
        else if (e.type === 'error') errorEvent = e;
        reporter.event(e);
      },
    });
    reporter.finish({
      kind: 'done',
      worker: doneEvent?.worker ?? worker,
      durationMs: doneEvent?.durationMs ?? Date.now() - started,
      alreadyInstalled: doneEvent?.alreadyInstalled === true,
    });
    return ExitCode.Ok;
  } catch (e) {
    if (ctx.signal.aborted && (isAbortError(e) || errorEvent?.error.code === 'ABORT_ERR')) {
      reporter.finish({ kind: 'cancelled' });
      return ctx.interruptCode();
    }
    const thrown = toErrorReport(e);
    const error: ErrorReport = errorEvent ? { ...thrown, ...errorEvent.error } : thrown;
    reporter.finish({ kind: 'error', error });
    return ExitCode.Failure;
  }
}
