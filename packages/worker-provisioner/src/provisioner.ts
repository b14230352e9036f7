import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { chmod, copyFile, lstat, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Diagnostic, Pkgbuild } from '@rbee/pkgbuild-parser';
import { detectBackend, hostArch, hostPlatform } from './backend-detection.js';
import { createJobDirs, discardBuildDir, markFailed, setBuildDirAside, sweepBuilds, type JobDirs } from './build-dirs.js';
import { abortError, codeOf, isAbortError, messageOf, ProvisionError, throwIfAborted } from './errors.js';
import type { ProvisionEvent, ProvisionPhase } from './events.js';
import { findExecutable } from './executable-finder.js';
import { acquireLock, tryAcquireLock, type HeldLock } from './install-lock.js';
import { JobReporter } from './job-reporter.js';
import { SharedJob, type JobResult } from './shared-job.js';
import { arrayVar, declaredVersion, functionNames, localFiles, phaseOfFunction, scalar } from './pkgbuild-facts.js';
import { eventsOf } from './event-iterable.js';
import { readLogTail } from './log-tail.js';
import { cacheVerified, recordScans, recordVerified } from './verified-cache.js';
import { hashTree, verifyTree, writeFileAtomic, type ManifestCapabilities, type WorkerManifest } from './manifest.js';
import {
  loadStages,
  type BuildLine,
  type CatalogLike,
  type CatalogVariantLike,
  type CatalogWorkerLike,
  type FetchResultLike,
  type ParseResultLike,
  type ResolvedLike,
  type SandboxMode,
  type Stages,
} from './stages.js';
import type {
  ArtifactProvisioner,
  InstallFromDirectoryOptions,
  ProvisionOptions,
  RemoveOptions,
  VerifyReport,
  WorkerBinary,
  WorkerPlatform,
  WorkerType,
} from './types.js';
import {
  fixCurrent,
  installedVersions,
  publishVersion,
  readCurrent,
  removeTree,
  removeVersionDir,
  removeWorkerDir,
  repairWorker,
  sweepWorkersRoot,
  toWorkerBinary,
  workerNames,
  type InstalledVersion,
} from './worker-store.js';
import { BUILD_LOG_NAME, defaultHome, fullVersion, isSafePkgname, MANIFEST_NAME, versionDirName, WorkersHome } from './workers-home.js';

/** Options of the catalog client the provisioner creates when given options instead of a client. */
export interface CatalogClientOptionsLike {
  /** `http(s)://…` catalog URL or a local catalog directory. */
  url: string;
  /** Bearer token for a private catalog. @default process.env.RBEE_CATALOG_TOKEN */
  token?: string;
  /** Per-request time limit in ms. @default the client's (15000) */
  timeoutMs?: number;
  /** Retries on network errors and 5xx. @default the client's (2) */
  retries?: number;
  /** ETag/offline cache of catalog answers; `false` disables it. @default the client's (`$RBEE_HOME/catalog`, …) */
  cacheDir?: string | false;
  /** Answer from the cache only. @default false */
  offline?: boolean;
  /** Any other `CatalogClientOptions` field, passed through. */
  [key: string]: unknown;
}

/** Options of {@link WorkerProvisioner}. */
export interface WorkerProvisionerOptions {
  /**
   * The workers home.
   * @default `$RBEE_HOME`, else `$XDG_CACHE_HOME/rbee`, else `~/.cache/rbee`
   */
  home?: string;
  /**
   * The catalog: a `CatalogClient` (or anything with `resolve`/`getPkgbuild`/`getFile`), its
   * options, or a URL/directory. Needed by `provision()`, not by `installFromDirectory()`.
   * @default `$WORKER_CATALOG_URL` when set
   */
  catalog?: CatalogLike | CatalogClientOptionsLike | string;
  /**
   * Sandbox for inspecting and building PKGBUILDs (see `@rbee/pkgbuild-executor`): `auto`
   * (bubblewrap when it works), `bwrap` (required), `none`; `true`/`false` mean `auto`/`none`.
   * @default 'auto'
   */
  sandbox?: SandboxMode | boolean;
  /** Whether build functions may use the network. @default the executor's default (no network) */
  network?: boolean;
  /**
   * Run `package()` under fakeroot. makepkg does so to record root ownership in a package
   * archive; the provisioner installs the tree for the current user, so it is off by default
   * (and saves fakeroot's start-up and per-syscall cost).
   * @default false
   */
  fakeroot?: boolean | 'auto';
  /** Target architecture (`CARCH`). @default this machine's (`x86_64`, `aarch64`) */
  carch?: string;
  /** Target platform. @default this machine's */
  platform?: WorkerPlatform;
  /** Clock for event timestamps and durations. @default Date.now */
  now?: () => number;
  /** Backend detection used for `backend: 'auto'`. @default {@link detectBackend} */
  detectBackend?: () => Promise<WorkerType> | WorkerType;
  /** Skip `check()`. @default false */
  skipCheck?: boolean;
  /** Extra environment for the build functions (`MAKEFLAGS`, …). */
  buildEnv?: Record<string, string>;
  /** Keep at most this many failed build directories. @default 5 */
  keepFailedBuilds?: number;
  /** Drop failed build directories older than this. @default 7 days */
  maxFailedBuildAgeMs?: number;
  /** How long to wait for another process's install of the same worker. @default 600000 */
  lockTimeoutMs?: number;
  /** Replace pipeline stages (parser, executor, fetcher functions): for embedders and tests. */
  stages?: Partial<Stages>;
}

// no leading dot: build dirs named `.…` are the sweeper's (discarded dirs)
const JOB_ID_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

function newJobId(): string {
  return `${Date.now().toString(36)}-${randomBytes(5).toString('hex')}`;
}

type JobRequest =
  | { kind: 'catalog'; spec: string; backend: WorkerType | 'auto'; fromSource: boolean; force: boolean }
  | {
      kind: 'directory';
      dir: string;
      backend: WorkerType | 'auto';
      force: boolean;
      binaryName?: string | undefined;
      capabilities?: InstallFromDirectoryOptions['capabilities'];
    };

