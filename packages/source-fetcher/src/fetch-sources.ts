/**
 * `fetchSources`: makepkg's download → verify → extract, for one architecture, through a shared
 * `srcdest` cache, with bounded parallel downloads.
 */
import { createReadStream } from 'node:fs';
import { lstat, mkdir, open, rename, rm, stat, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { algorithmsToCompute, compareChecksums, createHashSink, type Digests, type ExpectedChecksums } from './checksums.js';
import { FetchError, abortError, isAbortError, throwIfAborted } from './errors.js';
import { extractArchive, type ArchiveScan, type ExtractLimits, type ExtractResult, type ExtractorChoice } from './extract.js';
import { acquireLock } from './file-lock.js';
import { downloadGit, extractGit, verifyGitSignature } from './git-source.js';
import { downloadHg, downloadSvn, extractHg, extractSvn, checkHgSvnEntry } from './hg-svn-source.js';
import { createAgent, downloadFile, fileSize, type HttpOptions } from './http-download.js';
import { ProgressMeter, type ProgressEvent } from './progress.js';
import type { Pkgbuild, SourceEntry } from '@rbee/pkgbuild-parser';
import { KNOWN_HASH_ALGOS, resolveSources, type HashAlgorithm } from './source-list.js';
import { checkGitEntry } from './git-source.js';

/** Options of {@link fetchSources}. */
export interface FetchSourcesOptions extends HttpOptions {
  /** The PKGBUILD model (`vars.source`, `vars.source_<carch>`, `vars.<alg>sums…`, `vars.noextract`). */
  pkgbuild: Pkgbuild;
  /** Architecture whose `source_<carch>` arrays are added. @default pkgbuild.carch */
  carch?: string;
  /** The PKGBUILD's directory: local sources are looked up here first. */
  startdir: string;
  /** The download cache (makepkg's `SRCDEST`): files and VCS mirrors, shared across builds. */
  srcdest: string;
  /** The build's source directory: every source is linked/extracted/checked out here. */
  srcdir: string;
  /** Cancels everything; `.part` files are kept for a resume and nothing half-written stays in `srcdir`. */
  signal?: AbortSignal;
  /** Downloads at once. @default 4 */
  concurrency?: number;
  /**
   * Verify checksums (makepkg's `--skipchecksums` is `false`). When true, each source array must be
   * covered by at least one checksum array of the same length (`E_CHECKSUM_COUNT`). @default true
   */
  verify?: boolean;
  /** Link and extract into `srcdir` (makepkg's extract step); `false` only downloads and verifies. @default true */
  extract?: boolean;
  /** Progress per source (label = the source's filename), throttled. */
  onProgress?: (p: ProgressEvent) => void;
  /** Non-fatal problems (e.g. a VCS mirror that could not be updated; makepkg warns and goes on). */
  onWarning?: (message: string) => void;
  /** Expansion caps for archives. */
  limits?: ExtractLimits;
  /** Extractor choice (`auto`: bsdtar when installed). @default 'auto' */
  extractor?: ExtractorChoice;
  /** How bsdtar extraction is checked; see `ExtractOptions.check`. @default 'stream' */
  extractCheck?: 'stream' | 'parallel';
  /**
   * Earlier scans of unchanged cached archives, by source file name (what `extracted.scan` said
   * the last time): see `ExtractOptions.scanned`.
   */
  scans?: Record<string, ArchiveScan>;
}

/** The outcome for one source entry, in PKGBUILD order. */
export interface FetchedSource {
  /** The parsed entry. */
  entry: SourceEntry;
  /** Where the source lives: the cached file, the local file, or the VCS mirror directory. */
  path: string;
  /** Size in bytes of a file source (0 for VCS sources). */
  bytes: number;
  /** True when nothing had to be transferred (cache hit, local file, or an existing mirror). */
  fromCache: boolean;
  /** Digests computed for the file (every non-`SKIP` algorithm of the PKGBUILD). */
  checksums: Digests;
  /** What extraction did, when it ran for this source. */
  extracted?: ExtractResult;
  /** For VCS sources, the working copy in `srcdir`. */
  workdir?: string;
}

const HANDLED = new Set(['http', 'https', 'local', 'file', 'git', 'hg', 'svn']);

function expectedFor(checksums: Partial<Record<HashAlgorithm, (string | undefined)[] | undefined>>, i: number): ExpectedChecksums {
  const out: ExpectedChecksums = {};
  for (const a of KNOWN_HASH_ALGOS) {
    const v = checksums[a]?.[i];
    if (v !== undefined) out[a] = v;
  }
  return out;
}

function checkEntry(entry: SourceEntry): void {
  const f = entry.filename;
  if (!HANDLED.has(entry.protocol)) {
    throw new FetchError('E_UNSUPPORTED_PROTOCOL', `Unsupported source protocol "${entry.protocol}" in ${entry.raw}: rbee handles http, https, file, local files, git, hg and svn`, { source: entry.raw });
  }
  if (f === '' || f === '.' || f === '..' || f.includes('/') || f.includes('\0')) {
    throw new FetchError('E_INVALID_SOURCE', `Source ${entry.raw} has no usable file name ("${f}"): give one with name::url`, { source: entry.raw });
  }
  if (entry.vcs === 'git') checkGitEntry(entry);
  else if (entry.vcs === 'hg' || entry.vcs === 'svn') checkHgSvnEntry(entry);
  else if (entry.vcs) throw new FetchError('E_UNSUPPORTED_PROTOCOL', `${entry.vcs} sources are not supported (${entry.raw}): rbee handles git, hg and svn`, { source: entry.raw });
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function hashAndCompare(path: string, entry: SourceEntry, expected: ExpectedChecksums, verify: boolean, signal?: AbortSignal): Promise<Digests> {
  const algs = verify ? algorithmsToCompute(expected) : [];
  if (algs.length === 0) return {};
  const size = await fileSize(path);
  const sink = createHashSink(algs, size);
  try {
    const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
    const onAbort = (): void => {
      stream.destroy(abortError(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        sink.update(chunk);
        await sink.ready();
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    const digests = await sink.digest();
    compareChecksums(entry.filename, expected, digests, { path, source: entry.raw });
    return digests;
  } finally {
    sink.close();
  }
}

/** `file://` copy into srcdest, hashed on the way, published by rename. */
async function copyFileUrl(entry: SourceEntry, dest: string, expected: ExpectedChecksums, verify: boolean, signal: AbortSignal, onProgress?: (p: ProgressEvent) => void): Promise<{ bytes: number; digests: Digests }> {
  let from: string;
  try {
    from = fileURLToPath(entry.url);
  } catch (e) {
    throw new FetchError('E_INVALID_SOURCE', `Invalid file:// URL in ${entry.raw}`, { source: entry.raw, cause: e });
  }
  const size = await fileSize(from);
  if (size === undefined) throw new FetchError('E_SOURCE_NOT_FOUND', `${from} (from ${entry.raw}) does not exist or is not a regular file`, { source: entry.raw, path: from });
  const release = await acquireLock(dest, { signal });
  try {
    const algs = verify ? algorithmsToCompute(expected) : [];
    const sink = createHashSink(algs, size);
    const part = `${dest}.part`;
    const meter = new ProgressMeter(entry.filename, onProgress);
    meter.start(0, size);
    let bytes = 0;
    const fh = await open(part, 'w');
    try {
      const stream = createReadStream(from, { highWaterMark: 1024 * 1024 });
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        throwIfAborted(signal);
        sink.update(chunk);
        await fh.write(chunk);
        bytes += chunk.length;
        meter.update(bytes);
        await sink.ready();
      }
      await fh.close();
      const digests = await sink.digest();
      meter.finish(bytes);
      try {
        compareChecksums(entry.filename, expected, verify ? digests : {}, { path: dest, source: entry.raw });
      } catch (e) {
        await rm(part, { force: true });
        throw e;
      }
      await rename(part, dest);
      return { bytes, digests };
    } catch (e) {
      await fh.close().catch(() => undefined);
      await rm(part, { force: true });
      throw e;
    } finally {
      sink.close();
    }
  } finally {
    await release();
  }
}

async function linkInto(srcdir: string, name: string, target: string): Promise<void> {
  const link = join(srcdir, name);
  const existing = await lstat(link).catch(() => undefined);
  if (existing) await rm(link, { recursive: existing.isDirectory(), force: true });
  await symlink(target, link);
}

/**
 * Fetches, verifies and extracts the sources of a PKGBUILD for one architecture, the way
 * makepkg's download/verify/extract steps do:
 *
 * - sources are `source` + `source_<carch>`; checksums are every `<alg>sums[_<carch>]` array
 *   makepkg knows (`ck md5 sha1 sha224 sha256 sha384 sha512 b2`), correlated by position;
 * - http/https go through {@link downloadFile} into `srcdest` (cache hit = zero requests);
 *   local files come from `startdir` (then `srcdest`); `file://` is copied into `srcdest`;
 *   git/hg/svn use mirrors in `srcdest`;
 * - on success each file is symlinked into `srcdir` and archives not in `noextract` are
 *   extracted by content; VCS sources are checked out into `srcdir/<name>`.
 *
 * Rejects with a {@link FetchError} (or an AbortError), leaving `.part` files for a resume.
 *
 * @example
 * ```ts
 * const results = await fetchSources({ pkgbuild, carch: 'x86_64', startdir: dir, srcdest: cache, srcdir: join(dir, 'src') })
 * for (const r of results) console.log(r.entry.filename, r.fromCache ? 'cached' : `${r.bytes} bytes`)
 * ```
 */
export async function fetchSources(options: FetchSourcesOptions): Promise<FetchedSource[]> {
  const { pkgbuild, signal: outer } = options;
  const carch = options.carch ?? pkgbuild.carch;
  const verify = options.verify !== false;
  const startdir = resolve(options.startdir);
  const srcdest = resolve(options.srcdest);
  const srcdir = resolve(options.srcdir);
  throwIfAborted(outer);
  const list = resolveSources(pkgbuild, carch, verify);
  for (const e of list.entries) checkEntry(e);
  await mkdir(srcdest, { recursive: true });

  // One controller for the whole job: the caller's signal, or the first failure, stops every download.
  const ctrl = new AbortController();
  const onOuter = (): void => ctrl.abort(outer?.reason);
  outer?.addEventListener('abort', onOuter, { once: true });
  const signal = ctrl.signal;
  const agent = options.dispatcher ? undefined : createAgent(options);

  const results: (FetchedSource | undefined)[] = Array.from({ length: list.entries.length }, () => undefined);
  let firstError: unknown;

  const fetchOne = async (i: number): Promise<void> => {
    const entry = list.entries[i] as SourceEntry;
    const expected = expectedFor(list.checksums, i);
    const name = entry.filename;
    if (entry.vcs) {
      const local = join(startdir, name);
      const mirror = (await isDir(local)) ? local : join(srcdest, name);
      const existed = await isDir(mirror);
      if (entry.vcs === 'git') await downloadGit(entry, { mirror, signal, onWarning: options.onWarning });
      else if (entry.vcs === 'hg') await downloadHg(entry, mirror, signal, options.onWarning);
      else await downloadSvn(entry, mirror, signal, options.onWarning);
      results[i] = { entry, path: mirror, bytes: 0, fromCache: existed, checksums: {} };
      return;
    }
    // makepkg's get_filepath: a regular file in startdir, then in srcdest, is used as found.
    const inStart = join(startdir, name);
    const startSize = await fileSize(inStart);
    if (startSize !== undefined) {
      const digests = await hashAndCompare(inStart, entry, expected, verify, signal);
      results[i] = { entry, path: inStart, bytes: startSize, fromCache: true, checksums: digests };
      options.onProgress?.({ label: name, done: startSize, total: startSize, rate: 0, phase: 'cached' });
      return;
    }
    const dest = join(srcdest, name);
    if (entry.protocol === 'local') {
      const size = await fileSize(dest);
      if (size === undefined) {
        throw new FetchError('E_SOURCE_NOT_FOUND', `${name} was not found in the build directory (${startdir}) nor in srcdest (${srcdest}) and is not a URL`, { source: entry.raw, path: inStart });
      }
      const digests = await hashAndCompare(dest, entry, expected, verify, signal);
      results[i] = { entry, path: dest, bytes: size, fromCache: true, checksums: digests };
      return;
    }
    if (entry.protocol === 'file') {
      const size = await fileSize(dest);
      if (size !== undefined) {
        try {
          const digests = await hashAndCompare(dest, entry, expected, verify, signal);
          results[i] = { entry, path: dest, bytes: size, fromCache: true, checksums: digests };
          return;
        } catch (e) {
          if (!(FetchError.isInstance(e) && e.code === 'E_CHECKSUM_MISMATCH')) throw e;
          await rename(dest, `${dest}.invalid`);
        }
      }
      const r = await copyFileUrl(entry, dest, expected, verify, signal, options.onProgress);
      results[i] = { entry, path: dest, bytes: r.bytes, fromCache: false, checksums: r.digests };
      return;
    }
    const r = await downloadFile({
      ...pickHttp(options),
      ...(agent ? { dispatcher: agent } : {}),
      url: entry.url,
      dest,
      checksums: verify ? expected : {},
      signal,
      label: name,
      onProgress: options.onProgress,
    });
    results[i] = { entry, path: r.path, bytes: r.bytes, fromCache: r.fromCache, checksums: r.checksums };
  };

  try {
    // Bounded parallel downloads.
    const limit = Math.max(1, options.concurrency ?? 4);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < list.entries.length && !signal.aborted) {
        const i = next++;
        try {
          await fetchOne(i);
        } catch (e) {
          if (firstError === undefined && !(isAbortError(e) && !outer?.aborted)) firstError = e;
          ctrl.abort();
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, list.entries.length) }, () => worker()));
    if (outer?.aborted) throw abortError(outer);
    if (firstError !== undefined) throw firstError;

    // VCS signatures, then extraction in PKGBUILD order (makepkg verifies before it extracts).
    for (const r of results as FetchedSource[]) {
      if (r.entry.vcs === 'git' && r.entry.signed && verify) await verifyGitSignature(r.entry, r.path, signal);
    }
    if (options.extract !== false) {
      await mkdir(srcdir, { recursive: true });
      const noextract = new Set(toArray(pkgbuild.vars.noextract));
      for (const r of results as FetchedSource[]) {
        throwIfAborted(signal);
        if (r.entry.vcs === 'git') r.workdir = await extractGit(r.entry, r.path, srcdir, signal);
        else if (r.entry.vcs === 'hg') r.workdir = await extractHg(r.entry, r.path, srcdir, signal);
        else if (r.entry.vcs === 'svn') r.workdir = await extractSvn(r.entry, r.path, srcdir, signal);
        else {
          await linkInto(srcdir, r.entry.filename, r.path);
          if (!noextract.has(r.entry.filename)) {
            const scanned = options.scans?.[r.entry.filename];
            r.extracted = await extractArchive({
              file: r.path,
              dest: srcdir,
              name: r.entry.filename,
              signal,
              limits: options.limits,
              extractor: options.extractor,
              ...(options.extractCheck ? { check: options.extractCheck } : {}),
              ...(scanned ? { scanned } : {}),
            });
          }
        }
      }
    }
    return results as FetchedSource[];
  } catch (e) {
    if (outer?.aborted) throw abortError(outer);
    throw e;
  } finally {
    outer?.removeEventListener('abort', onOuter);
    if (agent) await agent.destroy().catch(() => undefined);
  }
}

function toArray(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return typeof v === 'string' ? [v] : v;
}

function pickHttp(o: FetchSourcesOptions): HttpOptions {
  const out: HttpOptions = {};
  if (o.auth) out.auth = o.auth;
  if (o.retry) out.retry = o.retry;
  if (o.connectTimeout !== undefined) out.connectTimeout = o.connectTimeout;
  if (o.idleTimeout !== undefined) out.idleTimeout = o.idleTimeout;
  if (o.maxRedirects !== undefined) out.maxRedirects = o.maxRedirects;
  if (o.userAgent) out.userAgent = o.userAgent;
  if (o.resume !== undefined) out.resume = o.resume;
  if (o.hashWorker !== undefined) out.hashWorker = o.hashWorker;
  if (o.dispatcher) out.dispatcher = o.dispatcher;
  if (o.env) out.env = o.env;
  return out;
}
