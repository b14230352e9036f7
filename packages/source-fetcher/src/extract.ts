/**
 * Extraction into `srcdir` as makepkg does it (`bsdtar -xf` for tar/zip/cpio, a decompressor for
 * single compressed files), staged in a private directory so a failure leaves nothing behind,
 * with every member checked before anything reaches `srcdir`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, createReadStream, createWriteStream, statSync } from 'node:fs';
import { chmod, link, lstat, mkdir, mkdtemp, readdir, rename, rm, rmdir, stat, symlink, utimes } from 'node:fs/promises';
import { basename, delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Parser, type ReadEntry } from 'tar';
import { decompressStream, detectArchive, type Compression, type DetectedType } from './archive-detect.js';
import { FetchError, abortError, isAbortError, throwIfAborted } from './errors.js';
import { closeFd, NoPipeline, reservePump, startBsdtarPipeline, type BsdtarPipeline, type ChildEnd, type PumpOutcome } from './extract-pump.js';
import { limitRefusal, MemberChecker, prefixHeader, TarHeaderWalker, TarRefusal, type CheckLimits, type Refusal, type TarHeaderInfo } from './tar-headers.js';

/** Caps for untrusted archives. */
export interface ExtractLimits {
  /** Largest total of member sizes (or decompressed size). @default 68719476736 (64 GiB) */
  maxBytes?: number;
  /**
   * Largest ratio of expanded bytes to archive bytes; only enforced once the expansion passes
   * {@link RATIO_FLOOR} bytes, so small archives of repetitive text are not refused. @default 1000
   */
  maxRatio?: number;
  /** Most members in one archive. @default 2000000 */
  maxEntries?: number;
}

/** Expanded size below which `maxRatio` is not enforced (64 MiB). */
export const RATIO_FLOOR = 64 * 1024 * 1024;

/** Which extractor to use. */
export type ExtractorChoice = 'auto' | 'bsdtar' | 'node-tar';

/** Options of {@link extractArchive}. */
export interface ExtractOptions {
  /** The archive (or compressed file). */
  file: string;
  /** Directory to extract into (`srcdir`). Created when missing. */
  dest: string;
  /** Name used for a decompressed single file (`name` minus its extension). @default basename(file) */
  name?: string;
  /** Cancels extraction; nothing is left in `dest`. */
  signal?: AbortSignal;
  /** Expansion caps; see {@link ExtractLimits}. */
  limits?: ExtractLimits;
  /**
   * `auto`: bsdtar when installed (makepkg's tool), else the node-tar fallback. `node-tar` forces
   * the fallback (for tests, or where spawning is not wanted). @default 'auto'
   */
  extractor?: ExtractorChoice;
  /**
   * bsdtar only. `stream`: the archive is decompressed once (`bsdtar -cf - @archive`) and a
   * worker thread checks each member header before writing its bytes on to `bsdtar -xf -` — an
   * unsafe member is never written, even into the staging directory, and a bomb is stopped at its
   * header. The three stages run as a pipeline (1 MiB pipes) and overlap on two cores.
   * `parallel`: bsdtar extracts the archive itself into the private staging directory while the
   * worker checks the lister's stream; bsdtar's secure defaults keep everything inside staging and
   * nothing reaches `dest` unless every member passed, but a refused member may already have been
   * written into staging, and it costs a second decompression. @default 'stream'
   */
  check?: 'stream' | 'parallel';
  /**
   * bsdtar only: what an earlier extraction of this very file reported as
   * {@link ExtractResult.scan}, for a caller that knows the file is unchanged since (its checksums
   * verified, say, and its identity kept with them). Every member passed the checks then and they
   * depend on nothing but the bytes, so bsdtar extracts the file directly (its secure defaults
   * on) without the checking pass; the caps are applied to the recorded totals. A scan of another
   * {@link SCAN_VERSION} is ignored (the archive is checked again).
   */
  scanned?: ArchiveScan;
}

/** Bumped whenever the member checks change, so older {@link ArchiveScan}s are not trusted. */
export const SCAN_VERSION = 1;

/** The outcome of checking every member of an archive (see {@link ExtractOptions.scanned}). */
export interface ArchiveScan {
  /** {@link SCAN_VERSION} of the checks that passed. */
  version: number;
  /** Members. */
  entries: number;
  /** Bytes of member data. */
  bytes: number;
}

