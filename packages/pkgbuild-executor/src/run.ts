import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_PATH, defaultBuildFlags, defaultChost, hostCarch, validateEnv } from './build-env.js';
import { writeDriver } from './drivers.js';
import { abortError, ExecutorError } from './errors.js';
import { FieldReader, GATE_ENV, GATE_FD, LineSplitter, runTree } from './process-tree.js';
import { bwrapArgs, checkBash, DEFAULT_BWRAP, resolveSandbox, type SandboxMode } from './sandbox.js';

/** A step of a build, in the order makepkg runs them. `package` means `package()` or every `package_<name>()`. */
export type PkgbuildStep = 'prepare' | 'pkgver' | 'build' | 'check' | 'package';

/** The steps run when {@link RunOptions.functions} is not given. */
export const ALL_STEPS: readonly PkgbuildStep[] = ['prepare', 'pkgver', 'build', 'check', 'package'];

/** One line of output of a PKGBUILD function, delivered as soon as it is complete. */
/** A PKGBUILD function starting or returning, for `RunOptions.onFunction`. */
export interface FunctionEvent {
  /** `prepare`, `pkgver`, `build`, `check`, `package` or `package_<name>`. */
  function: string;
  status: 'start' | 'end';
  /** Time the function took, with `status: 'end'`. */
  durationMs?: number;
}

export interface OutputLine {
  stream: 'stdout' | 'stderr';
  /** The line without its terminator (`\n`, `\r\n` or a lone `\r`). */
  line: string;
  /** The function that printed it (`build`, `package_foo`, …), or `null` before the first one (top level). */
  function: string | null;
}

