/**
 * Throttled progress reporting.
 */

/** One progress report for one source. */
export interface ProgressEvent {
  /** Which source: the PKGBUILD entry's filename (or the label given to `downloadFile`). */
  label: string;
  /** Bytes present so far (including a resumed `.part`). */
  done: number;
  /** Expected size, when the server said. */
  total?: number;
  /** Bytes per second since this attempt started. */
  rate: number;
  /** `download` while bytes flow, `done` at the end, `cached` when nothing had to be fetched. */
  phase: 'download' | 'done' | 'cached';
}

/** Interval between two progress events for one source, in ms. */
export const PROGRESS_INTERVAL = 100;

/** Emits at most one event per {@link PROGRESS_INTERVAL}, plus the final one. */
export class ProgressMeter {
  private t0 = 0;
  private base = 0;
  private last = 0;
  private total: number | undefined;
  constructor(
    private readonly label: string,
    private readonly cb?: (p: ProgressEvent) => void,
  ) {}
  start(done: number, total: number | undefined): void {
    this.t0 = performance.now();
    this.base = done;
    this.total = total;
    this.last = 0;
    this.emit(done, 'download');
  }
  private timer: ReturnType<typeof setTimeout> | undefined;
  private latest = 0;
  update(done: number): void {
    if (!this.cb) return;
    this.latest = done;
    const now = performance.now();
    if (now - this.last < PROGRESS_INTERVAL) {
      // Trailing event, so a transfer that stalls still reports where it stopped.
      if (!this.timer) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.emit(this.latest, 'download');
        }, PROGRESS_INTERVAL - (now - this.last));
        this.timer.unref?.();
      }
      return;
    }
    this.emit(done, 'download');
  }
  finish(done: number): void {
    this.stop();
    this.emit(done, 'done');
  }
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
  private emit(done: number, phase: ProgressEvent['phase']): void {
    if (!this.cb) return;
    const now = performance.now();
    this.last = now;
    const secs = (now - this.t0) / 1000;
    const ev: ProgressEvent = { label: this.label, done, rate: secs > 0 ? Math.round((done - this.base) / secs) : 0, phase };
    if (this.total !== undefined) ev.total = this.total;
    try {
      this.cb(ev);
    } catch {
      // A throwing progress callback must not break the download.
    }
  }
}
