import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Diagnostic, PackageInfo, Pkgbuild, PkgbuildFunction, Value } from '@rbee/pkgbuild-parser';
import { DEFAULT_PATH, defaultChost, hostCarch, validateEnv } from './build-env.js';
import { writeDriver } from './drivers.js';
import { abortError, ExecutorError } from './errors.js';
import { FieldReader, runTree } from './process-tree.js';
import { bwrapArgs, checkBash, DEFAULT_BWRAP, resolveSandbox, type SandboxMode } from './sandbox.js';

/** Options of {@link inspectPkgbuild} and {@link inspectPkgbuilds}. */
export interface InspectOptions {
  /**
   * The architecture the top level is evaluated for (`CARCH`).
   * @default the host's (`x86_64` on x64, `aarch64` on arm64, …)
   */
  carch?: string;
  /**
   * Extra environment variables for the top level, on top of the scrubbed base environment
   * (`PATH`, `HOME` = a scratch dir, `LC_ALL=C`, `TMPDIR`, `SOURCE_DATE_EPOCH`). `CHOST` here
   * sets makepkg's `CHOST` shell variable.
   * @default {}
   */
  env?: Record<string, string>;
  /**
   * Isolation of the top-level code. Inspect never has network access and can write only to a
   * scratch directory (and a private `/tmp`) inside bubblewrap.
   * @default 'auto'
   */
  sandbox?: SandboxMode;
  /**
   * Time allowed for sourcing one PKGBUILD, in milliseconds (`E_TIMEOUT` after it).
   * @default 10000
   */
  timeoutMs?: number;
  /** Cancels the inspection; the promise rejects with an `AbortError`. */
  signal?: AbortSignal;
  /**
   * The bash binary.
   * @default 'bash' (looked up on the safe PATH)
   */
  bashPath?: string;
  /**
   * The bubblewrap binary.
   * @default 'bwrap'
   */
  bwrapPath?: string;
}

/** What {@link inspectPkgbuild} read from a PKGBUILD. */
export interface InspectResult {
  /**
   * The PKGBUILD's meaning in the parser's model; `toSrcinfo(pkgbuild)` is what
   * `makepkg --printsrcinfo` prints (minus anything the top level printed itself).
   */
  pkgbuild: Pkgbuild;
  /** Everything the top level wrote to stdout (makepkg would have mixed it into its output). */
  stdout: string;
  /**
   * `W_TOPLEVEL_OUTPUT` when the top level printed to stdout, `W_BASH_STDERR` for each line bash
   * or the file wrote to stderr (with the line bash reported, when it did), `W_UNSANDBOXED` when
   * the code ran without bubblewrap.
   */
  diagnostics: Diagnostic[];
}

/** One entry of {@link inspectPkgbuilds}' result: the result or the error for that file. */
export type InspectOutcome =
  | { path: string; ok: true; result: InspectResult }
  | { path: string; ok: false; error: ExecutorError };

interface FileState {
  path: string;
  text: string;
  sourceStatus?: number;
  done: boolean;
  timedOut: boolean;
  exitStatus?: number;
  vars: Record<string, Value>;
  functions: Array<PkgbuildFunction & { line: number }>;
  pkgbase?: string;
  packages: PackageInfo[];
}