/** Hints shown with errors of the composed packages. */
function hintFor(code: string, logFile: string | undefined, buildDir: string | undefined): string | undefined {
  const kept = buildDir ? ` The build directory ${buildDir} is kept for inspection.` : '';
  switch (code) {
    case 'E_WORKER_NOT_FOUND':
      return 'Check the worker id against the catalog (`rbee-worker catalog list`).';
    case 'E_VERSION_NOT_FOUND':
      return 'Drop the @version to install the catalog\'s current version, or pick one it lists.';
    case 'E_INVALID_WORKER_ID':
      return 'Worker ids are lower-case letters, digits and . _ + - (e.g. llm-worker-rbee, llm-worker-rbee-cpu@0.2.0).';
    case 'E_CHECKSUM_MISMATCH':
      return `The download is corrupt or the PKGBUILD's checksum is stale: retry, or report it to the worker's maintainer.${kept}`;
    case 'E_FUNCTION_FAILED':
    case 'E_INVALID_PKGVER':
    case 'E_NO_PACKAGE_FUNCTION':
    case 'E_TIMEOUT':
      return logFile ? `Read the build log at ${logFile}.${kept}` : undefined;
    case 'E_CATALOG_UNREACHABLE':
      return 'Check the catalog URL and the network, or use a local catalog directory.';
    case 'E_SANDBOX_UNAVAILABLE':
      return 'Install bubblewrap (bwrap), or pass sandbox: "none" / --no-sandbox to build without it.';
    default:
      return logFile ? `The build log is at ${logFile}.${kept}` : undefined;
  }
}

async function toReadable(body: unknown): Promise<Readable> {
  if (body instanceof Readable) return body;
  if (body && typeof (body as ReadableStream).getReader === 'function') {
    return Readable.fromWeb(body as import('node:stream/web').ReadableStream);
  }
  if (body && typeof (body as { body?: unknown }).body === 'object') return toReadable((body as { body: unknown }).body);
  if (typeof body === 'string' || body instanceof Uint8Array) return Readable.from([body]);
  if (body && typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    return Readable.from(body as AsyncIterable<unknown>);
  }
  throw new ProvisionError('E_INTERNAL', 'the catalog client returned a file body of an unknown type');
}

async function makeReadOnly(root: string): Promise<void> {
  const entries = await readdir(root, { withFileTypes: true });
  await Promise.all(
    entries.map(async (e) => {
      const p = join(root, e.name);
      if (e.isDirectory()) await makeReadOnly(p);
      else if (e.isFile()) {
        const st = await stat(p);
        await chmod(p, st.mode & 0o7555);
      }
    }),
  );
}

/**
 * Installs rbee workers into a workers home from a catalog (or a local PKGBUILD directory):
 * resolve → fetch → verify → extract → prepare → pkgver → build → check → package → install,
 * atomically, cancellably, observably.
 *
 * @example
 * ```ts
 * const provisioner = new WorkerProvisioner({ catalog: 'http://127.0.0.1:8787' })
 * const worker = await provisioner.provision('demo-worker-rbee', {
 *   onEvent: (e) => { if (e.type === 'log') process.stderr.write(e.line + '\n') },
 * })
 * console.log(worker.path) // ~/.cache/rbee/workers/demo-worker-rbee/0.1.0-1/usr/bin/demo-worker-rbee
 * ```
 */
export class WorkerProvisioner implements ArtifactProvisioner<WorkerBinary> {
  /** The workers home directory. */
  readonly home: string;
  private readonly layout: WorkersHome;
  private readonly options: WorkerProvisionerOptions;
  private readonly carch: string;
  private readonly platform: WorkerPlatform;
  private readonly now: () => number;
  private readonly sandbox: SandboxMode;
  private catalogPromise: Promise<CatalogLike> | undefined;
  private ownCatalog: (CatalogLike & { close?: () => Promise<void> }) | undefined;
  private stagesPromise: Promise<Stages> | undefined;
  private sweepPromise: Promise<void> | undefined;
  private readonly background = new Set<Promise<unknown>>();
  private readonly inflight = new Map<string, SharedJob>();

  constructor(options: WorkerProvisionerOptions = {}) {
    this.options = options;
    this.home = resolvePath(options.home ?? defaultHome());
    this.layout = new WorkersHome(this.home);
    this.carch = options.carch ?? hostArch();
    this.platform = options.platform ?? hostPlatform();
    this.now = options.now ?? Date.now;
    const sb = options.sandbox;
    this.sandbox = sb === undefined || sb === true ? 'auto' : sb === false ? 'none' : sb;
  }

  /**
   * Install the worker `id` (`demo-worker-rbee`, `demo-worker-rbee-cpu`, `…@0.1.0`) from the
   * catalog, or return it at once when that version is already installed (unless `force`).
   * Concurrent calls for the same id in this process share one job.
   *
   * @throws {ProvisionError} with the code of what failed; an `AbortError` when cancelled.
   */
  async provision(id: string, opts: ProvisionOptions = {}): Promise<WorkerBinary> {
    const request: JobRequest = {
      kind: 'catalog',
      spec: id,
      backend: opts.backend ?? 'auto',
      fromSource: opts.fromSource ?? false,
      force: opts.force ?? false,
    };
    return (await this.join(request, opts)).worker;
  }

  /**
   * The same job as {@link provision}, as an async iterable of its events: ends after the
   * `done` or `error` event (it does not throw); breaking out of the loop cancels the job. The
   * job starts when iteration starts.
   *
   * @example
   * ```ts
   * for await (const e of provisioner.provisionEvents('demo-worker-rbee')) res.write(`id: ${e.seq}\ndata: ${JSON.stringify(e)}\n\n`)
   * ```
   */
  provisionEvents(id: string, opts: ProvisionOptions = {}): AsyncIterable<ProvisionEvent> {
    return eventsOf((o) => this.provision(id, o), opts);
  }

  /**
   * Build and install a worker from a local directory holding a `PKGBUILD` (and its local
   * files), like `makepkg -si`; no catalog involved. Capabilities default to none
   * (`[]`, `0`, `false`) unless given.
   */
  async installFromDirectory(dir: string, opts: InstallFromDirectoryOptions = {}): Promise<WorkerBinary> {
    const request: JobRequest = {
      kind: 'directory',
      dir: resolvePath(dir),
      backend: opts.backend ?? 'auto',
      force: opts.force ?? false,
      binaryName: opts.binaryName,
      capabilities: opts.capabilities,
    };
    return (await this.join(request, opts)).worker;
  }

  /** {@link installFromDirectory} as an async iterable of events (see {@link provisionEvents}). */
  installFromDirectoryEvents(dir: string, opts: InstallFromDirectoryOptions = {}): AsyncIterable<ProvisionEvent> {
    return eventsOf((o) => this.installFromDirectory(dir, o), opts);
  }

  /**
   * Whether `id` can be provisioned here: it is installed, or the catalog has a variant for
   * this platform and architecture. Never throws.
   */
  async supports(id: string): Promise<boolean> {
    if (await this.get(id).catch(() => undefined)) return true;
    try {
      const catalog = await this.catalog();
      await catalog.resolve(id, { platform: this.platform, arch: this.carch });
      return true;
    } catch {
      return false;
    }
  }

