import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from './manifest.js';
import { currentOwner, isOwnerAlive, parseOwner, type ProcessOwner } from './process-owner.js';
import type { WorkersHome } from './workers-home.js';
import { removeTree } from './worker-store.js';

const JOB_FILE = 'job.json';
const FAILED_FILE = 'failed.json';
/** A build dir with no job file yet is given this long before a sweep takes it for debris. */
const UNCLAIMED_GRACE_MS = 60_000;
/** Build dirs being deleted are first renamed to this prefix, so a kill mid-delete leaves obvious debris. */
const DISCARD_PREFIX = '.discard-';

/**
 * Delete a job's build dir so that no crash can leave a half-deleted dir that looks like a job
 * still being set up: rename it aside in one step, then remove it. Debris from a kill during the
 * removal carries the prefix and goes at the next sweep.
 */
export async function discardBuildDir(root: string): Promise<void> {
  await removeTree(await setBuildDirAside(root));
}

/**
 * The first step of {@link discardBuildDir}: rename the dir aside (the job is gone from `builds/`
 * at once) and return what is left to remove, which the caller may delete later.
 */
export async function setBuildDirAside(root: string): Promise<string> {
  const aside = join(dirname(root), `${DISCARD_PREFIX}${basename(root)}-${randomBytes(4).toString('hex')}`);
  return rename(root, aside).then(
    () => aside,
    () => root,
  );
}

/** Paths of one job's work directories: `builds/<jobId>/{src,pkg,log,…}`. */
export interface JobDirs {
  root: string;
  /** `startdir`: the PKGBUILD and its local files. */
  startdir: string;
  srcdir: string;
  pkgdir: string;
  logFile: string;
}

export function jobDirs(home: WorkersHome, jobId: string): JobDirs {
  const root = home.buildDir(jobId);
  return {
    root,
    startdir: join(root, 'startdir'),
    srcdir: join(root, 'src'),
    pkgdir: join(root, 'pkg'),
    logFile: join(root, 'log'),
  };
}

/** Create the job's directories, claiming them for this process (owner pid + start time). */
export async function createJobDirs(home: WorkersHome, jobId: string, info: Record<string, unknown>): Promise<JobDirs> {
  const dirs = jobDirs(home, jobId);
  await mkdir(home.buildsDir, { recursive: true });
  try {
    await mkdir(dirs.root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      const err = new Error(`build directory ${dirs.root} already exists: job id ${jobId} is in use`) as Error & { code: string };
      err.code = 'E_JOB_EXISTS';
      throw err;
    }
    throw e;
  }
  await writeFileAtomic(join(dirs.root, JOB_FILE), JSON.stringify({ ...currentOwner(), ...info }));
  await Promise.all([mkdir(dirs.startdir), mkdir(dirs.srcdir), mkdir(dirs.pkgdir)]);
  return dirs;
}

/** Mark a job's build directory as kept for inspection after a failure. */
export async function markFailed(dirs: JobDirs, info: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(join(dirs.root, FAILED_FILE), JSON.stringify({ failedAt: Date.now(), ...info }));
}

/** Retention of failed builds. */
export interface FailedBuildRetention {
  /** Keep at most this many failed build dirs (newest first). @default 5 */
  keepFailed?: number;
  /** Drop failed build dirs older than this. @default 7 days */
  maxFailedAgeMs?: number;
}

/**
 * Sweep `builds/`: remove directories of jobs whose owner process is gone (a crash or SIGKILL
 * mid-install) and failed builds beyond the retention; keep live jobs and recent failures.
 * Returns the removed job ids.
 */
export async function sweepBuilds(home: WorkersHome, retention: FailedBuildRetention = {}, now = Date.now()): Promise<string[]> {
  const keep = retention.keepFailed ?? 5;
  const maxAge = retention.maxFailedAgeMs ?? 7 * 24 * 3600_000;
  const removed: string[] = [];
  const failed: { jobId: string; at: number }[] = [];
  let names: string[];
  try {
    names = await readdir(home.buildsDir);
  } catch {
    return removed;
  }
  for (const jobId of names) {
    if (jobId.startsWith(DISCARD_PREFIX)) {
      await removeTree(join(home.buildsDir, jobId));
      continue;
    }
    const root = home.buildDir(jobId);
    const failedInfo = await readFile(join(root, FAILED_FILE), 'utf8').then((t) => JSON.parse(t) as { failedAt?: number }, () => undefined);
    if (failedInfo) {
      failed.push({ jobId, at: typeof failedInfo.failedAt === 'number' ? failedInfo.failedAt : 0 });
      continue;
    }
    const owner: ProcessOwner | undefined = await readFile(join(root, JOB_FILE), 'utf8').then(parseOwner, () => undefined);
    let dead: boolean;
    if (owner) dead = !isOwnerAlive(owner);
    else {
      const st = await stat(root).catch(() => undefined);
      dead = st !== undefined && now - st.mtimeMs > UNCLAIMED_GRACE_MS;
    }
    if (dead) {
      await discardBuildDir(root);
      removed.push(jobId);
    }
  }
  failed.sort((a, b) => b.at - a.at);
  for (const [i, f] of failed.entries()) {
    if (i >= keep || now - f.at > maxAge) {
      await discardBuildDir(home.buildDir(f.jobId));
      removed.push(f.jobId);
    }
  }
  return removed;
}
