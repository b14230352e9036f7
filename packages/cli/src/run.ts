import { Command, CommanderError, Option } from 'commander';
import { CliError, toErrorReport } from './cli-error.js';
import type { CommandContext, GlobalOptions } from './context.js';
import { ExitCode } from './exit-codes.js';
import { colorsFor, type CliIo } from './output.js';

declare const RBEE_CLI_VERSION: string;

/** The version of this CLI (from its package.json, inlined at build time). */
export const version: string = typeof RBEE_CLI_VERSION === 'string' ? RBEE_CLI_VERSION : '0.0.0-dev';

/** Options of {@link run}. */
export interface RunOptions {
  /** Streams and environment. @default process.stdout, process.stderr, process.env, process.cwd() */
  io?: Partial<CliIo>;
  /**
   * Install SIGINT/SIGTERM handlers: the first Ctrl-C cancels the running command cleanly, a
   * second exits at once with 130. @default false (true in the `rbee-worker` binary)
   */
  handleSignals?: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Action = (ctx: CommandContext, ...args: any[]) => Promise<number>;

/**
 * Runs `rbee-worker` with `argv` (without `node` and the script path) and resolves to the exit
 * code: 0 ok, 1 failure, 2 usage error, 130 cancelled by Ctrl-C.
 *
 * @example
 * const code = await run(['pkgbuild', 'lint', 'PKGBUILD']);
 */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<number> {
  const io: CliIo = {
    stdout: options.io?.stdout ?? process.stdout,
    stderr: options.io?.stderr ?? process.stderr,
    env: options.io?.env ?? process.env,
    cwd: options.io?.cwd ?? process.cwd(),
  };
  const out = colorsFor(io.stdout, io.env);
  const err = colorsFor(io.stderr, io.env);
  const controller = new AbortController();
  let onCancel: (() => void) | undefined;
  let interruptCode: number = ExitCode.Interrupted;
  let exitCode: number = ExitCode.Ok;
  let jsonMode = false;

  const onSignal = (signal: NodeJS.Signals) => {
    interruptCode = signal === 'SIGTERM' ? ExitCode.Terminated : ExitCode.Interrupted;
    if (controller.signal.aborted || !onCancel) {
      io.stderr.write('\u001b[?25h'.repeat(io.stderr.isTTY ? 1 : 0));
      process.exit(interruptCode);
    }
    controller.abort(Object.assign(new Error(`cancelled by ${signal}`), { name: 'AbortError', code: 'ABORT_ERR' }));
    onCancel();
  };
  if (options.handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  const program = new Command('rbee-worker');
  const jsonHelp = 'machine-readable output: one JSON document, or NDJSON events for install/build';
  const catalogHelp = 'catalog URL or directory (default: $WORKER_CATALOG_URL, else the example catalog)';
  const homeHelp = 'workers home (default: $RBEE_HOME, else $XDG_CACHE_HOME/rbee or ~/.cache/rbee)';
  const act =
    (load: () => Promise<Action>) =>
    async (...args: unknown[]): Promise<void> => {
      const cmd = args[args.length - 1] as Command;
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      jsonMode = globals.json === true;
      const ctx: CommandContext = {
        io,
        out,
        err,
        globals,
        signal: controller.signal,
        cancellable(cb) {
          onCancel = cb;
        },
        interruptCode: () => interruptCode,
      };
      const action = await load();
      exitCode = await action(ctx, ...args);
    };

  program
    .description('Install rbee workers from PKGBUILDs, and parse, lint and inspect PKGBUILD files.')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--json', jsonHelp)
    .option('--catalog <url|dir>', catalogHelp)
    .option('--home <dir>', homeHelp)
    // Program options only before the command name, so a command's own option with the same
    // name (`remove --version V`) is not taken for the program's `--version`; every command
    // accepts --json/--catalog/--home itself (see `leaf`).
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: (s, write) => write(err.red(s)),
    })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  $ rbee-worker install demo-worker-rbee
  $ rbee-worker install llm-worker-rbee@0.2.0 --backend cuda
  $ rbee-worker list
  $ rbee-worker pkgbuild lint PKGBUILD
  $ rbee-worker pkgbuild srcinfo PKGBUILD > .SRCINFO

Exit codes: 0 ok, 1 failure, 2 usage error, 130 cancelled (Ctrl-C).
Environment: WORKER_CATALOG_URL, RBEE_HOME, XDG_CACHE_HOME, NO_COLOR, FORCE_COLOR.`,
    );

  /** Adds the global options to a command (hidden in its help where they do not apply). */
  const leaf = (cmd: Command, shown: ReadonlyArray<'json' | 'catalog' | 'home'>): Command => {
    const add = (opt: Option, name: 'json' | 'catalog' | 'home') => cmd.addOption(shown.includes(name) ? opt : opt.hideHelp());
    add(new Option('--json', jsonHelp), 'json');
    add(new Option('--catalog <url|dir>', catalogHelp), 'catalog');
    add(new Option('--home <dir>', homeHelp), 'home');
    return cmd;
  };

  leaf(
    program
      .command('install')
      .description('install a worker from the catalog (prebuilt when available, else built from its PKGBUILD)')
      .argument('<id[@version]>', 'worker id, optionally with a version (demo-worker-rbee@0.1.0)')
      .addOption(new Option('--backend <backend>', 'which variant to install').choices(['auto', 'cpu', 'cuda', 'metal', 'rocm']).default('auto'))
      .option('--from-source', 'build from the PKGBUILD even when a prebuilt variant exists')
      .option('--force', 'reinstall even when this version is already installed')
      .option('--no-sandbox', 'run PKGBUILD code without the bubblewrap sandbox')
      .addOption(new Option('--carch <arch>', 'target architecture (CARCH)').hideHelp()),
    ['json', 'catalog', 'home'],
  ).action(
    act(async () => (await import('./commands/install.js')).installCommand),
  );

  leaf(
    program
      .command('list')
      .alias('ls')
      .description('list installed workers'),
    ['json', 'home'],
  ).action(
    act(async () => (await import('./commands/installed.js')).listCommand),
  );

  leaf(
    program
      .command('info')
      .description('show an installed worker and its catalog entry')
      .argument('<id>', 'worker id'),
    ['json', 'catalog', 'home'],
  ).action(
    act(async () => (await import('./commands/installed.js')).infoCommand),
  );

  leaf(
    program
      .command('remove')
      .alias('rm')
      .description('remove an installed worker (all versions, or one with --version)')
      .argument('<id>', 'worker id')
      .option('--version <version>', 'remove only this version'),
    ['json', 'home'],
  ).action(
    act(async () => (await import('./commands/installed.js')).removeCommand),
  );

  const catalog = program.command('catalog').description('browse or serve a worker catalog');
  leaf(
    catalog
      .command('list')
      .alias('ls')
      .description('list the workers a catalog offers'),
    ['json', 'catalog'],
  ).action(
    act(async () => (await import('./commands/catalog.js')).catalogListCommand),
  );
  leaf(
    catalog
      .command('serve')
      .description('serve a catalog directory over HTTP (the catalog API), until Ctrl-C')
      .argument('<dir>', 'catalog directory')
      .option('--port <port>', 'port to listen on (0 picks a free one)', '8787')
      .option('--host <host>', 'address to listen on', '127.0.0.1'),
    ['json'],
  ).action(
    act(async () => (await import('./commands/catalog.js')).catalogServeCommand),
  );

  leaf(
    program
      .command('build')
      .description('build a local PKGBUILD directory and install the result (like makepkg -i)')
      .argument('<dir>', 'directory holding the PKGBUILD')
      .option('--no-sandbox', 'run PKGBUILD code without the bubblewrap sandbox')
      .option('--force', 'reinstall even when this version is already installed')
      .addOption(new Option('--carch <arch>', 'target architecture (CARCH)').hideHelp()),
    ['json', 'home'],
  ).action(
    act(async () => (await import('./commands/build.js')).buildCommand),
  );

  const pkgbuild = program.command('pkgbuild').description('parse, lint and print .SRCINFO for PKGBUILD files (no code runs)');
  leaf(
    pkgbuild
      .command('parse')
      .description('parse a PKGBUILD statically and print what it means (with --json: the whole model)')
      .argument('<file>', 'PKGBUILD file')
      .option('--carch <arch>', 'architecture to evaluate for', 'x86_64'),
    ['json'],
  ).action(
    act(async () => (await import('./commands/pkgbuild.js')).parseCommand),
  );
  leaf(
    pkgbuild
      .command('srcinfo')
      .description('print .SRCINFO, byte-identical to makepkg --printsrcinfo')
      .argument('<file>', 'PKGBUILD file')
      .option('--eval', 'evaluate the file in a sandboxed bash when it is not static')
      .option('--carch <arch>', 'architecture to evaluate for', 'x86_64'),
    [],
  ).action(
    act(async () => (await import('./commands/pkgbuild.js')).srcinfoCommand),
  );
  leaf(
    pkgbuild
      .command('lint')
      .description("check PKGBUILDs with makepkg's lint rules and more; exit 1 on errors")
      .argument('<file...>', 'PKGBUILD files')
      .option('--carch <arch>', 'architecture to evaluate for', 'x86_64'),
    ['json'],
  ).action(
    act(async () => (await import('./commands/lint.js')).lintCommand),
  );

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return ExitCode.Ok;
      return ExitCode.Usage;
    }
    if (controller.signal.aborted && typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError') {
      return interruptCode;
    }
    const report = toErrorReport(e);
    if (jsonMode) io.stdout.write(`${JSON.stringify({ error: report })}\n`);
    io.stderr.write(`${err.red('✖')} ${err.red(err.bold('error'))} ${err.dim(report.code)} ${report.message}\n`);
    if (report.hint) io.stderr.write(`  ${err.cyan('hint:')} ${report.hint}\n`);
    return CliError.isInstance(e) ? e.exitCode : ExitCode.Failure;
  } finally {
    if (options.handleSignals) {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  }
}