/** What {@link extractArchive} did. */
export interface ExtractResult {
  /** False when the file is not an archive (or a compressed file without the matching extension), as makepkg. */
  extracted: boolean;
  /** Detected content type. */
  type: DetectedType;
  /** The tool that extracted. */
  extractor?: 'bsdtar' | 'node-tar' | 'decompress';
  /** Members extracted (1 for a single decompressed file). */
  entries: number;
  /** Bytes of member data (or decompressed bytes). */
  bytes: number;
  /** Top-level names created or replaced in `dest`. */
  outputs: string[];
  /** With bsdtar: every member passed the checks; keep it to pass as `scanned` next time. */
  scan?: ArchiveScan;
}

let bsdtarLookup: { path: string | undefined; found: boolean } | undefined;

/**
 * True when an executable `bsdtar` (libarchive-tools) is on PATH. A lookup, not a spawn: running
 * `bsdtar --version` blocked the event loop for 20–30 ms on first use. Answered again when PATH
 * changes.
 */
export function hasBsdtar(): boolean {
  const path = process.env.PATH;
  if (bsdtarLookup === undefined || bsdtarLookup.path !== path) {
    let found = false;
    for (const dir of (path ?? '').split(delimiter)) {
      if (dir === '' || !isAbsolute(dir)) continue;
      try {
        const file = join(dir, 'bsdtar');
        accessSync(file, constants.X_OK);
        if (statSync(file).isFile()) {
          found = true;
          break;
        }
      } catch {
        // not here
      }
    }
    bsdtarLookup = { path, found };
    return found;
  }
  return bsdtarLookup.found;
}

