import type { ProvisionEvent, ProvisionPhase } from './events.js';
import type { ProvisionEventListener } from './types.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event before the job fills in `v`, `seq`, `ts`, `jobId` and `workerId`. */
export type EventBody = DistributiveOmit<ProvisionEvent, 'v' | 'seq' | 'ts' | 'jobId' | 'workerId'>;

interface ProgressState {
  startedAt: number;
  lastEmit: number;
  pending: { phase: ProvisionPhase; unit: 'bytes' | 'items'; current: number; total?: number } | undefined;
}

/** Minimum gap between two progress events of the same label. */
export const PROGRESS_INTERVAL_MS = 200;

/**
 * Numbers and fans out one job's events: `seq` from 1, strictly increasing; `progress`
 * throttled per label (plus a final one); listener exceptions are swallowed so a faulty
 * listener cannot break the install.
 */
export class JobReporter {
  readonly jobId: string;
  workerId: string | undefined;
  private seq = 0;
  private readonly listeners = new Set<ProvisionEventListener>();
  private readonly progressByLabel = new Map<string, ProgressState>();
  private readonly phaseStarts = new Map<ProvisionPhase, number>();
  private readonly now: () => number;
  private finished = false;

  constructor(jobId: string, now: () => number = Date.now) {
    this.jobId = jobId;
    this.now = now;
  }

  /** Add a listener; returns a function removing it. */
  subscribe(listener: ProvisionEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Emit one event (ignored after the terminal `done`/`error`). */
  emit(body: EventBody): void {
    if (this.finished) return;
    if (body.type === 'done' || body.type === 'error') this.finished = true;
    this.seq += 1;
    const event = {
      v: 1,
      seq: this.seq,
      ts: this.now(),
      jobId: this.jobId,
      ...(this.workerId === undefined ? {} : { workerId: this.workerId }),
      ...body,
    } as ProvisionEvent;
    for (const listener of Array.from(this.listeners)) {
      try {
        listener(event);
      } catch {
        // a listener's failure must not break the install
      }
    }
  }

  phaseStart(phase: ProvisionPhase): void {
    this.phaseStarts.set(phase, this.now());
    this.emit({ type: 'phase', phase, status: 'start' });
  }

  phaseDone(phase: ProvisionPhase): void {
    this.flushProgress();
    const started = this.phaseStarts.get(phase);
    this.phaseStarts.delete(phase);
    this.emit({ type: 'phase', phase, status: 'done', durationMs: started === undefined ? 0 : Math.max(0, this.now() - started) });
  }

  phaseSkipped(phase: ProvisionPhase, reason: string): void {
    this.emit({ type: 'phase', phase, status: 'skipped', reason });
  }

  /** Mark every phase that started and did not finish as failed. */
  failOpenPhases(reason: string): void {
    this.flushProgress();
    for (const [phase, started] of Array.from(this.phaseStarts)) {
      this.phaseStarts.delete(phase);
      this.emit({ type: 'phase', phase, status: 'failed', durationMs: Math.max(0, this.now() - started), reason });
    }
  }

  isOpen(phase: ProvisionPhase): boolean {
    return this.phaseStarts.has(phase);
  }

  warn(code: string, message: string): void {
    this.emit({ type: 'warning', code, message });
  }

  /**
   * Report progress for `label`; emitted at most every {@link PROGRESS_INTERVAL_MS} per label,
   * and always when `current === total` (the final one).
   */
  progress(phase: ProvisionPhase, unit: 'bytes' | 'items', label: string, current: number, total?: number): void {
    const t = this.now();
    let state = this.progressByLabel.get(label);
    if (!state) {
      state = { startedAt: t, lastEmit: Number.NEGATIVE_INFINITY, pending: undefined };
      this.progressByLabel.set(label, state);
    }
    const sample = total === undefined ? { phase, unit, current } : { phase, unit, current, total };
    const final = total !== undefined && current >= total;
    if (final || t - state.lastEmit >= PROGRESS_INTERVAL_MS) {
      state.lastEmit = t;
      state.pending = undefined;
      this.emitProgress(label, state, sample, t);
      if (final) this.progressByLabel.delete(label);
    } else {
      state.pending = sample;
    }
  }

  /** Emit the last throttled progress sample of every label. */
  flushProgress(): void {
    const t = this.now();
    for (const [label, state] of this.progressByLabel) {
      if (state.pending) this.emitProgress(label, state, state.pending, t);
    }
    this.progressByLabel.clear();
  }

  private emitProgress(
    label: string,
    state: ProgressState,
    sample: { phase: ProvisionPhase; unit: 'bytes' | 'items'; current: number; total?: number },
    t: number,
  ): void {
    const elapsed = (t - state.startedAt) / 1000;
    const rate = elapsed > 0 ? Math.round(sample.current / elapsed) : undefined;
    this.emit({ type: 'progress', ...sample, ...(rate === undefined ? {} : { rate }), label });
  }
}
