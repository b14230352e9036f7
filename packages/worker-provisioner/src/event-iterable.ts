import type { ProvisionEvent } from './events.js';
import type { ProvisionEventListener, WorkerBinary } from './types.js';

/**
 * Turn a job started by `start` into an async iterable of its events: it ends after the
 * terminal `done`/`error` event (it does not throw), and a consumer that stops early (break,
 * return, throw) cancels the job and waits for it to clean up.
 */
export function eventsOf<O extends { signal?: AbortSignal | undefined; onEvent?: ProvisionEventListener | undefined }>(
  start: (o: O) => Promise<WorkerBinary>,
  opts: O,
): AsyncIterable<ProvisionEvent> {
  return {
    [Symbol.asyncIterator]: () => {
      const queue: ProvisionEvent[] = [];
      let wake: (() => void) | undefined;
      let settled = false;
      let terminal = false;
      const controller = new AbortController();
      const outer = opts.signal;
      const onOuterAbort = (): void => controller.abort(outer?.reason);
      if (outer?.aborted) controller.abort(outer.reason);
      else outer?.addEventListener('abort', onOuterAbort, { once: true });
      const job = start({
        ...opts,
        signal: controller.signal,
        onEvent: (e: ProvisionEvent) => {
          queue.push(e);
          opts.onEvent?.(e);
          wake?.();
        },
      }).then(
        () => undefined,
        () => undefined,
      );
      void job.finally(() => {
        settled = true;
        outer?.removeEventListener('abort', onOuterAbort);
        wake?.();
      });
      const finish = async (): Promise<IteratorResult<ProvisionEvent>> => {
        if (!terminal && !settled) controller.abort(new Error('event stream closed by the consumer'));
        terminal = true;
        await job;
        return { done: true, value: undefined };
      };
      return {
        next: async (): Promise<IteratorResult<ProvisionEvent>> => {
          for (;;) {
            if (terminal) return { done: true, value: undefined };
            const e = queue.shift();
            if (e) {
              if (e.type === 'done' || e.type === 'error') terminal = true;
              return { done: false, value: e };
            }
            if (settled) return { done: true, value: undefined };
            await new Promise<void>((r) => {
              wake = r;
            });
            wake = undefined;
          }
        },
        return: finish,
        throw: async (err: unknown) => {
          await finish();
          throw err;
        },
      };
    },
  };
}
