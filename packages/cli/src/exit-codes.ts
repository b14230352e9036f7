/**
 * The exit codes of `rbee-worker` (part of the CLI contract; scripts rely on them).
 *
 * @example
 * if ((await run(argv)) === ExitCode.Usage) showHelp();
 */
export const ExitCode = {
  /** The command did what was asked. */
  Ok: 0,
  /** The command failed (bad input, network, checksum, build…); stderr says why. */
  Failure: 1,
  /** The command line itself was wrong (unknown command/option, missing argument). */
  Usage: 2,
  /** Cancelled by Ctrl-C (128 + SIGINT). */
  Interrupted: 130,
  /** Stopped by SIGTERM (128 + SIGTERM). */
  Terminated: 143,
} as const;

/** One of the {@link ExitCode} values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
