import { hashFile } from '@rbee/source-fetcher';
import { lstat, open, readdir, readFile, readlink, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILD_LOG_NAME, MANIFEST_NAME } from './workers-home.js';
import type { WorkerPlatform, WorkerType } from './types.js';

/** One installed entry: a regular file or a symlink, by path relative to the version dir. */
export interface ManifestFile {
  path: string;
  type: 'file' | 'symlink';
  size: number;
  /** Permission bits (e.g. 0o755). */
  mode: number;
  /** sha256 of a file's content. */
  sha256?: string;
  /** A symlink's target. */
  target?: string;
}

/** Capabilities recorded for an installed worker. */
export interface ManifestCapabilities {
  supportedArchitectures: string[];
  supportedFormats: string[];
  maxContextLength: number;
  supportsStreaming: boolean;
  supportsBatching: boolean;
}

/** The `.rbee-worker.json` manifest of an installed version: its presence means "installed". */
export interface WorkerManifest {
  schema: 1;
  pkgname: string;
  pkgbase: string;
  version: string;
  pkgver: string;
  pkgrel: string;
  epoch?: string;
  workerType: WorkerType;
  platform: WorkerPlatform;
  arch: string;
  /** Executable path relative to the version directory. */
  executable: string;
  capabilities: ManifestCapabilities;
  catalogId?: string;
  /** The catalog's worker entry as resolved (JSON). */
  catalogEntry?: unknown;
  /** The chosen variant (JSON). */
  variant?: unknown;
  /** Where the install came from: a catalog, or a local directory. */
  origin: { kind: 'catalog'; url?: string } | { kind: 'directory'; path: string };
  pkgbuildSha256: string;
  /** The build log kept with the install (absolute path). */
  buildLog?: string;
  jobId: string;
  installedAt: string;
  size: number;
  files: ManifestFile[];
}

const SKIP_AT_ROOT = new Set([MANIFEST_NAME, BUILD_LOG_NAME]);

/**
 * sha256 of a file through the fetcher's `hashFile`: a large file is read and hashed by a pooled
 * thread (warm from the download), off the event loop: ~45 ms here for 50 MiB that package() has
 * just written, against ~75 ms for reading and hashing on the event loop.
 */
async function sha256File(path: string): Promise<string> {
  return (await hashFile(path, ['sha256'])).sha256 as string;
}

async function walk(root: string, rel: string, out: { path: string; abs: string }[]): Promise<void> {
  const dir = rel === '' ? root : join(root, rel);
  const entries = await readdir(dir, { withFileTypes: true });
  for (const ent of entries) {
    const childRel = rel === '' ? ent.name : `${rel}/${ent.name}`;
    if (rel === '' && SKIP_AT_ROOT.has(ent.name)) continue;
    if (ent.isDirectory()) await walk(root, childRel, out);
    else out.push({ path: childRel, abs: join(root, childRel) });
  }
}

async function describe(abs: string, path: string): Promise<ManifestFile> {
  const st = await lstat(abs);
  if (st.isSymbolicLink()) return { path, type: 'symlink', size: 0, mode: st.mode & 0o7777, target: await readlink(abs) };
  return { path, type: 'file', size: st.size, mode: st.mode & 0o7777, sha256: await sha256File(abs) };
}

/** Map `items` through `fn`, at most `limit` at a time, keeping the order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  let next = 0;
  const run = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}

/** Hash every file and symlink under `root` (sorted by path), skipping the manifest and log. */
export async function hashTree(root: string): Promise<ManifestFile[]> {
  const found: { path: string; abs: string }[] = [];
  await walk(root, '', found);
  found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return mapLimit(found, 4, (f) => describe(f.abs, f.path));
}

/** Write `text` to `path` atomically and durably: temp file, fsync, rename. */
export async function writeFileAtomic(path: string, text: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now().toString(36)}`;
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** Read a version directory's manifest; undefined when absent or unreadable. */
export async function readManifest(versionDir: string): Promise<WorkerManifest | undefined> {
  try {
    const m = JSON.parse(await readFile(join(versionDir, MANIFEST_NAME), 'utf8')) as WorkerManifest;
    if (m.schema !== 1 || typeof m.pkgname !== 'string' || !Array.isArray(m.files)) return undefined;
    return m;
  } catch {
    return undefined;
  }
}

/** Compare the tree under `versionDir` with its manifest. */
export async function verifyTree(
  versionDir: string,
  manifest: WorkerManifest,
): Promise<{ changed: string[]; missing: string[]; extra: string[]; checked: number }> {
  const changed: string[] = [];
  const missing: string[] = [];
  const expected = new Map(manifest.files.map((f) => [f.path, f]));
  const found: { path: string; abs: string }[] = [];
  await walk(versionDir, '', found).catch(() => undefined);
  const present = new Set(found.map((f) => f.path));
  const extra = found.map((f) => f.path).filter((p) => !expected.has(p)).sort();
  await mapLimit(manifest.files, 4, async (f) => {
    if (!present.has(f.path)) {
      missing.push(f.path);
      return;
    }
    let actual: ManifestFile;
    try {
      actual = await describe(join(versionDir, f.path), f.path);
    } catch {
      missing.push(f.path);
      return;
    }
    const same =
      actual.type === f.type &&
      actual.size === f.size &&
      actual.sha256 === f.sha256 &&
      actual.target === f.target &&
      (f.type === 'symlink' || actual.mode === f.mode);
    if (!same) changed.push(f.path);
  });
  return { changed: changed.sort(), missing: missing.sort(), extra, checked: manifest.files.length };
}