/** Options of {@link runPkgbuild}. */
export interface RunOptions {
  /** The PKGBUILD to run (it is sourced; it is never modified, unlike makepkg's pkgver update). */
  pkgbuildPath: string;
  /** makepkg's `$startdir`: where the PKGBUILD and its local files are (read-only in the sandbox). */
  startdir: string;
  /** `$srcdir`: the extracted sources; the working directory of every function. Created if missing. */
  srcdir: string;
  /**
   * Where packages are installed. A string is makepkg's `$pkgdirbase`: each package goes to
   * `<pkgdir>/<pkgname>` (one directory per split package, and `<pkgdir>/<pkgname>` for a single
   * package too), and `build()` sees `$pkgdir = <pkgdir>/<pkgbase>` as in makepkg. A record maps
   * each package name to its own directory (every name must be present). The directories used
   * are returned in {@link RunResult.pkgdirs}.
   * @example '/var/cache/rbee/builds/job1/pkg'
   */
  pkgdir: string | Record<string, string>;
  /**
   * Which steps to run, always in makepkg's order (prepare → pkgver → build → check → package).
   * Steps whose function the PKGBUILD does not define are skipped, except `package`, which
   * fails with `E_NO_PACKAGE_FUNCTION`.
   * @default ['prepare', 'pkgver', 'build', 'check', 'package']
   */
  functions?: PkgbuildStep[];
  /**
   * Skip `check()` (makepkg `--nocheck`).
   * @default false
   */
  skipCheck?: boolean;
  /**
   * `CARCH` for the functions.
   * @default the host's
   */
  carch?: string;
  /**
   * Environment overrides, exported to the functions on top of the scrubbed base (`PATH`, `HOME`,
   * `TMPDIR`, `LANG=C.UTF-8`, `USER`, `SOURCE_DATE_EPOCH`, `CHOST` and Arch's makepkg.conf build
   * flags `CFLAGS CXXFLAGS CPPFLAGS LDFLAGS RUSTFLAGS LTOFLAGS`). Setting `CFLAGS`, `MAKEFLAGS`,
   * `CHOST`… here replaces the default.
   * @default {}
   */
  env?: Record<string, string>;
  /**
   * Isolation (see the README's sandbox model).
   * @default 'auto'
   */
  sandbox?: SandboxMode;
  /**
   * Network access for the functions. `false` gives them an empty network namespace (not even
   * loopback); it needs bubblewrap, so without it a warning says the network is reachable.
   * @default false
   */
  network?: boolean;
  /**
   * Run the package functions under `fakeroot`, as makepkg does. `'auto'` uses it when installed.
   * `true` requires it (`E_SPAWN` if missing).
   * @default 'auto'
   */
  fakeroot?: boolean | 'auto';
  /** Extra host directories the functions may write (caches such as `~/.cargo`), bound read-write. */
  writablePaths?: string[];
  /** Extra host paths the functions may read although they are hidden (e.g. under `/home`). */
  readablePaths?: string[];
  /** Overall time limit in milliseconds; `E_TIMEOUT` after it. */
  timeoutMs?: number;
  /**
   * Time between SIGTERM and SIGKILL when the tree is killed (abort or timeout).
   * @default 3000
   */
  killGraceMs?: number;
  /**
   * Start early, run later: the sandbox is set up and the PKGBUILD sourced at once (as makepkg
   * sources it before it extracts), but no function runs until this promise resolves. A caller
   * passes its extraction here so that the build's start-up overlaps it. If the promise rejects,
   * no function runs, the process tree is killed, and `runPkgbuild` rejects with the same reason.
   * The wait counts towards `timeoutMs`.
   * @example runPkgbuild({ ..., startAfter: extractArchive(...) })
   */
  startAfter?: Promise<unknown>;
  /** Cancels the run: the whole process tree is killed and the promise rejects with an `AbortError`. */
  signal?: AbortSignal;
  /** Receives every output line as it is printed. */
  onLine?: (line: OutputLine) => void;
  /**
   * Told when each PKGBUILD function starts and returns (`package_<name>` for split packages),
   * including functions that print nothing. A function that fails gets no `end`.
   */
  onFunction?: (event: FunctionEvent) => void;
  /** Receives warnings (no sandbox, no fakeroot, network not isolated). */
  onWarning?: (message: string) => void;
  /** File receiving the whole output (stdout and stderr merged, in arrival order). Truncated first. */
  logFile?: string;
  /**
   * The bash binary (a name is looked up on the safe PATH); missing → `E_BASH_NOT_FOUND`.
   * @default 'bash'
   */
  bashPath?: string;
  /**
   * The bubblewrap binary; unusable with `sandbox: 'bwrap'` → `E_SANDBOX_UNAVAILABLE`.
   * @default 'bwrap'
   */
  bwrapPath?: string;
  /**
   * The fakeroot binary used for the package functions.
   * @default 'fakeroot'
   */
  fakerootPath?: string;
}

/** What {@link runPkgbuild} did. */
export interface RunResult {
  /** The final `pkgver`: what `pkgver()` printed, or the PKGBUILD's own value. */
  pkgver: string;
  /** `pkgrel` after the run (makepkg resets it to `1` when `pkgver()` changes the version). */
  pkgrel: string;
  /** `epoch`, or `''`. */
  epoch: string;
  /** `pkgbase` (defaults to `pkgname[0]`). */
  pkgbase: string;
  /** `pkgname`, in order. */
  pkgname: string[];
  /** Wall time of each function that ran, in milliseconds, keyed by function name (`package_foo`…). */
  durations: Record<string, number>;
  /** Where each package was installed, keyed by package name. */
  pkgdirs: Record<string, string>;
  /** The log file, when {@link RunOptions.logFile} was given. */
  logFile: string | undefined;
  /** The isolation actually used. */
  sandbox: 'bwrap' | 'none';
  /** Whether the package functions ran under fakeroot. */
  fakeroot: boolean;
}

const LOG_TAIL = 50;

function findOnPath(name: string, pathEnv: string): string | undefined {
  try {
    return checkBash(name, pathEnv);
  } catch {
    return undefined;
  }
}

interface PhaseState {
  current: Record<'stdout' | 'stderr', string | null>;
  tail: string[];
  started: Map<string, number>;
  durations: Record<string, number>;
  lastStarted: string | null;
  ended: Set<string>;
}