  /** Every installed version of every worker (never a half-installed one), sorted by id, newest first. */
  async list(): Promise<WorkerBinary[]> {
    await this.sweepOnce();
    const out: WorkerBinary[] = [];
    for (const name of await workerNames(this.layout)) {
      const current = await readCurrent(this.layout, name);
      for (const v of await installedVersions(this.layout, name)) out.push(await toWorkerBinary(v, current));
    }
    return out;
  }

  /**
   * The installed worker `id`: a package name (its `current` version), `name@version`, or the
   * catalog id it was installed from. Undefined when not installed.
   */
  async get(id: string): Promise<WorkerBinary | undefined> {
    const found = await this.findInstalled(id);
    if (!found) return undefined;
    return toWorkerBinary(found.version, found.current);
  }

  /**
   * Remove an installed worker: every version, or only `version` (full version or pkgver).
   * Returns what was removed.
   * @throws {ProvisionError} `E_NOT_INSTALLED`
   */
  async remove(id: string, opts: RemoveOptions = {}): Promise<WorkerBinary[]> {
    const spec = opts.version ? `${id.split('@')[0]}@${opts.version}` : id;
    const found = await this.findInstalled(spec);
    if (!found) {
      throw new ProvisionError('E_NOT_INSTALLED', `worker ${spec} is not installed in ${this.home}`, {
        hint: 'List the installed workers with list() / `rbee-worker list`.',
        workerId: id,
      });
    }
    const pkgname = found.version.pkgname;
    const lock = await acquireLock(this.layout.lockFile(pkgname), { timeoutMs: this.options.lockTimeoutMs ?? 600_000 });
    try {
      const versions = await installedVersions(this.layout, pkgname);
      const current = await readCurrent(this.layout, pkgname);
      if (opts.version || id.includes('@')) {
        const target = versions.find((v) => v.dirName === found.version.dirName);
        if (!target) return [];
        const removed = await toWorkerBinary(target, current);
        await removeVersionDir(this.layout, pkgname, target.dirName);
        await fixCurrent(this.layout, pkgname);
        return [removed];
      }
      const removed = await Promise.all(versions.map((v) => toWorkerBinary(v, current)));
      await removeWorkerDir(this.layout, pkgname);
      return removed;
    } finally {
      await lock.release();
    }
  }

  /**
   * Re-hash an installed worker's files against its manifest.
   * @throws {ProvisionError} `E_NOT_INSTALLED`
   */
  async verify(id: string): Promise<VerifyReport> {
    const found = await this.findInstalled(id);
    if (!found) {
      throw new ProvisionError('E_NOT_INSTALLED', `worker ${id} is not installed in ${this.home}`, {
        hint: 'List the installed workers with list() / `rbee-worker list`.',
        workerId: id,
      });
    }
    const r = await verifyTree(found.version.dir, found.version.manifest);
    return {
      id: found.version.pkgname,
      version: found.version.manifest.version,
      ok: r.changed.length === 0 && r.missing.length === 0 && r.extra.length === 0,
      ...r,
    };
  }

  /**
   * Finish background clean-up (a version replaced by a forced reinstall is deleted after the
   * answer) and release what the provisioner opened itself (the connection pool of a catalog
   * client it created from options or a URL). A catalog client passed in is left to its owner.
   */
  async close(): Promise<void> {
    await Promise.allSettled(this.background);
    const own = this.ownCatalog;
    this.ownCatalog = undefined;
    this.catalogPromise = undefined;
    await own?.close?.();
  }

  // ---------------------------------------------------------------------------------------
  // jobs

  private async join(request: JobRequest, opts: ProvisionOptions): Promise<JobResult> {
    const key = JSON.stringify(request);
    let job = this.inflight.get(key);
    if (!job) {
      const jobId = opts.jobId ?? newJobId();
      const shared = new SharedJob(new JobReporter(jobId, this.now));
      job = shared;
      this.inflight.set(key, shared);
      // runJob emits nothing before a microtask turn: the first caller's listener sees every event
      shared.promise = this.runJob(request, shared.reporter, shared.controller.signal);
      const attached = shared.attach(opts.onEvent, opts.signal);
      void shared.promise.then(
        () => this.inflight.delete(key),
        () => this.inflight.delete(key),
      );
      return attached;
    }
    return job.attach(opts.onEvent, opts.signal);
  }

  private async runJob(request: JobRequest, reporter: JobReporter, signal: AbortSignal): Promise<JobResult> {
    // let every caller of this tick attach before the first event
    await Promise.resolve();
    const t0 = this.now();
    const ctx: JobContext = { reporter, signal, dirs: undefined, buildStarted: false, phase: 'resolve' };
    try {
      if (!JOB_ID_RE.test(reporter.jobId)) {
        throw new ProvisionError('E_INVALID_OPTIONS', `job id ${JSON.stringify(reporter.jobId)} is not valid: use 1-64 of A-Z a-z 0-9 . _ -, not starting with a dot`);
      }
      const result = await this.execute(request, ctx);
      reporter.emit({
        type: 'done',
        worker: result.worker,
        durationMs: Math.max(0, this.now() - t0),
        ...(result.alreadyInstalled ? { alreadyInstalled: true } : {}),
      });
      return result;
    } catch (e) {
      if (isAbortError(e) || signal.aborted) {
        const err = isAbortError(e) ? (e as Error) : abortError(signal);
        reporter.failOpenPhases('cancelled');
        reporter.emit({ type: 'error', error: { code: 'ABORT_ERR', message: err.message } });
        throw err;
      }
      const err = await this.toProvisionError(e, ctx);
      reporter.failOpenPhases(err.message);
      reporter.emit({
        type: 'error',
        error: {
          code: err.code,
          message: err.message,
          ...(err.hint === undefined ? {} : { hint: err.hint }),
          ...(err.logFile === undefined ? {} : { logFile: err.logFile }),
          ...(err.logTail === undefined ? {} : { logTail: err.logTail }),
        },
      });
      throw err;
    }
  }