interface ScanState {
  entries: number;
  bytes: number;
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

function components(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

function refusalError(file: string, r: Refusal): FetchError {
  const d: ConstructorParameters<typeof FetchError>[2] = { path: file };
  if (r.entry !== undefined) d.entry = r.entry;
  if (r.expected !== undefined) d.expected = r.expected;
  if (r.actual !== undefined) d.actual = r.actual;
  return new FetchError(r.code, r.message, d);
}

function checkLimits(limits: Required<ExtractLimits>): CheckLimits {
  return { ...limits, ratioFloor: RATIO_FLOOR };
}

function corrupt(file: string, detail: string, cause?: unknown, stderr?: string): FetchError {
  const d: ConstructorParameters<typeof FetchError>[2] = { path: file, cause };
  if (stderr !== undefined) d.stderr = stderr;
  return new FetchError('E_EXTRACT_FAILED', `Failed to extract ${basename(file)}: ${detail}. The archive is corrupt or truncated; delete it from srcdest to download it again`, d);
}

/**
 * Runs node-tar's parser over a plain tar stream, calling `onEntry` for each member in order,
 * one at a time. Rejects on a malformed or truncated stream.
 */
function parseTar(input: Readable, file: string, onEntry: (e: ReadEntry) => Promise<void> | void): Promise<void> {
  return new Promise<void>((resolvePromise, reject) => {
    let chain: Promise<void> = Promise.resolve();
    let failed = false;
    const fail = (e: unknown): void => {
      if (failed) return;
      failed = true;
      input.destroy();
      parser.removeAllListeners('entry');
      reject(e);
    };
    const parser = new Parser({
      strict: true,
      maxDecompressionRatio: Number.POSITIVE_INFINITY,
    });
    parser.on('entry', (entry: ReadEntry) => {
      chain = chain.then(async () => {
        if (failed) {
          entry.resume();
          return;
        }
        await onEntry(entry);
      });
      chain.catch(fail);
    });
    parser.on('error', (e: unknown) => fail(FetchError.isInstance(e) ? e : corrupt(file, (e as Error).message, e)));
    parser.on('warn', (_code: string, message: string) => fail(corrupt(file, message)));
    input.on('error', (e) => fail(isAbortError(e) ? e : corrupt(file, e.message, e)));
    parser.on('close', () => {
      chain.then(() => {
        if (!failed) resolvePromise();
      }, fail);
    });
    input.pipe(parser as unknown as NodeJS.WritableStream);
  });
}

async function moveInto(src: string, dst: string): Promise<void> {
  const d = await lstat(dst).catch(() => undefined);
  if (!d) {
    await rename(src, dst);
    return;
  }
  const s = await lstat(src);
  if (d.isDirectory() && s.isDirectory()) {
    for (const name of await readdir(src)) await moveInto(join(src, name), join(dst, name));
    await rmdir(src).catch(() => undefined);
    return;
  }
  // Replace (never follow) whatever is there, as bsdtar replaces files and symlinks.
  await rm(dst, { recursive: true, force: true });
  await rename(src, dst);
}

async function publish(stage: string, dest: string): Promise<string[]> {
  const names = await readdir(stage);
  for (const n of names) await moveInto(join(stage, n), join(dest, n));
  return names;
}

function killer(children: Set<ChildProcess>): () => void {
  return () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
}

function waitChild(child: ChildProcess, what: string, file: string): Promise<string> {
  return new Promise((res, rej) => {
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on('error', (e) => rej(corrupt(file, `${what} could not run: ${e.message}`, e)));
    child.on('close', (code, sig) => {
      if (code === 0) res(stderr);
      else rej(exitFailure(file, what, code ?? String(sig), stderr));
    });
  });
}

/** The error for a tool that exited with `how` (a code or a signal), with its stderr's last lines. */
function exitFailure(file: string, what: string, how: number | string, stderr: string): FetchError {
  return corrupt(file, `${what} exited with ${how}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`, undefined, stderr);
}

/** The error for a bsdtar of the pipeline that did not exit 0. */
function childFailure(file: string, what: string, end: ChildEnd): FetchError {
  return exitFailure(file, what, end.code ?? `signal ${end.signal}`, end.stderr);
}

/**
 * One decompression, checked before anything is written: `bsdtar -cf - -P --format pax @archive`
 * turns any format (tar in any compression, zip, cpio) into a plain pax stream, which a worker
 * thread reads from a pipe; each member's header is checked there and only then are its bytes
 * written on to `bsdtar -xf - -C <stage>` through a second pipe (see extract-pump.ts). An unsafe
 * member never reaches the extractor, and a bomb is stopped at its header. With
 * `check: 'parallel'` the extractor reads the archive itself and the worker only checks.
 */
async function withBsdtar(file: string, stage: string, archiveSize: number, limits: Required<ExtractLimits>, check: 'stream' | 'parallel', signal?: AbortSignal): Promise<ScanState> {
  // the worker thread boots (if the pool has none) while perl and the bsdtars start
  const pump = reservePump();
  let pl: BsdtarPipeline;
  try {
    pl = await startBsdtarPipeline(file, stage, check === 'stream');
  } catch (e) {
    pump.release();
    // No supervisor here (no perl, no /proc): the inline check does the same job.
    if (e instanceof NoPipeline) return withBsdtarInline(file, stage, archiveSize, limits, signal);
    throw e;
  }
  let { pumpIn, pumpOut } = pl;
  const closePipes = (): void => {
    closeFd(pumpIn);
    closeFd(pumpOut);
    pumpIn = -1;
    pumpOut = -1;
  };
  signal?.addEventListener('abort', pl.kill, { once: true });
  try {
    throwIfAborted(signal);
    let outcome: PumpOutcome;
    try {
      outcome = await pump.run({ inFd: pumpIn, outFd: pumpOut, label: basename(file), archiveSize, limits: checkLimits(limits) });
    } finally {
      // Only now, with the worker done with them; closing the write end is the extractor's EOF.
      closePipes();
    }
    throwIfAborted(signal);
    if (!outcome.ok && 'refusal' in outcome) throw refusalError(file, outcome.refusal);
    const { lister, extractor } = await pl.ended;
    throwIfAborted(signal);
    if (outcome.ok) {
      if (lister.code !== 0) throw childFailure(file, 'bsdtar (reading the archive)', lister);
      if (extractor.code !== 0) throw childFailure(file, 'bsdtar', extractor);
      return outcome.result;
    }
    // EPIPE: the extractor stopped reading; its own message says why.
    if ('io' in outcome) throw extractor.code === 0 ? corrupt(file, outcome.io) : childFailure(file, 'bsdtar', extractor);
    // A malformed stream: the lister's own error (a truncated or corrupt archive) explains it best.
    if (lister.code !== 0) throw childFailure(file, 'bsdtar (reading the archive)', lister);
    throw corrupt(file, outcome.format);
  } finally {
    pump.release(); // when aborted before the pump ran
    signal?.removeEventListener('abort', pl.kill);
    closePipes();
    pl.kill();
    await pl.ended;
  }
}

/** `bsdtar -xf <file> -C <stage>` alone: an archive whose members were all checked before. */
async function withBsdtarDirect(file: string, stage: string, signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  const args = ['-xf', file, '-C', stage];
  if (process.getuid?.() === 0) args.push('--no-same-owner');
  const child = spawn('bsdtar', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const kill = killer(new Set([child]));
  signal?.addEventListener('abort', kill, { once: true });
  try {
    await waitChild(child, 'bsdtar', file);
  } finally {
    signal?.removeEventListener('abort', kill);
  }
}

/**
 * Tuning of the checked bsdtar pipeline (internal; tests move the threshold to cover both paths).
 * Archives below `inlineBelow` bytes are checked on the main thread over ordinary child pipes:
 * the supervised pipeline costs a process spawn and a worker round trip up front that only pays
 * off on larger archives.
 */
export const pipelineTuning = { inlineBelow: 8 * 1024 * 1024 };

/**
 * The same check as {@link withBsdtar}'s `stream` mode for small archives: the lister's stdout is
 * walked on the main thread and the accepted bytes are written to the extractor's stdin.
 */
function withBsdtarInline(file: string, stage: string, archiveSize: number, limits: Required<ExtractLimits>, signal?: AbortSignal): Promise<ScanState> {
  return new Promise<ScanState>((resolvePromise, reject) => {
    const children = new Set<ChildProcess>();
    const killAll = killer(children);
    // -P so the stream shows names exactly as stored (bsdtar would otherwise drop '..' members and strip '/').
    const lister = spawn('bsdtar', ['-cf', '-', '-P', '--format', 'pax', `@${file}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const args = ['-xf', '-', '-C', stage];
    if (process.getuid?.() === 0) args.push('--no-same-owner');
    const extractor = spawn('bsdtar', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    children.add(lister);
    children.add(extractor);
    let settled = false;
    const finish = (e: unknown, value?: ScanState): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      killAll();
      if (e === undefined) resolvePromise(value as ScanState);
      else reject(e);
    };
    const onAbort = (): void => finish(abortError(signal));
    signal?.addEventListener('abort', onAbort, { once: true });
    const listerDone = waitChild(lister, 'bsdtar (reading the archive)', file);
    const extractDone = waitChild(extractor, 'bsdtar', file);
    listerDone.catch(() => undefined);
    extractDone.catch(() => undefined);
    const stdin = extractor.stdin as NonNullable<typeof extractor.stdin>;
    stdin.on('error', () => undefined); // EPIPE when the extractor failed; its exit status tells
    const out = lister.stdout as NonNullable<typeof lister.stdout>;
    const checker = new MemberChecker(basename(file), archiveSize, checkLimits(limits));
    let waiting = false;
    const walker = new TarHeaderWalker(
      (m) => checker.check(m),
      (b) => {
        if (!stdin.write(b) && !waiting) {
          waiting = true;
          out.pause();
          stdin.once('drain', () => {
            waiting = false;
            out.resume();
          });
        }
      },
    );
    stdin.write(prefixHeader());
    let failed = false;
    const fail = (e: unknown): void => {
      failed = true;
      out.destroy();
      if (e instanceof TarRefusal) {
        finish(refusalError(file, e.refusal));
        return;
      }
      // A malformed stream: the lister's own error (a truncated or corrupt archive) explains it best.
      killAll();
      listerDone.then(
        () => finish(corrupt(file, (e as Error).message, e)),
        (le: unknown) => finish(le),
      );
    };
    out.on('data', (chunk: Buffer) => {
      if (failed || walker.ended) return;
      try {
        walker.write(chunk);
      } catch (e) {
        fail(e);
        return;
      }
      if (walker.ended) stdin.end();
    });
    out.on('end', () => {
      if (failed) return;
      listerDone.then(
        () => {
          try {
            walker.end();
          } catch (e) {
            fail(e);
            return;
          }
          stdin.end();
          extractDone.then(() => finish(undefined, { entries: checker.entries, bytes: checker.bytes }), finish);
        },
        (e: unknown) => finish(e),
      );
    });
  });
}

function tarStream(file: string, compression: Compression | undefined, kills: (() => void)[]): Readable {
  const raw = createReadStream(file, { highWaterMark: 1024 * 1024 });
  if (!compression) return raw;
  return decompressStream(file, compression, raw, (k) => kills.push(k));
}

async function withNodeTar(file: string, type: DetectedType, stage: string, archiveSize: number, limits: Required<ExtractLimits>, signal?: AbortSignal): Promise<ScanState> {
  if (type.kind !== 'tar') {
    throw new FetchError('E_EXTRACT_FAILED', `Cannot extract ${basename(file)}: ${type.kind} archives need bsdtar (install libarchive-tools); the node-tar fallback reads tar only`, { path: file });
  }
  const kills: (() => void)[] = [];
  try {
    return await nodeTarPasses(file, type, stage, archiveSize, limits, kills, signal);
  } finally {
    for (const k of kills) k();
  }
}

async function nodeTarPasses(file: string, type: DetectedType, stage: string, archiveSize: number, limits: Required<ExtractLimits>, kills: (() => void)[], signal?: AbortSignal): Promise<ScanState> {
  const checker = new MemberChecker(basename(file), archiveSize, checkLimits(limits));
  // Pass 1: check every member before anything is written.
  throwIfAborted(signal);
  await parseTar(tarStream(file, type.compression, kills), file, (e) => {
    throwIfAborted(signal);
    try {
      const m: TarHeaderInfo = { type: e.type, path: e.path, size: FILE_TYPES.has(e.type) ? e.size : 0 };
      if (e.linkpath) m.linkpath = e.linkpath;
      checker.check(m);
    } catch (err) {
      throw err instanceof TarRefusal ? refusalError(file, err.refusal) : err;
    }
    e.resume();
  });
  // Pass 2: write each member ourselves, keeping symlink targets verbatim (node-tar's own
  // Unpack would rewrite absolute targets and skip symlink chains).
  const dirModes: { path: string; mode: number; mtime?: Date }[] = [];
  await parseTar(tarStream(file, type.compression, kills), file, async (e) => {
    throwIfAborted(signal);
    const rel = components(e.path).join('/');
    const target = join(stage, rel);
    if (rel === '') {
      e.resume();
      return;
    }
    await mkdir(dirname(target), { recursive: true });
    const existing = await lstat(target).catch(() => undefined);
    if (existing && !(existing.isDirectory() && e.type === 'Directory')) await rm(target, { recursive: true, force: true });
    const mode = (e.mode ?? 0o644) & 0o7777;
    if (e.type === 'Directory') {
      await mkdir(target, { recursive: true, mode: 0o700 });
      dirModes.push({ path: target, mode: e.mode !== undefined ? mode : 0o755, mtime: e.mtime });
      e.resume();
    } else if (FILE_TYPES.has(e.type)) {
      await pipeline(e as unknown as Readable, createWriteStream(target, { mode: 0o600 }));
      await chmod(target, mode);
      if (e.mtime) await utimes(target, e.mtime, e.mtime).catch(() => undefined);
    } else if (e.type === 'SymbolicLink') {
      await symlink(e.linkpath ?? '', target);
      e.resume();
    } else if (e.type === 'Link') {
      await link(join(stage, components(e.linkpath ?? '').join('/')), target);
      e.resume();
    } else {
      e.resume();
    }
  });
  for (const d of dirModes.toReversed()) {
    await chmod(d.path, d.mode);
    if (d.mtime) await utimes(d.path, d.mtime, d.mtime).catch(() => undefined);
  }
  return { entries: checker.entries, bytes: checker.bytes };
}

const SINGLE_EXT: Record<Compression, string[]> = { gzip: ['gz', 'z', 'Z'], bzip2: ['bz2', 'bz'], xz: ['xz'], zstd: ['zst'] };

async function decompressSingle(file: string, name: string, compression: Compression, stage: string, archiveSize: number, limits: Required<ExtractLimits>, signal?: AbortSignal): Promise<{ out: string; bytes: number }> {
  const out = name.slice(0, name.lastIndexOf('.'));
  let bytes = 0;
  const input = createReadStream(file);
  let kill: (() => void) | undefined;
  const stream = decompressStream(file, compression, input, (k) => {
    kill = k;
  });
  const onAbort = (): void => {
    kill?.();
    stream.destroy(abortError(signal));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    stream.on('data', (d: Buffer) => {
      bytes += d.length;
      if (bytes > limits.maxBytes || (bytes > RATIO_FLOOR && bytes / Math.max(1, archiveSize) > limits.maxRatio)) {
        stream.destroy(new FetchError('E_ARCHIVE_TOO_LARGE', `${basename(file)} decompresses to more than the limits allow (maxBytes ${limits.maxBytes}, maxRatio ${limits.maxRatio})`, { path: file, actual: bytes }));
      }
    });
    await pipeline(stream, createWriteStream(join(stage, out)));
  } catch (e) {
    kill?.();
    if (signal?.aborted) throw abortError(signal);
    if (FetchError.isInstance(e)) throw e;
    throw corrupt(file, (e as Error).message, e);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return { out, bytes };
}

const DEFAULT_LIMITS: Required<ExtractLimits> = { maxBytes: 64 * 1024 ** 3, maxRatio: 1000, maxEntries: 2_000_000 };

/**
 * Extracts one source file into `dest` the way makepkg's `extract_file` does, by content:
 * tar (plain or gzip/bzip2/xz/zstd), zip and cpio through `bsdtar -xf` (node-tar fallback for tar
 * when bsdtar is missing), a single `.gz/.bz2/.xz/.zst` file decompressed to its name minus the
 * extension (only with the matching extension, as makepkg). Anything else is left alone
 * (`extracted: false`).
 *
 * Members with absolute paths or `..`, hard links leaving the tree, writes through a symlink,
 * and device/FIFO nodes are refused with `E_UNSAFE_ARCHIVE_ENTRY`; symlink targets themselves are
 * kept verbatim (even absolute ones), like bsdtar. Everything is staged in a private directory
 * inside `dest` and moved in only on success.
 *
 * @example
 * ```ts
 * const r = await extractArchive({ file: '/cache/foo-1.0.tar.xz', dest: '/build/src' })
 * r.outputs // ['foo-1.0']
 * ```
 */
export async function extractArchive(options: ExtractOptions): Promise<ExtractResult> {
  const { signal } = options;
  const file = resolve(options.file);
  const dest = resolve(options.dest);
  const name = options.name ?? basename(file);
  const limits: Required<ExtractLimits> = { ...DEFAULT_LIMITS, ...Object.fromEntries(Object.entries(options.limits ?? {}).filter(([, v]) => v !== undefined)) };
  throwIfAborted(signal);
  let type: DetectedType;
  let archiveSize: number;
  try {
    archiveSize = (await stat(file)).size;
    type = await detectArchive(file);
  } catch (e) {
    throw new FetchError('E_EXTRACT_FAILED', `Cannot read ${file}: ${(e as Error).message}`, { path: file, cause: e });
  }
  if (type.kind === 'none') return { extracted: false, type, entries: 0, bytes: 0, outputs: [] };
  if (type.kind === 'compressed') {
    const ext = name.slice(name.lastIndexOf('.') + 1);
    if (!type.compression || !name.includes('.') || !SINGLE_EXT[type.compression].includes(ext)) return { extracted: false, type, entries: 0, bytes: 0, outputs: [] };
  }
  await mkdir(dest, { recursive: true });
  const stage = await mkdtemp(join(dest, '.rbee-extract-'));
  try {
    if (type.kind === 'compressed') {
      const r = await decompressSingle(file, name, type.compression as Compression, stage, archiveSize, limits, signal);
      throwIfAborted(signal);
      const outputs = await publish(stage, dest);
      return { extracted: true, type, extractor: 'decompress', entries: 1, bytes: r.bytes, outputs };
    }
    const choice = options.extractor ?? 'auto';
    const useBsdtar = choice === 'bsdtar' || (choice === 'auto' && hasBsdtar());
    if (choice === 'bsdtar' && !hasBsdtar()) {
      throw new FetchError('E_EXTRACT_FAILED', `bsdtar is not installed (install libarchive-tools) and extractor: 'bsdtar' was requested for ${name}`, { path: file });
    }
    const check = options.check ?? 'stream';
    const scanned = options.scanned?.version === SCAN_VERSION ? options.scanned : undefined;
    let st: ScanState;
    if (!useBsdtar) st = await withNodeTar(file, type, stage, archiveSize, limits, signal);
    else if (scanned) {
      const refusal = limitRefusal(basename(file), archiveSize, checkLimits(limits), scanned.entries, scanned.bytes);
      if (refusal) throw refusalError(file, refusal);
      await withBsdtarDirect(file, stage, signal);
      st = { entries: scanned.entries, bytes: scanned.bytes };
    } else if (check === 'stream' && archiveSize < pipelineTuning.inlineBelow) st = await withBsdtarInline(file, stage, archiveSize, limits, signal);
    else st = await withBsdtar(file, stage, archiveSize, limits, check, signal);
    throwIfAborted(signal);
    const outputs = await publish(stage, dest);
    const result: ExtractResult = { extracted: true, type, extractor: useBsdtar ? 'bsdtar' : 'node-tar', entries: st.entries, bytes: st.bytes, outputs };
    if (useBsdtar) result.scan = { version: SCAN_VERSION, entries: st.entries, bytes: st.bytes };
    return result;
  } catch (e) {
    if (signal?.aborted) throw abortError(signal);
    throw e;
  } finally {
    await rm(stage, { recursive: true, force: true }).catch(() => undefined);
  }
}
