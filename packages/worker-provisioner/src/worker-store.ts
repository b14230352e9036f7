import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readlink, rename, rm, stat, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { readManifest, type WorkerManifest } from './manifest.js';
import { MANIFEST_NAME, versionFromDirName, type WorkersHome } from './workers-home.js';
import type { WorkerBinary } from './types.js';

/** Leftover prefixes inside `workers/<pkgname>/`; `~` never appears in a job id. */
const OLD_PREFIX = '.old~';
const CURRENT_TMP_PREFIX = '.current~';
const REMOVING_PREFIX = '.removing~';

async function pathExists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

async function makeDirsWritable(p: string): Promise<void> {
  const st = await lstat(p).catch(() => undefined);
  if (!st?.isDirectory()) return;
  await chmod(p, (st.mode & 0o7777) | 0o700).catch(() => undefined);
  for (const name of await readdir(p).catch(() => [] as string[])) await makeDirsWritable(join(p, name));
}

/**
 * `rm -rf` that also removes trees a package made unwritable (a `install -dm555` directory
 * cannot be emptied by its non-root owner until it is made writable again).
 */
export async function removeTree(p: string): Promise<void> {
  try {
    await rm(p, { recursive: true, force: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'ENOTEMPTY') throw e;
    await makeDirsWritable(p);
    await rm(p, { recursive: true, force: true });
  }
}

/** One installed version, read from disk. */
export interface InstalledVersion {
  pkgname: string;
  dirName: string;
  dir: string;
  manifest: WorkerManifest;
}

/** The version directory name `current` points at, if any. */
export async function readCurrent(home: WorkersHome, pkgname: string): Promise<string | undefined> {
  try {
    const target = await readlink(home.currentLink(pkgname));
    return target.split('/').pop();
  } catch {
    return undefined;
  }
}

/** Every installed version of `pkgname` (manifest present), newest install first. */
export async function installedVersions(home: WorkersHome, pkgname: string): Promise<InstalledVersion[]> {
  let names: string[];
  try {
    names = await readdir(home.workerDir(pkgname));
  } catch {
    return [];
  }
  const out: InstalledVersion[] = [];
  await Promise.all(
    names
      .filter((n) => !n.startsWith('.') && n !== 'current')
      .map(async (dirName) => {
        const dir = join(home.workerDir(pkgname), dirName);
        const manifest = await readManifest(dir);
        if (manifest && manifest.pkgname === pkgname) out.push({ pkgname, dirName, dir, manifest });
      }),
  );
  out.sort((a, b) => (a.manifest.installedAt < b.manifest.installedAt ? 1 : a.manifest.installedAt > b.manifest.installedAt ? -1 : 0));
  return out;
}

/** Names of the worker directories under `workers/`. */
export async function workerNames(home: WorkersHome): Promise<string[]> {
  try {
    return (await readdir(home.workersDir)).filter((n) => !n.startsWith('.')).sort();
  } catch {
    return [];
  }
}

/** Build the contract record of an installed version. */
export async function toWorkerBinary(v: InstalledVersion, currentDirName: string | undefined): Promise<WorkerBinary> {
  const m = v.manifest;
  const path = join(v.dir, m.executable);
  let status: WorkerBinary['status'] = 'installed';
  try {
    const st = await stat(path);
    if (!st.isFile()) status = 'broken';
  } catch {
    status = 'broken';
  }
  return {
    id: m.pkgname,
    workerType: m.workerType,
    platform: m.platform,
    path,
    size: m.size,
    status,
    version: m.version,
    addedAt: m.installedAt,
    supportedArchitectures: [...m.capabilities.supportedArchitectures],
    supportedFormats: [...m.capabilities.supportedFormats],
    maxContextLength: m.capabilities.maxContextLength,
    supportsStreaming: m.capabilities.supportsStreaming,
    supportsBatching: m.capabilities.supportsBatching,
    pkgname: m.pkgname,
    pkgver: m.pkgver,
    ...(m.catalogId === undefined ? {} : { catalogId: m.catalogId }),
    arch: m.arch,
    installDir: v.dir,
    current: currentDirName === v.dirName,
  };
}

/** Point `workers/<pkgname>/current` at `dirName` atomically (temp symlink + rename). */
export async function switchCurrent(home: WorkersHome, pkgname: string, dirName: string): Promise<void> {
  const tmp = join(home.workerDir(pkgname), `${CURRENT_TMP_PREFIX}${randomBytes(6).toString('hex')}`);
  await symlink(dirName, tmp);
  try {
    await rename(tmp, home.currentLink(pkgname));
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/**
 * Publish a staged, complete version directory (manifest already inside) with one `rename`.
 * When the same version is installed (forced reinstall), the old directory is moved aside first
 * and restored by {@link repairWorker} if a crash hits between the two renames.
 */
export async function publishVersion(
  home: WorkersHome,
  pkgname: string,
  dirName: string,
  stagedDir: string,
  jobId: string,
  opts: {
    /**
     * Takes over the removal of the replaced directory (already moved aside and no longer
     * current) instead of waiting for it; a crash before it is done leaves a directory that
     * {@link repairWorker} removes.
     */
    disposeReplaced?: (path: string) => void;
  } = {},
): Promise<void> {
  await mkdir(home.workerDir(pkgname), { recursive: true });
  const target = join(home.workerDir(pkgname), dirName);
  let aside: string | undefined;
  if (await pathExists(target)) {
    aside = join(home.workerDir(pkgname), `${OLD_PREFIX}${jobId}~${dirName}`);
    await rename(target, aside);
  }
  try {
    await rename(stagedDir, target);
  } catch (e) {
    if (aside) await rename(aside, target).catch(() => undefined);
    throw e;
  }
  await switchCurrent(home, pkgname, dirName);
  if (aside && opts.disposeReplaced) opts.disposeReplaced(aside);
  else if (aside) await removeTree(aside);
}

/**
 * Bring one worker directory back to a consistent state (call with its lock held): finish or
 * undo an interrupted replacement, drop temp symlinks and half-removed or manifest-less version
 * directories, and repoint a dangling `current`.
 */
export async function repairWorker(home: WorkersHome, pkgname: string): Promise<void> {
  const wdir = home.workerDir(pkgname);
  let names: string[];
  try {
    names = await readdir(wdir);
  } catch {
    return;
  }
  for (const name of names) {
    const p = join(wdir, name);
    if (name.startsWith(OLD_PREFIX)) {
      const dirName = name.slice(OLD_PREFIX.length).split('~').slice(1).join('~');
      const target = join(wdir, dirName);
      if (dirName && !(await pathExists(join(target, MANIFEST_NAME)))) {
        await removeTree(target);
        await rename(p, target).catch(() => undefined);
      } else {
        await removeTree(p);
      }
    } else if (name.startsWith(CURRENT_TMP_PREFIX)) {
      await unlink(p).catch(() => undefined);
    } else if (name.startsWith(REMOVING_PREFIX)) {
      await removeTree(p);
    }
  }
  for (const name of await readdir(wdir).catch(() => [] as string[])) {
    if (name.startsWith('.') || name === 'current') continue;
    const p = join(wdir, name);
    const st = await lstat(p).catch(() => undefined);
    if (st?.isDirectory() && !(await pathExists(join(p, MANIFEST_NAME)))) await removeTree(p);
  }
  await fixCurrent(home, pkgname);
}

/** Make `current` point at an installed version (the newest one when its target is gone), or remove it. */
export async function fixCurrent(home: WorkersHome, pkgname: string): Promise<void> {
  const cur = await readCurrent(home, pkgname);
  const versions = await installedVersions(home, pkgname);
  if (cur && versions.some((v) => v.dirName === cur)) return;
  const newest = versions[0];
  if (newest) await switchCurrent(home, pkgname, newest.dirName);
  else {
    await unlink(home.currentLink(pkgname)).catch(() => undefined);
    // an empty worker dir is removed; a racing publish recreates it with mkdir -p
    const left = await readdir(home.workerDir(pkgname)).catch(() => ['?']);
    if (left.length === 0) await removeTree(home.workerDir(pkgname)).catch(() => undefined);
  }
}

/** Remove one version directory (moved aside first, so it vanishes at once). */
export async function removeVersionDir(home: WorkersHome, pkgname: string, dirName: string): Promise<void> {
  const p = join(home.workerDir(pkgname), dirName);
  const aside = join(home.workerDir(pkgname), `${REMOVING_PREFIX}${randomBytes(6).toString('hex')}`);
  await rename(p, aside);
  await removeTree(aside);
}

/** Remove a whole worker directory (moved aside under `workers/` first). */
export async function removeWorkerDir(home: WorkersHome, pkgname: string): Promise<void> {
  const aside = join(home.workersDir, `${REMOVING_PREFIX}${pkgname}~${randomBytes(6).toString('hex')}`);
  await rename(home.workerDir(pkgname), aside);
  await removeTree(aside);
}

/** Drop `workers/.removing~*` leftovers of an interrupted remove. */
export async function sweepWorkersRoot(home: WorkersHome): Promise<void> {
  for (const name of await readdir(home.workersDir).catch(() => [] as string[])) {
    if (name.startsWith(REMOVING_PREFIX)) await removeTree(join(home.workersDir, name));
  }
}

export { versionFromDirName };