  /** Every failure leaves as a ProvisionError with the job's context; a composed package's error keeps its code and is the `cause`. */
  private async toProvisionError(e: unknown, ctx: JobContext): Promise<ProvisionError> {
    const own = ProvisionError.isInstance(e) ? e : undefined;
    const logFile = own?.logFile ?? (ctx.buildStarted && ctx.dirs ? ctx.dirs.logFile : undefined);
    const buildDir = own?.buildDir ?? (logFile ? ctx.dirs?.root : undefined);
    const code = codeOf(e);
    const ownTail = (e as { logTail?: unknown }).logTail;
    const logTail = Array.isArray(ownTail)
      ? ownTail.filter((l): l is string => typeof l === 'string')
      : logFile
        ? await readLogTail(logFile)
        : undefined;
    const workerId = own?.workerId ?? ctx.reporter.workerId;
    return new ProvisionError(code, messageOf(e), {
      cause: own ? own.cause : e,
      ...((own?.hint ?? hintFor(code, logFile, buildDir)) === undefined ? {} : { hint: own?.hint ?? hintFor(code, logFile, buildDir) }),
      phase: own?.phase ?? ctx.phase,
      jobId: ctx.reporter.jobId,
      ...(workerId === undefined ? {} : { workerId }),
      ...(logFile === undefined ? {} : { logFile }),
      ...(buildDir === undefined ? {} : { buildDir }),
      ...(logTail === undefined || logTail.length === 0 ? {} : { logTail }),
      ...(own?.details === undefined ? {} : { details: own.details }),
    });
  }

  private async execute(request: JobRequest, ctx: JobContext): Promise<JobResult> {
    const { reporter, signal } = ctx;
    await this.sweepOnce();
    throwIfAborted(signal);
    const stages = await this.stages();
    reporter.phaseStart('resolve');

    // 1. what to build: the catalog's variant and its PKGBUILD, or a local directory
    let resolved: ResolvedLike | undefined;
    let baseUrl: string | undefined;
    let text: string;
    let workerType: WorkerType;
    if (request.kind === 'catalog') {
      const catalog = await this.catalog();
      const picked = await this.resolveVariant(catalog, request, ctx);
      resolved = picked.resolved;
      workerType = picked.workerType;
      const pk = await catalog.getPkgbuild(resolved, { signal });
      text = pk.text;
      baseUrl = pk.baseUrl;
    } else {
      workerType = await this.pickBackend(request.backend);
      try {
        text = await readFile(join(request.dir, 'PKGBUILD'), 'utf8');
      } catch (e) {
        throw new ProvisionError('E_NO_PKGBUILD', `no readable PKGBUILD in ${request.dir}`, {
          cause: e,
          hint: 'Point installFromDirectory() / `rbee-worker build` at the directory that holds the PKGBUILD.',
        });
      }
    }
    throwIfAborted(signal);
    const pkgbuildSha256 = createHash('sha256').update(text).digest('hex');
    const parsed = stages.parsePkgbuild(text, { carch: this.carch, filename: 'PKGBUILD' });
    const pkgname = parsed.pkgbuild.pkgname[0];
    if (pkgname !== undefined && isSafePkgname(pkgname) && !parsed.pkgbuild.unknown.includes('pkgname')) {
      reporter.workerId = pkgname;
      const installed = await this.fastPath(pkgname, parsed.pkgbuild, workerType, request.force);
      if (installed) {
        reporter.phaseDone('resolve');
        return { worker: installed, alreadyInstalled: true };
      }
    }

    // 2. one install of this worker at a time (across processes too)
    if (pkgname !== undefined && isSafePkgname(pkgname)) {
      const lock = await this.lockWorker(pkgname, ctx);
      try {
        await repairWorker(this.layout, pkgname);
        const installed = await this.fastPath(pkgname, parsed.pkgbuild, workerType, request.force);
        if (installed) {
          reporter.phaseDone('resolve');
          return { worker: installed, alreadyInstalled: true };
        }
        return await this.build(request, ctx, stages, { text, parsed, pkgbuildSha256, resolved, baseUrl, workerType, lock });
      } finally {
        await lock.release();
      }
    }
    // pkgname is computed at run time: learn it from bash first, then lock
    return this.build(request, ctx, stages, { text, parsed, pkgbuildSha256, resolved, baseUrl, workerType, lock: undefined });
  }