/**
 * Run a PKGBUILD's functions like makepkg: `prepare → pkgver → build → check → package`
 * (or each `package_<name>()` of a split package), each called plainly with errexit, errtrace
 * and an ERR trap, no pipefail, `cwd = srcdir`, umask 022, makepkg's exported build variables,
 * package functions under fakeroot. Sandboxed with bubblewrap when available; every process
 * of the tree is gone when the promise settles.
 *
 * @throws {ExecutorError} `E_PKGBUILD_SOURCE`, `E_NO_PACKAGE_FUNCTION`, `E_FUNCTION_FAILED`,
 *   `E_INVALID_PKGVER`, `E_TIMEOUT`, `E_BASH_NOT_FOUND`, `E_SANDBOX_UNAVAILABLE`, `E_SPAWN`;
 *   an `AbortError` when `signal` aborts.
 * @example
 * ```ts
 * const { pkgver, pkgdirs } = await runPkgbuild({
 *   pkgbuildPath: 'w/PKGBUILD', startdir: 'w', srcdir: 'w/src', pkgdir: 'w/pkg',
 *   onLine: ({ function: fn, line }) => console.log(`[${fn}] ${line}`),
 * })
 * ```
 */
export async function runPkgbuild(options: RunOptions): Promise<RunResult> {
  const { signal } = options;
  if (signal?.aborted) throw abortError(signal, 'runPkgbuild');
  const started = performance.now();
  const pkgbuildPath = resolve(options.pkgbuildPath);
  const startdir = resolve(options.startdir);
  const srcdir = resolve(options.srcdir);
  const pkgdirBase = typeof options.pkgdir === 'string' ? resolve(options.pkgdir) : null;
  const pkgdirMap: Record<string, string> = {};
  if (typeof options.pkgdir !== 'string') {
    for (const [k, v] of Object.entries(options.pkgdir)) pkgdirMap[k] = resolve(v);
  }
  let text: string;
  try {
    text = readFileSync(pkgbuildPath, 'utf8');
  } catch (e) {
    throw new ExecutorError('E_PKGBUILD_SOURCE', `cannot read ${pkgbuildPath}: ${(e as Error).message}`, { path: pkgbuildPath, cause: e });
  }
  if (text.includes('\r')) {
    throw new ExecutorError('E_PKGBUILD_SOURCE', `${pkgbuildPath} contains CRLF characters and cannot be sourced (makepkg refuses it): convert it to LF line endings`, {
      path: pkgbuildPath,
    });
  }
  const userEnv = validateEnv(options.env);
  const pathEnv = userEnv['PATH'] ?? DEFAULT_PATH;
  const bash = checkBash(options.bashPath ?? 'bash', pathEnv);
  const carch = options.carch ?? hostCarch();
  const steps = new Set<PkgbuildStep>(options.functions ?? ALL_STEPS);
  if (options.skipCheck) steps.delete('check');
  const warn = (m: string): void => options.onWarning?.(m);

  const sandbox = await resolveSandbox(options.sandbox ?? 'auto', options.bwrapPath ?? DEFAULT_BWRAP);
  if (sandbox.warning) warn(sandbox.warning);
  const network = options.network ?? false;
  if (sandbox.kind === 'none' && !network) warn('network: false needs the bubblewrap sandbox: the functions can reach the network');

  const fakerootOpt = options.fakeroot ?? 'auto';
  let fakeroot: string | undefined;
  if (fakerootOpt !== false && steps.has('package')) {
    fakeroot = findOnPath(options.fakerootPath ?? 'fakeroot', pathEnv);
    if (!fakeroot && fakerootOpt === true) {
      throw new ExecutorError('E_SPAWN', `fakeroot was required but ${options.fakerootPath ?? 'fakeroot'} was not found: install fakeroot or pass fakeroot: 'auto'`);
    }
    if (!fakeroot) warn('fakeroot is not installed: package functions run with the real user ids');
  }

  mkdirSync(srcdir, { recursive: true });
  if (pkgdirBase) mkdirSync(pkgdirBase, { recursive: true });
  for (const d of Object.values(pkgdirMap)) mkdirSync(d, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'rbee-run-'));
  let log: WriteStream | undefined;
  try {
    mkdirSync(join(scratch, 'home'));
    mkdirSync(join(scratch, 'tmp'));
    if (!pkgdirBase) {
      const pairs: string[] = [];
      for (const [k, v] of Object.entries(pkgdirMap)) pairs.push(k, v);
      writeFileSync(join(scratch, 'pkgdirs'), pairs.map((p) => `${p}\0`).join(''));
    }
    if (options.logFile) {
      mkdirSync(dirname(resolve(options.logFile)), { recursive: true });
      const l = createWriteStream(resolve(options.logFile), { flags: 'w' });
      l.on('error', (e) => {
        warn(`cannot write the log file ${options.logFile}: ${e.message}`);
        if (log === l) log = undefined;
      });
      log = l;
    }
    const driverPath = writeDriver('run', scratch);
    const token = randomBytes(12).toString('hex');
    const mark = `\x1erbee-executor-${token}:`;
    const flags = defaultBuildFlags(carch);
    let user = 'root';
    try {
      user = userInfo().username;
    } catch {
      /* keep default */
    }
    const env: Record<string, string> = {
      PATH: DEFAULT_PATH,
      HOME: join(scratch, 'home'),
      TMPDIR: sandbox.kind === 'bwrap' ? '/tmp' : join(scratch, 'tmp'),
      LANG: 'C.UTF-8',
      USER: user,
      LOGNAME: user,
      SOURCE_DATE_EPOCH: String(Math.floor(Date.now() / 1000)),
      COMMAND_MODE: 'legacy',
      TEXTDOMAIN: 'pacman-scripts',
      TEXTDOMAINDIR: '/usr/share/locale',
      CHOST: defaultChost(carch),
      ...flags,
      ...userEnv,
    };
    // declared cache dirs are created; readable paths that do not exist are left out
    const extraWritable = (options.writablePaths ?? []).map((p) => resolve(p));
    for (const d of extraWritable) mkdirSync(d, { recursive: true });
    const extraReadable = (options.readablePaths ?? []).map((p) => resolve(p)).filter((p) => {
      if (existsSync(p)) return true;
      warn(`readablePaths: ${p} does not exist and is not bound into the sandbox`);
      return false;
    });
    const writable = [srcdir, scratch, ...(pkgdirBase ? [pkgdirBase] : Object.values(pkgdirMap)), ...extraWritable];
    const readonly = [startdir, dirname(pkgbuildPath), ...extraReadable].filter((p) => existsSync(p));

    const state: PhaseState = {
      current: { stdout: null, stderr: null },
      tail: [],
      started: new Map(),
      durations: {},
      lastStarted: null,
      ended: new Set(),
    };
    const info = { pkgbase: '', pkgver: '', pkgrel: '', epoch: '', pkgname: [] as string[] };
    const pkgdirs: Record<string, string> = {};
    let buildfile = pkgbuildPath;

    const emit = (stream: 'stdout' | 'stderr', line: string): void => {
      if (line.startsWith(mark)) {
        state.current[stream] = line.slice(mark.length);
        return;
      }
      state.tail.push(line);
      if (state.tail.length > LOG_TAIL) state.tail.shift();
      log?.write(`${line}\n`);
      options.onLine?.({ stream, line, function: state.current[stream] });
    };

    const runPhase = async (phase: 'build' | 'package', fns: string[], gate?: Promise<unknown>): Promise<void> => {
      const reader = new FieldReader();
      const out = new LineSplitter((l) => emit('stdout', l));
      const err = new LineSplitter((l) => emit('stderr', l));
      const onRecords = (chunk: Buffer): void => {
        reader.push(chunk);
        // timestamps for START/END as they arrive
        consumeRecords();
      };
      let consumed = 0;
      let failure: ExecutorError | null = null;
      const consumeRecords = (): void => {
        const f = reader.fields;
        for (;;) {
          const t = f[consumed];
          if (t === undefined) return;
          const arity: Record<string, number> = { START: 1, END: 1, FAIL: 2, SRCFAIL: 1, NOPKG: 1, NOPKGDIR: 1, PKGVER: 2, BADVER: 2, PKGDIR: 2 };
          let need = arity[t];
          if (t === 'VER') {
            const n = f[consumed + 5];
            if (n === undefined) return;
            need = 5 + Number(n);
          }
          if (need === undefined) {
            consumed = f.length;
            return;
          }
          if (f.length < consumed + 1 + need) return;
          const a = f.slice(consumed + 1, consumed + 1 + need);
          consumed += 1 + need;
          const now = performance.now();
          switch (t) {
            case 'START':
              state.started.set(a[0] ?? '', now);
              state.lastStarted = a[0] ?? null;
              options.onFunction?.({ function: a[0] ?? '', status: 'start' });
              break;
            case 'END': {
              const s = state.started.get(a[0] ?? '');
              if (s !== undefined) state.durations[a[0] ?? ''] = now - s;
              state.ended.add(a[0] ?? '');
              options.onFunction?.({ function: a[0] ?? '', status: 'end', ...(s === undefined ? {} : { durationMs: now - s }) });
              break;
            }
            case 'FAIL':
              failure ??= new ExecutorError(
                'E_FUNCTION_FAILED',
                `${a[0]}() failed with exit status ${a[1]} (${pkgbuildPath})`,
                { path: pkgbuildPath, function: a[0] ?? '', exitCode: Number(a[1]), logTail: [] },
              );
              break;
            case 'SRCFAIL':
              failure ??= new ExecutorError(
                'E_PKGBUILD_SOURCE',
                `Failed to source ${pkgbuildPath}: the last top-level command returned ${a[0]}`,
                { path: pkgbuildPath, exitCode: Number(a[0]) },
              );
              break;
            case 'NOPKG':
              failure ??= new ExecutorError(
                'E_NO_PACKAGE_FUNCTION',
                `${pkgbuildPath} has no ${info.pkgname.length > 1 ? `package_${a[0]}()` : 'package()'} function for package ${a[0]}: add it, or leave 'package' out of functions`,
                { path: pkgbuildPath },
              );
              break;
            case 'NOPKGDIR':
              failure ??= new ExecutorError('E_NO_PACKAGE_FUNCTION', `pkgdir was given as a record without an entry for package ${a[0]}: add one`, {
                path: pkgbuildPath,
              });
              break;
            case 'PKGVER':
              info.pkgver = a[0] ?? info.pkgver;
              if (a[1]) {
                buildfile = a[1];
                info.pkgrel = '1';
              }
              break;
            case 'BADVER':
              failure ??= new ExecutorError(
                'E_INVALID_PKGVER',
                `pkgver() generated an invalid version ${JSON.stringify(a[0])}: ${a[1]}`,
                { path: pkgbuildPath, function: 'pkgver', pkgver: a[0] ?? '' },
              );
              break;
            case 'PKGDIR':
              pkgdirs[a[0] ?? ''] = a[1] ?? '';
              break;
            case 'VER':
              info.pkgbase = a[0] ?? '';
              if (!state.ended.has('pkgver')) {
                info.pkgver = a[1] ?? '';
                info.pkgrel = a[2] ?? '';
              }
              info.epoch = a[3] ?? '';
              info.pkgname = a.slice(5);
              break;
          }
        }
      };

      const bashArgs = ['--noprofile', '--norc', driverPath, phase, buildfile, startdir, srcdir, pkgdirBase ?? join(scratch, 'pkg'), scratch, mark, carch, ...fns];
      let inner = [bash, ...bashArgs];
      if (phase === 'package' && fakeroot) inner = [fakeroot, '--', ...inner];
      let command = inner[0] ?? bash;
      let args = inner.slice(1);
      if (sandbox.kind === 'bwrap') {
        command = options.bwrapPath ?? DEFAULT_BWRAP;
        args = [...bwrapArgs({ writable, readonly, network }), '--chdir', srcdir, '--', ...inner];
      }
      const remaining = options.timeoutMs === undefined ? undefined : Math.max(1, options.timeoutMs - (performance.now() - started));
      let tree;
      try {
        tree = await runTree({
          command,
          args,
          // fakeroot records ownership changes; it must not also attempt the real chown: in a
          // user namespace (bwrap run by a non-root user) that fails with EINVAL, which fakeroot
          // does not ignore the way it ignores EPERM
          env: {
            ...env,
            ...(phase === 'package' && fakeroot ? { FAKEROOTDONTTRYCHOWN: '1' } : {}),
            ...(gate ? { [GATE_ENV]: String(GATE_FD) } : {}),
          },
          ...(gate ? { gate } : {}),
          cwd: srcdir,
          records: true,
          onStdout: (c) => out.push(c),
          onStderr: (c) => err.push(c),
          onRecords,
          ...(signal ? { signal } : {}),
          ...(remaining === undefined ? {} : { timeoutMs: remaining }),
          killGraceMs: options.killGraceMs ?? 3000,
          token,
          sweep: sandbox.kind === 'none',
          what: `running ${fns.join(', ') || 'package'} of ${pkgbuildPath}`,
        });
      } finally {
        out.end();
        err.end();
      }
      consumeRecords();
      if (failure) {
        const f: ExecutorError = failure;
        if (f.code === 'E_FUNCTION_FAILED') {
          throw new ExecutorError('E_FUNCTION_FAILED', f.message, {
            path: pkgbuildPath,
            function: f.function ?? '',
            exitCode: f.exitCode ?? 1,
            logTail: [...state.tail],
          });
        }
        throw f;
      }
      if (tree.exitCode !== 0) {
        const fn = state.lastStarted && !state.ended.has(state.lastStarted) ? state.lastStarted : null;
        const status = tree.exitCode ?? (tree.signal ? `signal ${tree.signal}` : 'unknown');
        throw new ExecutorError(
          'E_FUNCTION_FAILED',
          fn ? `${fn}() exited the build (status ${status})` : `the ${phase} driver exited with status ${status}`,
          { path: pkgbuildPath, function: fn ?? '', exitCode: tree.exitCode ?? -1, logTail: [...state.tail] },
        );
      }
      if (state.lastStarted && !state.ended.has(state.lastStarted)) {
        throw new ExecutorError('E_FUNCTION_FAILED', `${state.lastStarted}() called exit before returning (status 0): makepkg would stop there`, {
          path: pkgbuildPath,
          function: state.lastStarted,
          exitCode: 0,
          logTail: [...state.tail],
        });
      }
    };

    const buildFns = (['prepare', 'pkgver', 'build', 'check'] as const).filter((s) => steps.has(s));
    // the first process waits at the gate; a later one starts after it, so the gate is open then
    let gate = options.startAfter;
    if (buildFns.length > 0 || !steps.has('package')) {
      await runPhase('build', buildFns, gate);
      gate = undefined;
    }
    if (steps.has('package')) {
      if (signal?.aborted) throw abortError(signal, 'runPkgbuild');
      await runPhase('package', [], gate);
    }
    return {
      pkgver: info.pkgver,
      pkgrel: info.pkgrel,
      epoch: info.epoch,
      pkgbase: info.pkgbase,
      pkgname: info.pkgname,
      durations: state.durations,
      pkgdirs,
      logFile: options.logFile ? resolve(options.logFile) : undefined,
      sandbox: sandbox.kind,
      fakeroot: fakeroot !== undefined,
    };
  } finally {
    if (log) {
      const l = log;
      await new Promise<void>((res) => {
        l.once('error', () => res());
        l.end(() => res());
      });
    }
    rmSync(scratch, { recursive: true, force: true });
  }
}
