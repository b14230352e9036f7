import type { Colors, CliIo } from './output.js';

/** The options every command accepts (given before or after the command name). */
export interface GlobalOptions {
  /** Machine-readable output: one JSON document, or NDJSON events for install/build. */
  json?: boolean;
  /** Catalog URL or directory. */
  catalog?: string;
  /** Workers home directory. */
  home?: string;
}

/** What a command implementation gets from the runner. */
export interface CommandContext {
  io: CliIo;
  /** Colours for stdout. */
  out: Colors;
  /** Colours for stderr. */
  err: Colors;
  globals: GlobalOptions;
  /** Aborted on the first Ctrl-C (or SIGTERM). */
  signal: AbortSignal;
  /**
   * Marks the command as cancellable: the first Ctrl-C then aborts `signal` and calls `onCancel`
   * (to say "cancelling…") instead of exiting at once.
   */
  cancellable(onCancel: () => void): void;
  /** The exit code for a cancelled command: 130 after SIGINT, 143 after SIGTERM. */
  interruptCode(): number;
}