  private async build(
    request: JobRequest,
    ctx: JobContext,
    stages: Stages,
    input: {
      text: string;
      parsed: ParseResultLike;
      pkgbuildSha256: string;
      resolved: ResolvedLike | undefined;
      baseUrl: string | undefined;
      workerType: WorkerType;
      lock: HeldLock | undefined;
    },
  ): Promise<JobResult> {
    const { reporter, signal } = ctx;
    const dirs = await createJobDirs(this.layout, reporter.jobId, {
      request: request.kind === 'catalog' ? request.spec : request.dir,
    });
    ctx.dirs = dirs;
    let lock = input.lock;
    let ok = false;
    try {
      const startdir = request.kind === 'directory' ? request.dir : dirs.startdir;
      const pkgbuildPath = join(startdir, 'PKGBUILD');
      if (request.kind === 'catalog') await writeFile(pkgbuildPath, input.text);

      // 3. what the PKGBUILD means: static parse, or bash (sandboxed) when it needs it
      let pkgbuild = input.parsed.pkgbuild;
      let parseResult = input.parsed;
      if (!input.parsed.isStatic) {
        const inspected = await stages.inspectPkgbuild(pkgbuildPath, {
          carch: this.carch,
          sandbox: this.sandbox,
          signal,
        });
        pkgbuild = inspected.pkgbuild;
        parseResult = { pkgbuild, diagnostics: inspected.diagnostics, isStatic: true };
        if (inspected.stdout.trim()) reporter.warn('W_PKGBUILD_OUTPUT', `the PKGBUILD's top level printed: ${inspected.stdout.trim().slice(0, 200)}`);
      }
      throwIfAborted(signal);
      const pkgname = pkgbuild.pkgname[0];
      if (pkgname === undefined || !isSafePkgname(pkgname)) {
        throw new ProvisionError('E_PKGBUILD_INVALID', `the PKGBUILD's pkgname ${JSON.stringify(pkgname ?? '')} is not a valid package name`, {
          details: { diagnostics: [] },
        });
      }
      reporter.workerId = pkgname;
      if (!lock) {
        lock = await this.lockWorker(pkgname, ctx);
        await repairWorker(this.layout, pkgname);
        const installed = await this.fastPath(pkgname, pkgbuild, input.workerType, request.force);
        if (installed) {
          reporter.phaseDone('resolve');
          ok = true;
          return { worker: installed, alreadyInstalled: true };
        }
      } else if (!input.parsed.isStatic) {
        const installed = await this.fastPath(pkgname, pkgbuild, input.workerType, request.force);
        if (installed) {
          reporter.phaseDone('resolve');
          ok = true;
          return { worker: installed, alreadyInstalled: true };
        }
      }

      // install/changelog files first, so the lint sees whether they exist
      const local = localFiles(pkgbuild, this.carch);
      if (request.kind === 'catalog' && input.baseUrl !== undefined) {
        for (const name of local.extras) {
          await this.downloadLocal(input.baseUrl, name, startdir, ctx, false).catch((e: unknown) => {
            if (isAbortError(e)) throw e;
          });
        }
      }
      this.checkArch(pkgbuild, pkgname);
      const diagnostics = stages
        .lintPkgbuild(parseResult, { carch: this.carch, fileExists: (name: string) => existsSync(join(startdir, name)) })
        .concat(input.parsed.isStatic ? input.parsed.diagnostics.filter((d) => d.severity === 'error') : []);
      const errors = diagnostics.filter((d: Diagnostic) => d.severity === 'error');
      for (const w of diagnostics.filter((d: Diagnostic) => d.severity === 'warning')) reporter.warn(w.code, `PKGBUILD:${w.range.start.line}: ${w.message}`);
      if (errors.length > 0) {
        const first = errors[0] as Diagnostic;
        throw new ProvisionError(
          'E_PKGBUILD_INVALID',
          `the PKGBUILD of ${pkgname} has ${errors.length} error${errors.length === 1 ? '' : 's'}: line ${first.range.start.line}: ${first.message} (${first.code})`,
          {
            hint: 'Fix the PKGBUILD (see details.diagnostics / `rbee-worker pkgbuild lint`), or report it to the worker\'s maintainer.',
            details: { diagnostics: errors },
          },
        );
      }
      reporter.phaseDone('resolve');

      // 4. sources: local files through the catalog, the rest through the shared cache
      ctx.phase = 'fetch';
      reporter.phaseStart('fetch');
      if (request.kind === 'catalog' && input.baseUrl !== undefined) {
        for (const name of local.sources) await this.downloadLocal(input.baseUrl, name, startdir, ctx, true);
      }
      // VCS sources are extracted with their download (a second pass would update the mirror again)
      const hasVcs = localFiles(pkgbuild, this.carch).remote.some((u) => /^(git|hg|svn|bzr|fossil)(\+|:)/.test(u));
      const common = { pkgbuild, carch: this.carch, startdir, srcdest: this.layout.sourcesDir, srcdir: dirs.srcdir, signal };
      const trusted = !hasVcs && local.sources.length === 0 && (await cacheVerified(this.layout.sourcesDir, pkgbuild, this.carch));
      let fetched: FetchResultLike[] = [];
      if (trusted) {
        reporter.phaseDone('fetch');
        reporter.phaseSkipped('verify', 'every source is in the cache, verified against these checksums before and unchanged since');
      } else {
        fetched = await stages.fetchSources({
          ...common,
          extract: hasVcs,
          onProgress: (p) => {
            if (local.sources.includes(p.label)) return; // reported while it came from the catalog
            if (p.phase === 'cached') reporter.progress('fetch', 'bytes', p.label, p.done, p.done);
            else reporter.progress('fetch', 'bytes', p.label, p.done, p.phase === 'done' ? p.done : p.total);
          },
        });
        reporter.phaseDone('fetch');
        ctx.phase = 'verify';
        reporter.phaseStart('verify');
        // the fetcher hashed every file while it streamed (or from the cache) and compared it
        const checked = fetched.filter((f) => Object.keys((f.checksums as Record<string, unknown> | undefined) ?? {}).length > 0).length;
        reporter.progress('verify', 'items', 'checksums', checked, checked);
        await recordVerified(this.layout.sourcesDir, fetched).catch(() => undefined);
        reporter.phaseDone('verify');
      }
      throwIfAborted(signal);
      // Output the build prints before its first function (the PKGBUILD's top level) waits here
      // while the extraction runs, so that events keep makepkg's order.
      let held: BuildLine[] | undefined;
      let extraction: Promise<void> | undefined;
      if (hasVcs) reporter.phaseSkipped('extract', 'VCS sources were checked out with their download');
      else if (!trusted && fetched.length === 0) reporter.phaseSkipped('extract', 'the PKGBUILD has no sources');
      else {
        ctx.phase = 'extract';
        reporter.phaseStart('extract');
        held = [];
        // everything is in the cache and verified now: link into srcdir and unpack, no transfer,
        // no re-hash. The build's sandbox starts meanwhile (below) and runs its first function
        // once this is done.
        extraction = stages.fetchSources({ ...common, verify: false, extract: true, ...(trusted ? { scans: trusted.scans } : {}) }).then((extracted) => {
          // the next install of these unchanged archives extracts them without checking again
          this.inBackground(recordScans(this.layout.sourcesDir, extracted));
          reporter.phaseDone('extract');
          ctx.buildStarted = true;
          const lines = held ?? [];
          held = undefined;
          for (const l of lines) onBuildLine(l);
        });
        // handled where the build's result is awaited; this keeps a failure before then from
        // counting as unhandled
        extraction.catch(() => undefined);
      }

      // 5. build: prepare → pkgver → build → check → package
      const present = functionNames(pkgbuild);
      if (!extraction) ctx.buildStarted = true;
      const skipCheck = this.options.skipCheck ?? false;
      // the executor runs every step in one bash session (pkgver() feeds the later ones) and says
      // when each function starts and returns; phases are reported in makepkg's order, with the
      // steps the PKGBUILD lacks reported as skipped where they would have run
      const steps = ['prepare', 'pkgver', 'build', 'check', 'package'] as const;
      const order: ProvisionPhase[] = steps.filter((f) => (f === 'package' || present.has(f)) && !(f === 'check' && skipCheck));
      const skipReason = (f: ProvisionPhase): string => (present.has(f) ? `${f}() skipped (skipCheck)` : `the PKGBUILD has no ${f}() function`);
      let pos = -1;
      let open = false;
      const advanceTo = (phase: ProvisionPhase): void => {
        const idx = (steps as readonly ProvisionPhase[]).indexOf(phase);
        if (idx <= pos) return;
        if (open) reporter.phaseDone(steps[pos] as ProvisionPhase);
        open = false;
        for (let i = pos + 1; i <= idx; i++) {
          const p = steps[i] as ProvisionPhase;
          if (!order.includes(p)) reporter.phaseSkipped(p, skipReason(p));
          else {
            reporter.phaseStart(p);
            if (i < idx) reporter.phaseDone(p);
            else open = true;
          }
        }
        pos = idx;
        ctx.phase = phase;
      };
      const closePhase = (phase: ProvisionPhase): void => {
        if (open && steps[pos] === phase && phase !== 'package') {
          reporter.phaseDone(phase);
          open = false;
        }
      };
      const onBuildLine = (l: BuildLine): void => {
        if (held) {
          held.push(l);
          return;
        }
        if (l.function === null || l.function === undefined) {
          reporter.emit({ type: 'log', phase: (steps[Math.max(pos, 0)] ?? 'prepare') as ProvisionPhase, stream: l.stream, line: l.line });
          return;
        }
        const phase = phaseOfFunction(l.function);
        advanceTo(phase);
        reporter.emit({ type: 'log', phase, stream: l.stream, line: l.line });
      };
      let run: Awaited<ReturnType<Stages['runPkgbuild']>>;
      try {
        run = await stages.runPkgbuild({
          pkgbuildPath,
          startdir,
          srcdir: dirs.srcdir,
          pkgdir: dirs.pkgdir,
          // only the steps the PKGBUILD defines: a prebuilt worker then costs one bash, not two
          functions: order as ('prepare' | 'pkgver' | 'build' | 'check' | 'package')[],
          skipCheck,
          ...(this.options.buildEnv ? { env: this.options.buildEnv } : {}),
          sandbox: this.sandbox,
          // srcdir holds symlinks into the shared download cache (as makepkg links SRCDEST files):
          // the sandboxed build must be able to read through them
          readablePaths: [this.layout.sourcesDir],
          ...(this.options.network === undefined ? {} : { network: this.options.network }),
          fakeroot: this.options.fakeroot ?? false,
          carch: this.carch,
          signal,
          logFile: dirs.logFile,
          onWarning: (message) => reporter.warn('W_BUILD', message),
          onFunction: (f) => {
            if (f.status === 'start') advanceTo(phaseOfFunction(f.function));
            // split packages run several package_*() functions: 'package' closes after the last
            else closePhase(phaseOfFunction(f.function));
          },
          onLine: onBuildLine,
          ...(extraction ? { startAfter: extraction } : {}),
        });
      } catch (e) {
        // the extraction failed (the build then never ran a function), or the build failed
        // before its gate: either way, nothing may still be writing into srcdir
        if (extraction) {
          const failed = await extraction.then(
            () => undefined,
            (x: unknown) => ({ x }),
          );
          if (failed) throw failed.x;
        }
        // a function that failed before printing anything still gets its phase marked failed
        const fn = (e as { function?: unknown }).function;
        if (!isAbortError(e) && typeof fn === 'string') advanceTo(phaseOfFunction(fn));
        throw e;
      }
      advanceTo('package');
      reporter.phaseDone('package');
      throwIfAborted(signal);

      // 6. install: find the executable, record, publish with one rename
      ctx.phase = 'install';
      reporter.phaseStart('install');
      const worker = await this.install(pkgbuild, run, dirs, ctx, {
        request,
        resolved: input.resolved,
        workerType: input.workerType,
        pkgbuildSha256: input.pkgbuildSha256,
      });
      reporter.phaseDone('install');
      ok = true;
      return { worker, alreadyInstalled: false };
    } catch (e) {
      if (isAbortError(e) || signal.aborted) {
        await discardBuildDir(dirs.root).catch(() => undefined);
      } else {
        await markFailed(dirs, { code: codeOf(e), message: messageOf(e) }).catch(() => undefined);
        void sweepBuilds(this.layout, this.retention()).catch(() => undefined);
      }
      throw e;
    } finally {
      // done: the build dir leaves builds/ now and is deleted after the answer
      if (ok) {
        const aside = await setBuildDirAside(dirs.root);
        this.inBackground(removeTree(aside));
      }
      if (lock && lock !== input.lock) await lock.release();
    }
  }

