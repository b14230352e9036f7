/** Human-readable sizes, rates and durations for the progress views. */

const BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** `1234567` → `1.2 MB` (SI units, like most installers and download tools). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

/** `1500` → `1.5s`, `83000` → `1m23s`, `45` → `45ms`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const totalSeconds = Math.round(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  if (minutes < 60) return `${minutes}m${String(seconds).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** A count in the given unit: bytes are scaled, items are plain numbers. */
export function formatAmount(value: number, unit: 'bytes' | 'items'): string {
  return unit === 'bytes' ? formatBytes(value) : String(value);
}

/** A rate per second in the given unit (`5.1 MB/s`, `12 items/s`). */
export function formatRate(perSecond: number, unit: 'bytes' | 'items'): string {
  return unit === 'bytes' ? `${formatBytes(perSecond)}/s` : `${perSecond.toFixed(perSecond < 10 ? 1 : 0)} items/s`;
}

/** A text progress bar of `width` cells for `ratio` in [0, 1]. */
export function progressBar(ratio: number, width: number): string {
  const r = Math.min(1, Math.max(0, Number.isFinite(ratio) ? ratio : 0));
  const full = Math.round(r * width);
  return `${'█'.repeat(full)}${'░'.repeat(width - full)}`;
}
