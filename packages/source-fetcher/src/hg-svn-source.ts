/**
 * Mercurial and Subversion sources through the system tools, as makepkg's source/hg.sh and
 * source/svn.sh handle them.
 */
import { cp, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FetchError, abortError } from './errors.js';
import { acquireLock } from './file-lock.js';
import type { SourceEntry } from '@rbee/pkgbuild-parser';
import { assertNotOption, hasTool, isNonEmptyDir, run } from './vcs-common.js';

/** The URL the tool is given: the entry's `remote` (`hg+`/`svn+` prefix and `#fragment` removed; `svn+ssh` kept, as makepkg). */
function stripUrl(entry: SourceEntry): string {
  return entry.remote;
}

const hgEnv = (): NodeJS.ProcessEnv => ({ ...process.env, HGPLAIN: '1' });

/** Validates an hg/svn entry and that its tool is installed (`E_UNSUPPORTED_PROTOCOL` otherwise). */
export function checkHgSvnEntry(entry: SourceEntry): void {
  const tool = entry.vcs === 'hg' ? 'hg' : 'svn';
  if (!hasTool(tool)) {
    throw new FetchError('E_UNSUPPORTED_PROTOCOL', `${entry.raw} needs ${tool === 'hg' ? 'Mercurial (hg)' : 'Subversion (svn)'}, which is not installed`, { source: entry.raw });
  }
  const url = stripUrl(entry);
  assertNotOption(url, 'URL', entry.raw);
  if (entry.fragment) {
    const allowed = entry.vcs === 'hg' ? ['branch', 'revision', 'tag'] : ['revision'];
    if (!allowed.includes(entry.fragment.type)) {
      throw new FetchError('E_INVALID_SOURCE', `Unrecognized reference "${entry.fragment.type}=${entry.fragment.value}" in ${entry.raw}: ${entry.vcs} sources accept ${allowed.map((a) => `#${a}=`).join(', ')}`, { source: entry.raw });
    }
    assertNotOption(entry.fragment.value, 'reference', entry.raw);
  }
}

/**
 * The mirror flow makepkg's hg and svn handlers share, under the mirror's lock: a missing (or
 * empty) mirror is created by `create(dir)` in a private temp dir and renamed into place in one
 * step; an existing one is brought up to date by `update()`, whose failure only warns (makepkg
 * builds from the mirror it has).
 */
async function syncMirror(
  mirror: string,
  opts: { signal?: AbortSignal | undefined; onWarning?: ((m: string) => void) | undefined; what: string; create: (dir: string) => Promise<unknown>; update: () => Promise<unknown> },
): Promise<void> {
  const { signal } = opts;
  const release = await acquireLock(mirror, { signal });
  try {
    if (!(await isNonEmptyDir(mirror))) {
      await rm(mirror, { recursive: true, force: true });
      const tmp = await mkdtemp(`${mirror}.partial-`);
      try {
        const dir = join(tmp, 'repo');
        await opts.create(dir);
        await rename(dir, mirror);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
      return;
    }
    try {
      await opts.update();
    } catch (e) {
      if (signal?.aborted) throw abortError(signal);
      opts.onWarning?.(`Failure while updating ${opts.what}: ${(e as Error).message}`);
    }
  } finally {
    await release();
  }
}

/** `hg clone -U` into the mirror, or `hg pull` when it exists (a failed pull only warns). */
export async function downloadHg(entry: SourceEntry, mirror: string, signal?: AbortSignal, onWarning?: (m: string) => void): Promise<void> {
  checkHgSvnEntry(entry);
  const url = stripUrl(entry);
  await syncMirror(mirror, {
    signal,
    onWarning,
    what: `${entry.filename} hg repo`,
    create: (dir) => run('hg', ['clone', '-U', '--', url, dir], { env: hgEnv(), signal, code: 'E_HG_FAILED', what: `Cloning ${url}`, source: entry.raw }),
    update: () => run('hg', ['pull'], { cwd: mirror, env: hgEnv(), signal, code: 'E_HG_FAILED', what: `Updating ${entry.filename}`, source: entry.raw }),
  });
}

/** Working copy `srcdir/<name>` at the fragment's ref (default `default`, or `@` when that bookmark exists). */
export async function extractHg(entry: SourceEntry, mirror: string, srcdir: string, signal?: AbortSignal): Promise<string> {
  checkHgSvnEntry(entry);
  const name = mirror.slice(mirror.lastIndexOf('/') + 1);
  const target = join(srcdir, name);
  let ref = 'default';
  try {
    await run('hg', ['identify', '-r', '@', mirror], { env: hgEnv(), signal, code: 'E_HG_FAILED', what: 'hg identify' });
    ref = '@';
  } catch {
    if (signal?.aborted) throw abortError(signal);
  }
  if (entry.fragment) ref = entry.fragment.value;
  if (await isNonEmptyDir(target)) {
    await run('hg', ['pull'], { cwd: target, env: hgEnv(), signal, code: 'E_HG_FAILED', what: `Updating the working copy of ${entry.filename}`, source: entry.raw });
    await run('hg', ['update', '-C', '-r', ref], { cwd: target, env: hgEnv(), signal, code: 'E_HG_FAILED', what: `Checking out ${ref} in ${entry.filename}`, source: entry.raw });
    return target;
  }
  const staged = await mkdtemp(join(srcdir, '.rbee-hg-'));
  try {
    await run('hg', ['clone', '-u', ref, '--', mirror, join(staged, name)], { env: hgEnv(), signal, code: 'E_HG_FAILED', what: `Creating the working copy of ${entry.filename} at ${ref}`, source: entry.raw });
    await rename(join(staged, name), target);
    return target;
  } finally {
    await rm(staged, { recursive: true, force: true });
  }
}

/** `svn checkout -r REV` into the mirror, or `svn update -r REV` when it exists (a failed update only warns). */
export async function downloadSvn(entry: SourceEntry, mirror: string, signal?: AbortSignal, onWarning?: (m: string) => void): Promise<void> {
  checkHgSvnEntry(entry);
  const url = stripUrl(entry);
  const ref = entry.fragment?.value ?? 'HEAD';
  await syncMirror(mirror, {
    signal,
    onWarning,
    what: `${entry.filename} svn repo`,
    create: async (dir) => {
      await mkdir(join(dir, '.makepkg'), { recursive: true });
      await run('svn', ['checkout', '--non-interactive', '-r', ref, '--config-dir', join(dir, '.makepkg'), '--', url, dir], { signal, code: 'E_SVN_FAILED', what: `Checking out ${url}@${ref}`, source: entry.raw });
    },
    update: () => run('svn', ['update', '--non-interactive', '-r', ref], { cwd: mirror, signal, code: 'E_SVN_FAILED', what: `Updating ${entry.filename}`, source: entry.raw }),
  });
}

/** Copies the svn checkout into `srcdir/<name>` (makepkg: `cp -au`). */
export async function extractSvn(entry: SourceEntry, mirror: string, srcdir: string, signal?: AbortSignal): Promise<string> {
  const name = mirror.slice(mirror.lastIndexOf('/') + 1);
  const target = join(srcdir, name);
  const staged = await mkdtemp(join(srcdir, '.rbee-svn-'));
  try {
    await cp(mirror, join(staged, name), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    if (signal?.aborted) throw abortError(signal);
    await rm(target, { recursive: true, force: true });
    await rename(join(staged, name), target);
    return target;
  } finally {
    await rm(staged, { recursive: true, force: true });
  }
}