  private async install(
    pkgbuild: Pkgbuild,
    run: { pkgver: string; pkgrel?: string; epoch?: string; pkgdirs?: Record<string, string> },
    dirs: JobDirs,
    ctx: JobContext,
    info: { request: JobRequest; resolved: ResolvedLike | undefined; workerType: WorkerType; pkgbuildSha256: string },
  ): Promise<WorkerBinary> {
    const { signal } = ctx;
    const pkgname = pkgbuild.pkgname[0] as string;
    const pkgver = run.pkgver || scalar(pkgbuild, 'pkgver') || '0';
    const pkgrel = run.pkgrel || scalar(pkgbuild, 'pkgrel') || '1';
    const epoch = run.epoch || scalar(pkgbuild, 'epoch') || undefined;
    const version = fullVersion(pkgver, pkgrel, epoch);
    const dirName = versionDirName(version);
    // the executor installs each package into its own directory (`<pkgdir>/<pkgname>`); the
    // worker is the first package (split packages: the others are build by-products)
    const root = run.pkgdirs?.[pkgname] ?? (existsSync(join(dirs.pkgdir, pkgname)) ? join(dirs.pkgdir, pkgname) : dirs.pkgdir);
    const variant = info.resolved?.variant;
    const binaryName = info.request.kind === 'directory' ? info.request.binaryName : variant?.binaryName;
    const executable = await findExecutable(root, {
      binaryName,
      installPath: info.request.kind === 'catalog' ? variant?.installPath : undefined,
      pkgname,
    });
    if (!executable) {
      throw new ProvisionError(
        'E_NO_EXECUTABLE',
        binaryName
          ? `the package ${pkgname} contains no executable named ${binaryName}`
          : `the package ${pkgname} has no single executable in a bin directory`,
        { hint: 'The PKGBUILD\'s package() must install the worker binary (e.g. to $pkgdir/usr/bin/<name>) with mode 755.' },
      );
    }
    throwIfAborted(signal);
    await copyFile(dirs.logFile, join(root, BUILD_LOG_NAME)).catch(() => writeFile(join(root, BUILD_LOG_NAME), ''));
    await makeReadOnly(root);
    const files = await hashTree(root);
    throwIfAborted(signal);
    const worker = info.resolved?.worker;
    const caps = worker?.capabilities;
    const given = info.request.kind === 'directory' ? info.request.capabilities : undefined;
    const capabilities: ManifestCapabilities = {
      supportedArchitectures: [...(given?.supportedArchitectures ?? caps?.supportedArchitectures ?? [])],
      supportedFormats: [...(given?.supportedFormats ?? caps?.supportedFormats ?? [])],
      maxContextLength: given?.maxContextLength ?? caps?.maxContextLength ?? 0,
      supportsStreaming: given?.supportsStreaming ?? caps?.supportsStreaming ?? false,
      supportsBatching: given?.supportsBatching ?? caps?.supportsBatching ?? false,
    };
    const finalDir = this.layout.versionDir(pkgname, version);
    const declared = declaredVersion(pkgbuild);
    const manifest: WorkerManifest & { declaredVersion?: string } = {
      schema: 1,
      pkgname,
      pkgbase: pkgbuild.pkgbase,
      version,
      ...(declared === undefined ? {} : { declaredVersion: declared }),
      pkgver,
      pkgrel,
      ...(epoch === undefined ? {} : { epoch }),
      workerType: info.workerType,
      platform: this.platform,
      arch: this.carch,
      executable,
      capabilities,
      ...(info.request.kind === 'catalog' ? { catalogId: worker?.id ?? info.request.spec.split('@')[0] } : {}),
      ...(worker === undefined ? {} : { catalogEntry: worker }),
      ...(variant === undefined ? {} : { variant }),
      origin:
        info.request.kind === 'catalog'
          ? { kind: 'catalog', ...(typeof info.resolved?.pkgbuildUrl === 'string' ? { url: info.resolved.pkgbuildUrl } : {}) }
          : { kind: 'directory', path: info.request.dir },
      pkgbuildSha256: info.pkgbuildSha256,
      buildLog: join(finalDir, BUILD_LOG_NAME),
      jobId: ctx.reporter.jobId,
      installedAt: new Date(this.now()).toISOString(),
      size: files.reduce((n, f) => n + f.size, 0),
      files,
    };
    await writeFileAtomic(join(root, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`, 0o444);
    // last point where cancelling leaves the previous state: after the rename the new version is live
    throwIfAborted(signal);
    // a forced reinstall replaces the same version: the old copy is deleted after the answer
    await publishVersion(this.layout, pkgname, dirName, root, ctx.reporter.jobId, {
      disposeReplaced: (path) => this.inBackground(removeTree(path)),
    });
    const installed = (await installedVersions(this.layout, pkgname)).find((v) => v.dirName === dirName);
    if (!installed) throw new ProvisionError('E_INSTALL_FAILED', `${finalDir} vanished right after it was published`);
    return toWorkerBinary(installed, dirName);
  }

  // ---------------------------------------------------------------------------------------
  // helpers

  /** Clean-up that need not delay an answer; {@link close} waits for it. */
  private inBackground(work: Promise<unknown>): void {
    const p = work.catch(() => undefined).finally(() => this.background.delete(p));
    this.background.add(p);
  }

  private retention(): { keepFailed?: number; maxFailedAgeMs?: number } {
    return {
      ...(this.options.keepFailedBuilds === undefined ? {} : { keepFailed: this.options.keepFailedBuilds }),
      ...(this.options.maxFailedBuildAgeMs === undefined ? {} : { maxFailedAgeMs: this.options.maxFailedBuildAgeMs }),
    };
  }

  /** Once per instance: recover from crashes (stale build dirs, interrupted publishes/removes). */
  private sweepOnce(): Promise<void> {
    this.sweepPromise ??= (async () => {
      await sweepBuilds(this.layout, this.retention());
      await sweepWorkersRoot(this.layout);
      for (const name of await workerNames(this.layout)) {
        if (!isSafePkgname(name)) continue;
        const lock = await tryAcquireLock(this.layout.lockFile(name));
        if (!lock) continue;
        try {
          await repairWorker(this.layout, name);
        } finally {
          await lock.release();
        }
      }
    })().catch(() => undefined);
    return this.sweepPromise;
  }

  private stages(): Promise<Stages> {
    this.stagesPromise ??= loadStages().then((s) => ({ ...s, ...this.options.stages }));
    return this.stagesPromise;
  }

  private catalog(): Promise<CatalogLike> {
    this.catalogPromise ??= (async () => {
      const c = this.options.catalog ?? process.env.WORKER_CATALOG_URL;
      if (c === undefined || c === '') {
        throw new ProvisionError('E_NO_CATALOG', 'no worker catalog configured', {
          hint: 'Pass { catalog: URL or directory } to new WorkerProvisioner(), or set WORKER_CATALOG_URL.',
        });
      }
      if (typeof c === 'object' && typeof (c as CatalogLike).resolve === 'function') return c as CatalogLike;
      const mod = (await import('@rbee/catalog-client')) as unknown as {
        CatalogClient: new (o: CatalogClientOptionsLike) => CatalogLike;
      };
      const client = new mod.CatalogClient(typeof c === 'string' ? { url: c } : (c as CatalogClientOptionsLike));
      this.ownCatalog = client;
      return client;
    })();
    this.catalogPromise.catch(() => {
      this.catalogPromise = undefined;
    });
    return this.catalogPromise;
  }

  private async pickBackend(backend: WorkerType | 'auto'): Promise<WorkerType> {
    if (backend !== 'auto') return backend;
    if (this.options.detectBackend) return this.options.detectBackend();
    return detectBackend({ platform: this.platform, arch: this.carch });
  }

  /**
   * Pick the variant: an explicit backend (option or `-<backend>` spec suffix) is honoured as
   * asked; `auto` takes the detected backend's variant, else the cpu one (a GPU machine runs cpu
   * workers too), else fails with `E_PLATFORM_INCOMPATIBLE` naming what the worker supports.
   */
  private async resolveVariant(
    catalog: CatalogLike,
    request: Extract<JobRequest, { kind: 'catalog' }>,
    ctx: JobContext,
  ): Promise<{ resolved: ResolvedLike; workerType: WorkerType }> {
    const auto = request.backend === 'auto';
    const detected = await this.pickBackend(request.backend);
    const flavor = request.fromSource ? 'git' : undefined;
    const attempt = async (backend: WorkerType | undefined): Promise<ResolvedLike> => {
      try {
        return await catalog.resolve(request.spec, {
          platform: this.platform,
          arch: this.carch,
          ...(backend === undefined ? {} : { backend }),
          ...(flavor ? { flavor } : {}),
          signal: ctx.signal,
        });
      } catch (e) {
        throw codeOf(e) === 'E_NO_COMPATIBLE_VARIANT' ? this.incompatible(request, e, detected) : e;
      }
    };
    let resolved: ResolvedLike;
    if (!auto) resolved = await attempt(detected);
    else {
      resolved = await attempt(undefined);
      const specId = request.spec.split('@')[0];
      const explicit = resolved.worker.id !== specId; // `<id>-<backend>` named the backend
      if (!explicit && resolved.variant.backend !== detected) {
        const candidates: WorkerType[] = detected === 'cpu' ? ['cpu'] : [detected, 'cpu'];
        const offered = new Set((resolved.worker.variants ?? []).map((v) => v.backend));
        const choice = candidates.find((c) => offered.has(c));
        if (choice === undefined) throw this.incompatible(request, { available: resolved.worker.variants ?? [] }, detected);
        try {
          resolved = await attempt(choice);
        } catch (e) {
          if (ProvisionError.isInstance(e) && choice !== 'cpu' && offered.has('cpu')) resolved = await attempt('cpu');
          else throw e;
        }
        if (resolved.variant.backend !== detected) {
          ctx.reporter.warn(
            'W_BACKEND_FALLBACK',
            `${request.spec} has no ${detected} variant for ${this.platform}/${this.carch}: installing its ${resolved.variant.backend} variant`,
          );
        }
      }
    }
    const v = resolved.variant;
    if (!v.platforms.includes(this.platform) || !v.architectures.includes(this.carch)) {
      throw new ProvisionError(
        'E_PLATFORM_INCOMPATIBLE',
        `${request.spec} (${v.backend}) supports ${v.platforms.join(', ')} on ${v.architectures.join(', ')}; this machine is ${this.platform}/${this.carch}`,
        { hint: 'Install it on a machine it supports, or pick another worker.', details: { supports: [v], machine: this.machine() } },
      );
    }
    const workerType = ['cpu', 'cuda', 'metal', 'rocm'].includes(v.backend) ? (v.backend as WorkerType) : detected;
    return { resolved, workerType };
  }

  private machine(): { platform: WorkerPlatform; arch: string } {
    return { platform: this.platform, arch: this.carch };
  }

  private incompatible(request: Extract<JobRequest, { kind: 'catalog' }>, e: unknown, backend: WorkerType): unknown {
    const available = (e as { available?: unknown }).available;
    const list = Array.isArray(available) ? (available as CatalogVariantLike[]) : [];
    const fitsMachine = (v: CatalogVariantLike): boolean =>
      Array.isArray(v.platforms) && v.platforms.includes(this.platform) && Array.isArray(v.architectures) && v.architectures.includes(this.carch);
    const usable = (v: CatalogVariantLike): boolean => v.backend === backend || v.backend === 'cpu';
    // the machine would do, only the flavor (from source) or the version is missing: keep the catalog's error
    if (list.some((v) => fitsMachine(v) && usable(v)) && (e as { code?: unknown }).code !== undefined) return e;
    const offers = list.length
      ? list.map((v) => `${v.backend} on ${(v.platforms ?? []).join('/')} ${(v.architectures ?? []).join('/')}`).join('; ')
      : 'nothing';
    return new ProvisionError(
      'E_PLATFORM_INCOMPATIBLE',
      `${request.spec} cannot run on this machine (${this.platform}/${this.carch}, backend ${backend}): it supports ${offers}`,
      {
        cause: e,
        hint: request.backend === 'auto' ? 'Install it on a machine it supports, or pick another worker.' : 'Try another backend (or auto), or another machine.',
        details: { supports: list, machine: { ...this.machine(), backend } },
      },
    );
  }

  private checkArch(pkgbuild: Pkgbuild, pkgname: string): void {
    const arch = arrayVar(pkgbuild, 'arch');
    if (arch.length === 0 || arch.includes('any') || arch.includes(this.carch)) return;
    throw new ProvisionError(
      'E_PLATFORM_INCOMPATIBLE',
      `${pkgname} is not available for ${this.carch}: its PKGBUILD supports ${arch.join(', ')} (this machine is ${this.platform}/${this.carch})`,
      { hint: 'Install it on a machine it supports, or pick another worker.', details: { supports: arch, machine: this.machine() } },
    );
  }

  private async fastPath(pkgname: string, pkgbuild: Pkgbuild, workerType: WorkerType, force: boolean): Promise<WorkerBinary | undefined> {
    if (force) return undefined;
    const declared = declaredVersion(pkgbuild);
    if (declared === undefined) return undefined;
    const versions = await installedVersions(this.layout, pkgname);
    const match = versions.find(
      (v) => ((v.manifest as { declaredVersion?: string }).declaredVersion ?? v.manifest.version) === declared && v.manifest.workerType === workerType,
    );
    if (!match) return undefined;
    const current = await readCurrent(this.layout, pkgname);
    const worker = await toWorkerBinary(match, current);
    return worker.status === 'installed' ? worker : undefined;
  }

  private lockWorker(pkgname: string, ctx: JobContext): Promise<HeldLock> {
    return acquireLock(this.layout.lockFile(pkgname), {
      signal: ctx.signal,
      timeoutMs: this.options.lockTimeoutMs ?? 600_000,
      info: { jobId: ctx.reporter.jobId },
      onWait: (owner) => ctx.reporter.warn('W_WAITING_FOR_LOCK', `another install of ${pkgname} is running (pid ${owner.pid}); waiting for it`),
    }).then((lock) => {
      if (lock.recoveredStale) {
        ctx.reporter.warn('W_STALE_LOCK', `recovered the lock of ${pkgname} left by process ${lock.recoveredStale.pid}, which is gone`);
      }
      return lock;
    });
  }

  private async downloadLocal(baseUrl: string, name: string, startdir: string, ctx: JobContext, report: boolean): Promise<void> {
    const catalog = await this.catalog();
    const target = join(startdir, name);
    const existing = await lstat(target).catch(() => undefined);
    if (existing) return;
    const body = await catalog.getFile(baseUrl, name, { signal: ctx.signal });
    const stream = await toReadable(body);
    let done = 0;
    if (report) {
      stream.on('data', (chunk: Buffer) => {
        done += chunk.length;
        ctx.reporter.progress('fetch', 'bytes', name, done);
      });
    }
    const part = `${target}.part`;
    await pipeline(stream, createWriteStream(part), { signal: ctx.signal });
    await import('node:fs/promises').then((fs) => fs.rename(part, target));
    if (report) ctx.reporter.progress('fetch', 'bytes', name, done, done);
  }

  private async findInstalled(spec: string): Promise<{ version: InstalledVersion; current: string | undefined } | undefined> {
    const at = spec.indexOf('@');
    const id = at >= 0 ? spec.slice(0, at) : spec;
    const version = at >= 0 ? spec.slice(at + 1) : undefined;
    const pick = async (pkgname: string): Promise<{ version: InstalledVersion; current: string | undefined } | undefined> => {
      const versions = await installedVersions(this.layout, pkgname);
      const current = await readCurrent(this.layout, pkgname);
      const v = version
        ? versions.find((x) => x.manifest.version === version || x.manifest.pkgver === version || x.dirName === version)
        : (versions.find((x) => x.dirName === current) ?? versions[0]);
      return v ? { version: v, current } : undefined;
    };
    if (isSafePkgname(id)) {
      const direct = await pick(id);
      if (direct) return direct;
    }
    for (const name of await workerNames(this.layout)) {
      const versions = await installedVersions(this.layout, name);
      if (versions.some((v) => v.manifest.catalogId === id)) {
        const r = await pick(name);
        if (r && r.version.manifest.catalogId === id) return r;
      }
    }
    return undefined;
  }
}

interface JobContext {
  reporter: JobReporter;
  signal: AbortSignal;
  dirs: JobDirs | undefined;
  buildStarted: boolean;
  phase: ProvisionPhase;
}

export type { CatalogWorkerLike };
