import { readFile, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { sourcesFor, type Pkgbuild } from '@rbee/pkgbuild-parser';
import { writeFileAtomic } from './manifest.js';
import type { FetchResultLike } from './stages.js';

/**
 * Verification stamps of the shared source cache (`sources/.rbee-verified.json`): for each
 * cached download the fetcher verified, its digests and the file's identity (size, mtime,
 * ctime, inode). A later install whose PKGBUILD expects the same digests, of files whose
 * identity has not changed since, need not hash them again — the same trust git's index and
 * rsync put in stat data (any write or rename of the file changes its ctime).
 */
const STAMPS = '.rbee-verified.json';

interface Stamp {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  checksums: Record<string, string>;
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
 * True when every source of the PKGBUILD for `carch` is an http(s) download already in the
 * cache, verified earlier against the very checksums the PKGBUILD lists now, and unchanged
 * since. Anything else (local files, VCS, a missing or changed file, other checksums, checksum
 * arrays that do not line up) answers false: the fetcher then verifies as usual.
 */
export async function cacheVerified(srcdest: string, pkgbuild: Pkgbuild, carch: string): Promise<boolean> {
  const { groups } = sourcesFor(pkgbuild, carch);
  const stamps = await readStamps(srcdest);
  let any = false;
  for (const g of groups) {
    for (const sums of Object.values(g.checksums)) if (sums !== undefined && sums.length !== g.entries.length) return false;
    if (g.entries.length > 0 && Object.values(g.checksums).every((s) => s === undefined)) return false;
    for (const [i, entry] of g.entries.entries()) {
      if (entry.protocol !== 'http' && entry.protocol !== 'https') return false;
      const stamp = stamps[entry.filename];
      if (!stamp) return false;
      const st = await stat(join(srcdest, entry.filename)).catch(() => undefined);
      if (!st?.isFile() || st.size !== stamp.size || st.mtimeMs !== stamp.mtimeMs || st.ctimeMs !== stamp.ctimeMs || st.ino !== stamp.ino) return false;
      for (const [alg, list] of Object.entries(g.checksums)) {
        const want = list?.[i];
        if (want === undefined || want === 'SKIP') continue;
        if (stamp.checksums[alg]?.toLowerCase() !== want.toLowerCase()) return false;
      }
      any = true;
    }
  }
  return any;
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
