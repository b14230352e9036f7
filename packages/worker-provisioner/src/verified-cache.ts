import { readFile, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { sourcesFor, type Pkgbuild } from '@rbee/pkgbuild-parser';
import type { ArchiveScan } from '@rbee/source-fetcher';
import { writeFileAtomic } from './manifest.js';
import type { FetchResultLike } from './stages.js';

/**
 * Verification stamps of the shared source cache (`sources/.rbee-verified.json`): for each
 * cached download the fetcher verified, its digests and the file's identity (size, mtime,
 * ctime, inode). A later install whose PKGBUILD expects the same digests, of files whose
 * identity has not changed since, need not hash them again — the same trust git's index and
 * rsync put in stat data (any write or rename of the file changes its ctime).
 *
 * An archive's stamp also keeps the fetcher's scan of it (every member passed the extraction
 * checks, with its totals): the checks depend on nothing but the bytes, so a re-install of the
 * same unchanged file extracts it with bsdtar directly. Whoever can write this file could
 * already make an unverified download pass for a verified one: the scan widens no trust.
 */
const STAMPS = '.rbee-verified.json';

interface Stamp {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  checksums: Record<string, string>;
  scan?: ArchiveScan;
}

type Stamps = Record<string, Stamp>;

async function readStamps(srcdest: string): Promise<Stamps> {
  try {
    const v = JSON.parse(await readFile(join(srcdest, STAMPS), 'utf8')) as unknown;
    return typeof v === 'object' && v !== null ? (v as Stamps) : {};
  } catch {
    return {};
  }
}

/**
 * When every source of the PKGBUILD for `carch` is an http(s) download already in the cache,
 * verified earlier against the very checksums the PKGBUILD lists now, and unchanged since: the
 * archive scans kept with them, by file name. Anything else (local files, VCS, a missing or
 * changed file, other checksums, checksum arrays that do not line up) answers undefined: the
 * fetcher then verifies as usual.
 */
export async function cacheVerified(srcdest: string, pkgbuild: Pkgbuild, carch: string): Promise<{ scans: Record<string, ArchiveScan> } | undefined> {
  const { groups } = sourcesFor(pkgbuild, carch);
  const stamps = await readStamps(srcdest);
  const scans: Record<string, ArchiveScan> = {};
  let any = false;
  for (const g of groups) {
    for (const sums of Object.values(g.checksums)) if (sums !== undefined && sums.length !== g.entries.length) return undefined;
    if (g.entries.length > 0 && Object.values(g.checksums).every((s) => s === undefined)) return undefined;
    for (const [i, entry] of g.entries.entries()) {
      if (entry.protocol !== 'http' && entry.protocol !== 'https') return undefined;
      const stamp = stamps[entry.filename];
      if (!stamp || !(await unchanged(join(srcdest, entry.filename), stamp))) return undefined;
      for (const [alg, list] of Object.entries(g.checksums)) {
        const want = list?.[i];
        if (want === undefined || want === 'SKIP') continue;
        if (stamp.checksums[alg]?.toLowerCase() !== want.toLowerCase()) return undefined;
      }
      if (stamp.scan) scans[entry.filename] = stamp.scan;
      any = true;
    }
  }
  return any ? { scans } : undefined;
}

/** True when the file at `path` is still the one `stamp` describes. */
async function unchanged(path: string, stamp: Stamp): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  return st !== undefined && st.isFile() && st.size === stamp.size && st.mtimeMs === stamp.mtimeMs && st.ctimeMs === stamp.ctimeMs && st.ino === stamp.ino;
}

/**
 * Keeps the scans of the archives among `results` (the extraction's) with their stamps, where the
 * stamp still describes the file.
 */
export async function recordScans(srcdest: string, results: FetchResultLike[]): Promise<void> {
  const root = resolve(srcdest) + sep;
  const stamps = await readStamps(srcdest);
  let changed = false;
  for (const r of results) {
    const scan = r.extracted?.scan;
    const path = resolve(r.path);
    if (!scan || !path.startsWith(root)) continue;
    const stamp = stamps[path.slice(root.length)];
    if (!stamp || (stamp.scan && stamp.scan.version === scan.version) || !(await unchanged(path, stamp))) continue;
    stamp.scan = { version: scan.version, entries: scan.entries, bytes: scan.bytes };
    changed = true;
  }
  if (changed) await writeFileAtomic(join(srcdest, STAMPS), JSON.stringify(stamps));
}

/** Record stamps for the verified downloads among `results` (files directly in `srcdest`). */
export async function recordVerified(srcdest: string, results: FetchResultLike[]): Promise<void> {
  const root = resolve(srcdest) + sep;
  const stamps = await readStamps(srcdest);
  let changed = false;
  for (const r of results) {
    const digests = (r.checksums ?? {}) as Record<string, unknown>;
    const checksums = Object.fromEntries(Object.entries(digests).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const path = resolve(r.path);
    if (!path.startsWith(root) || path.slice(root.length).includes(sep) || Object.keys(checksums).length === 0) continue;
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) continue;
    stamps[path.slice(root.length)] = { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, checksums };
    changed = true;
  }
  if (changed) await writeFileAtomic(join(srcdest, STAMPS), JSON.stringify(stamps));
}
