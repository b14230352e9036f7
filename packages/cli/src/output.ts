import pc from 'picocolors';

/** The part of a stream the CLI writes to (a `process.stdout`-like object). */
export interface OutputStream {
  /** Writes text. */
  write(chunk: string): boolean;
  /** True on a terminal: enables the live view (stderr) and colours. */
  isTTY?: boolean;
  /** Terminal width; lines of the live view are cut to it. @default 80 */
  columns?: number;
  /** Terminal height; the live view never grows taller. @default 40 */
  rows?: number;
}

/** Where the CLI reads its environment and writes its output; `process` by default. */
export interface CliIo {
  /** Results (and NDJSON events with `--json`). */
  stdout: OutputStream;
  /** Progress, logs, warnings and error messages. */
  stderr: OutputStream;
  /** Environment variables (`WORKER_CATALOG_URL`, `RBEE_HOME`, `NO_COLOR`, …). */
  env: Record<string, string | undefined>;
  /** Directory relative paths are resolved against. */
  cwd: string;
}

/** The picocolors formatters, enabled or not for one stream. */
export type Colors = ReturnType<typeof pc.createColors>;

/**
 * Whether to colour `stream`: never when `NO_COLOR` is set and non-empty (no-color.org), always
 * when `FORCE_COLOR` is set to anything but `0`/`false`, otherwise only on a terminal whose
 * `TERM` is not `dumb`.
 */
export function colorEnabled(stream: OutputStream, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** Colours for `stream` (every formatter is the identity when disabled). */
export function colorsFor(stream: OutputStream, env: Record<string, string | undefined>): Colors {
  return pc.createColors(colorEnabled(stream, env));
}

/** Whether the live, redrawing view can be used on `stream`. */
export function isInteractive(stream: OutputStream, env: Record<string, string | undefined>): boolean {
  return stream.isTTY === true && env.TERM !== 'dumb' && !env.CI;
}