function setKey(obj: Record<string, Value>, k: string, v: Value): void {
  Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function lineRange(text: string, line: number): Diagnostic['range'] {
  const lines = text.split('\n');
  const n = Math.min(Math.max(line, 1), Math.max(lines.length, 1));
  let offset = 0;
  for (let i = 0; i < n - 1; i++) offset += (lines[i]?.length ?? 0) + 1;
  const len = lines[n - 1]?.length ?? 0;
  return { start: { line: n, column: 1, offset }, end: { line: n, column: len + 1, offset: offset + len } };
}

function bodyOf(declared: string): string {
  const lines = declared.split('\n');
  if (lines.length >= 3 && /^.* \(\) $/.test(lines[0] ?? '') && lines[1] === '{ ' && lines[lines.length - 1] === '}') {
    return lines.slice(2, -1).join('\n');
  }
  return declared;
}

/** Parses the driver's records into per-file states (see inspect-driver.sh for the format). */
function parseRecords(fields: string[], files: FileState[], driverPath: string): void {
  let i = 0;
  const next = (): string => fields[i++] ?? '';
  const readValue = (): Value => {
    const kind = next();
    if (kind === 'a') {
      const n = Number(next());
      const out: string[] = [];
      for (let k = 0; k < n; k++) out.push(next());
      return out;
    }
    return next();
  };
  let cur: FileState | undefined;
  let pkg: PackageInfo | undefined;
  while (i < fields.length) {
    const t = next();
    switch (t) {
      case 'F': {
        cur = files[Number(next())];
        next();
        pkg = undefined;
        break;
      }
      case 'S':
        if (cur) cur.sourceStatus = Number(next());
        else next();
        break;
      case 'V': {
        const name = next();
        const v = readValue();
        if (cur) setKey(cur.vars, name, v);
        break;
      }
      case 'U': {
        const name = next();
        const where = next().replace(/\n$/, '');
        const text = next().replace(/\n$/, '');
        // extdebug `declare -F`: "name line file"; the driver's own helpers come from its file
        const rest = where.slice(name.length + 1);
        const sp = rest.indexOf(' ');
        const line = Number(sp === -1 ? rest : rest.slice(0, sp));
        const file = sp === -1 ? '' : rest.slice(sp + 1);
        if (file !== driverPath) cur?.functions.push({ name, body: bodyOf(text), line: Number.isFinite(line) ? line : 0 });
        break;
      }
      case 'B':
        if (cur) cur.pkgbase = next();
        else next();
        break;
      case 'P': {
        const name = next();
        pkg = { name, overrides: {} };
        cur?.packages.push(pkg);
        break;
      }
      case 'O': {
        const name = next();
        const v = readValue();
        if (pkg) setKey(pkg.overrides, name, v);
        break;
      }
      case 'D':
        if (cur) cur.done = true;
        break;
      case 'T': {
        const f = files[Number(next())];
        if (f) f.timedOut = true;
        break;
      }
      case 'X': {
        const f = files[Number(next())];
        const st = Number(next());
        if (f) f.exitStatus = st;
        break;
      }
      default:
        // unknown record: stop rather than misread the rest
        return;
    }
  }
}

const BASH_LINE = /^(.*?): line (\d+): (.*)$/;

function stderrDiagnostics(state: FileState, stderr: string): { diagnostics: Diagnostic[]; firstLine?: number; firstMessage?: string } {
  const diagnostics: Diagnostic[] = [];
  let firstLine: number | undefined;
  let firstMessage: string | undefined;
  for (const raw of stderr.split('\n')) {
    if (raw === '') continue;
    const m = BASH_LINE.exec(raw);
    let line = 1;
    let message = raw;
    if (m && m[1] === state.path) {
      line = Number(m[2]);
      message = m[3] ?? raw;
      if (firstLine === undefined) {
        firstLine = line;
        firstMessage = message;
      }
    }
    diagnostics.push({ code: 'W_BASH_STDERR', severity: 'warning', message, range: lineRange(state.text, line) });
  }
  return { diagnostics, ...(firstLine === undefined ? {} : { firstLine }), ...(firstMessage === undefined ? {} : { firstMessage }) };
}

function readOut(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function finishFile(state: FileState, index: number, scratch: string, carch: string, sandboxDiag: Diagnostic | undefined, timeoutMs: number): InspectOutcome {
  const stdout = readOut(join(scratch, 'out', `${index}.out`));
  const stderr = readOut(join(scratch, 'out', `${index}.err`));
  const { diagnostics, firstLine, firstMessage } = stderrDiagnostics(state, stderr);
  const fail = (message: string, extra: { line?: number; exitCode?: number } = {}): InspectOutcome => ({
    path: state.path,
    ok: false,
    error: new ExecutorError('E_PKGBUILD_SOURCE', message, { path: state.path, stderr, ...extra }),
  });
  if (state.timedOut) {
    return {
      path: state.path,
      ok: false,
      error: new ExecutorError('E_TIMEOUT', `sourcing ${state.path} did not finish within ${timeoutMs} ms and was killed`, { path: state.path, timeoutMs }),
    };
  }
  if (state.sourceStatus === undefined) {
    return fail(
      `${state.path} exited (status ${state.exitStatus ?? 'unknown'}) while being sourced: a PKGBUILD must not call exit at top level`,
      { exitCode: state.exitStatus ?? -1 },
    );
  }
  if (state.sourceStatus !== 0) {
    const where = firstLine === undefined ? '' : ` (line ${firstLine}: ${firstMessage})`;
    return fail(
      `Failed to source ${state.path}: the last top-level command returned ${state.sourceStatus}${where}. makepkg rejects such a PKGBUILD; fix the failing command`,
      { exitCode: state.sourceStatus, ...(firstLine === undefined ? {} : { line: firstLine }) },
    );
  }
  if (!state.done) {
    return fail(`${state.path} exited (status ${state.exitStatus ?? 'unknown'}) while its variables were being read`, { exitCode: state.exitStatus ?? -1 });
  }
  if (stdout !== '') {
    diagnostics.unshift({
      code: 'W_TOPLEVEL_OUTPUT',
      severity: 'warning',
      message: `the top level printed ${stdout.length} characters to stdout (makepkg --printsrcinfo would mix them into its output); they are returned in \`stdout\``,
      range: lineRange(state.text, 1),
    });
  }
  if (sandboxDiag) diagnostics.unshift({ ...sandboxDiag, range: lineRange(state.text, 1) });
  const pn = state.vars['pkgname'];
  const pkgname = pn === undefined ? [] : typeof pn === 'string' ? [pn] : pn;
  const functions = state.functions
    .sort((a, b) => a.line - b.line || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ name, body }) => ({ name, body }));
  const pkgbuild: Pkgbuild = {
    pkgbase: state.pkgbase ?? pkgname[0] ?? '',
    pkgname,
    vars: state.vars,
    packages: state.packages,
    functions,
    unknown: [],
    carch,
  };
  return { path: state.path, ok: true, result: { pkgbuild, stdout, diagnostics } };
}

