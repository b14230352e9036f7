import { abortError } from './errors.js';
import type { JobReporter } from './job-reporter.js';
import type { ProvisionEventListener, WorkerBinary } from './types.js';

/** What a job resolves to. */
export interface JobResult {
  worker: WorkerBinary;
  alreadyInstalled: boolean;
}

/** One running job, possibly shared by several concurrent callers in this process. */
export class SharedJob {
  readonly reporter: JobReporter;
  readonly controller = new AbortController();
  promise!: Promise<JobResult>;
  private subscribers = 0;

  constructor(reporter: JobReporter) {
    this.reporter = reporter;
  }

  /** Join: events go to `onEvent`; `signal` detaches this caller, and aborts the job when it was the last one. */
  attach(onEvent: ProvisionEventListener | undefined, signal: AbortSignal | undefined): Promise<JobResult> {
    this.subscribers += 1;
    const unsubscribe = onEvent ? this.reporter.subscribe(onEvent) : () => undefined;
    if (!signal) {
      return this.promise.finally(() => {
        unsubscribe();
        this.subscribers -= 1;
      });
    }
    return new Promise<JobResult>((resolve, reject) => {
      let detached = false;
      const onAbort = (): void => {
        if (detached) return;
        detached = true;
        this.subscribers -= 1;
        if (this.subscribers <= 0) {
          // last interested caller: cancel the job and settle once it has cleaned up
          this.controller.abort(signal.reason);
          const settle = (): void => {
            unsubscribe();
            reject(abortError(signal));
          };
          this.promise.then(settle, settle);
        } else {
          unsubscribe();
          reject(abortError(signal));
        }
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      // the job settled first: this caller leaves with its outcome
      const detach = (): boolean => {
        if (detached) return false;
        detached = true;
        signal.removeEventListener('abort', onAbort);
        unsubscribe();
        this.subscribers -= 1;
        return true;
      };
      this.promise.then(
        (r) => {
          if (detach()) resolve(r);
        },
        (e: unknown) => {
          if (detach()) reject(e);
        },
      );
    });
  }
}