/**
 * Source many PKGBUILDs in one bash process (one subshell per file, so files cannot affect
 * each other): much faster than one {@link inspectPkgbuild} call per file. Per-file failures
 * are returned as values; only an abort, a missing bash or an unusable required sandbox reject.
 * `timeoutMs` applies to each file.
 *
 * @example
 * ```ts
 * const outcomes = await inspectPkgbuilds(['a/PKGBUILD', 'b/PKGBUILD'], { carch: 'x86_64' })
 * for (const o of outcomes) if (o.ok) console.log(toSrcinfo(o.result.pkgbuild))
 * ```
 */
export async function inspectPkgbuilds(paths: string[], options: InspectOptions = {}): Promise<InspectOutcome[]> {
  const { signal } = options;
  if (signal?.aborted) throw abortError(signal, 'inspectPkgbuild');
  const carch = options.carch ?? hostCarch();
  const userEnv = validateEnv(options.env);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const bash = checkBash(options.bashPath ?? 'bash', userEnv['PATH'] ?? DEFAULT_PATH);
  const sandbox = await resolveSandbox(options.sandbox ?? 'auto', options.bwrapPath ?? DEFAULT_BWRAP);
  let sandboxDiag: Diagnostic | undefined;
  if (sandbox.kind === 'none') {
    sandboxDiag = {
      code: 'W_UNSANDBOXED',
      severity: sandbox.warning ? 'warning' : 'info',
      message: sandbox.warning ?? "the top level ran without a sandbox (sandbox: 'none'): it could read and write anything this user can",
      range: lineRange('', 1),
    };
  }

  const outcomes: Array<InspectOutcome | undefined> = [];
  const states: FileState[] = [];
  const runnable: string[] = [];
  const runnableIdx: number[] = [];
  paths.forEach((p, idx) => {
    const path = resolve(p);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      outcomes[idx] = {
        path,
        ok: false,
        error: new ExecutorError('E_PKGBUILD_SOURCE', `cannot read ${path}: ${(e as Error).message}`, { path, cause: e }),
      };
      return;
    }
    if (text.includes('\r')) {
      outcomes[idx] = {
        path,
        ok: false,
        error: new ExecutorError('E_PKGBUILD_SOURCE', `${path} contains CRLF characters and cannot be sourced (makepkg refuses it): convert it to LF line endings`, { path }),
      };
      return;
    }
    runnable.push(path);
    runnableIdx.push(idx);
    states.push({ path, text, done: false, timedOut: false, vars: {}, functions: [], packages: [] });
  });
  if (runnable.length === 0) return outcomes as InspectOutcome[];

  const scratch = mkdtempSync(join(tmpdir(), 'rbee-inspect-'));
  try {
    mkdirSync(join(scratch, 'out'));
    mkdirSync(join(scratch, 'home'));
    mkdirSync(join(scratch, 'tmp'));
    const chost = userEnv['CHOST'] ?? defaultChost(carch);
    const { CHOST: _chost, ...restEnv } = userEnv;
    const env: Record<string, string> = {
      PATH: DEFAULT_PATH,
      HOME: join(scratch, 'home'),
      LC_ALL: 'C',
      TMPDIR: sandbox.kind === 'bwrap' ? '/tmp' : join(scratch, 'tmp'),
      SOURCE_DATE_EPOCH: String(Math.floor(Date.now() / 1000)),
      ...restEnv,
    };
    const perFileTimeout = runnable.length > 1 ? String(timeoutMs / 1000) : '0';
    const driverArgs = [join(scratch, 'out'), carch, chost, perFileTimeout, ...runnable];
    const driver = writeDriver('inspect', scratch);
    const bashArgs = ['--noprofile', '--norc', driver, ...driverArgs];
    let command = bash;
    let args = bashArgs;
    if (sandbox.kind === 'bwrap') {
      command = options.bwrapPath ?? DEFAULT_BWRAP;
      args = [
        ...bwrapArgs({ writable: [scratch], readonly: [...new Set(runnable.map((p) => dirname(p)))], network: false }),
        '--chdir', '/',
        '--', bash, ...bashArgs,
      ];
    }
    const reader = new FieldReader();
    const token = randomBytes(12).toString('hex');
    const tree = await runTree({
      command,
      args,
      env,
      cwd: '/',
      records: true,
      onRecords: (c) => reader.push(c),
      ...(signal ? { signal } : {}),
      // one file: the whole run is that file's budget; many: bash enforces it per file
      timeoutMs: runnable.length > 1 ? timeoutMs * runnable.length + 10_000 : timeoutMs,
      killGraceMs: 1000,
      token,
      sweep: sandbox.kind === 'none',
      what: `inspecting ${runnable.length === 1 ? runnable[0] : `${runnable.length} PKGBUILDs`}`,
    }).catch((e: unknown) => {
      if (ExecutorError.isInstance(e) && e.code === 'E_TIMEOUT' && runnable.length === 1) {
        throw new ExecutorError('E_TIMEOUT', `sourcing ${runnable[0]} did not finish within ${timeoutMs} ms and was killed`, {
          path: runnable[0] ?? '',
          timeoutMs,
        });
      }
      throw e;
    });
    parseRecords(reader.fields, states, driver);
    const only = states[0];
    if (states.length === 1 && only && only.exitStatus === undefined) only.exitStatus = tree.exitCode ?? 128;
    states.forEach((st, k) => {
      outcomes[runnableIdx[k] ?? 0] = finishFile(st, k, scratch, carch, sandboxDiag, timeoutMs);
    });
    return outcomes as InspectOutcome[];
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Source a PKGBUILD in bash the way makepkg does (extglob off, no errexit, `CARCH`/`CHOST` and
 * makepkg's message helpers defined, `srcdir`/`pkgdir` unset) and read back every variable,
 * arch variant, function and per-package override into the parser's `Pkgbuild` model, with the
 * overrides extracted exactly as makepkg extracts them. Runs without network, in a scrubbed
 * environment, under bubblewrap when available, with a timeout.
 *
 * @throws {ExecutorError} `E_PKGBUILD_SOURCE`, `E_TIMEOUT`, `E_BASH_NOT_FOUND`,
 *   `E_SANDBOX_UNAVAILABLE`; an `AbortError` when `signal` aborts.
 * @example
 * ```ts
 * import { inspectPkgbuild } from '@rbee/pkgbuild-executor'
 * import { toSrcinfo } from '@rbee/pkgbuild-parser'
 * const { pkgbuild, stdout, diagnostics } = await inspectPkgbuild('./PKGBUILD', { carch: 'x86_64' })
 * process.stdout.write(toSrcinfo(pkgbuild))
 * ```
 */
export async function inspectPkgbuild(path: string, options: InspectOptions = {}): Promise<InspectResult> {
  const [outcome] = await inspectPkgbuilds([path], options);
  if (!outcome) throw new ExecutorError('E_SPAWN', `no result for ${path}`);
  if (!outcome.ok) throw outcome.error;
  return outcome.result;
}
