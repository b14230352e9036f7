/**
 * git sources as makepkg's source/git.sh handles them: a bare mirror in `srcdest` (cloned once,
 * then `fetch --all -p`), and a shared clone into `srcdir` checked out on branch `makepkg`.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { FetchError, abortError, throwIfAborted } from './errors.js';
import { acquireLock } from './file-lock.js';
import type { SourceEntry } from '@rbee/pkgbuild-parser';
import { assertNotOption, hasTool, isNonEmptyDir } from './vcs-common.js';

/** The URL git is given: the entry's `remote` (`git+` prefix, `#fragment` and `?query` removed, as makepkg). */
export function gitUrl(entry: SourceEntry): string {
  return entry.remote;
}

const PASSED_ENV = /^(PATH|HOME|USER|LOGNAME|LANG|LC_[A-Z]+|TMPDIR|TZ|GNUPGHOME|SSH_AUTH_SOCK|https?_proxy|HTTPS?_PROXY|no_proxy|NO_PROXY|all_proxy|ALL_PROXY|GIT_SSL_CAINFO|GIT_SSL_CAPATH|XDG_CONFIG_HOME)$/;
const GIT_ALLOWED = ['GIT_TERMINAL_PROMPT', 'GIT_SSL_CAINFO', 'GIT_SSL_CAPATH', 'GIT_CONFIG_GLOBAL'];

function quoteConfig(v: string): string {
  if (/[\n\0]/.test(v)) throw new FetchError('E_INVALID_SOURCE', `Path ${JSON.stringify(v)} cannot be used with git`, { path: v });
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * git commands for one source. Every command gets `-c safe.directory=<mirror/workdir>` and, for
 * the local-transport child git spawns (upload-pack, which drops `-c` settings), a private
 * `GIT_CONFIG_GLOBAL` that includes the user's own global config and adds the same
 * `safe.directory` entries. The user's config files are never modified.
 */
class GitSession {
  private constructor(
    private readonly dir: string,
    private readonly safeDirs: string[],
    private readonly env: Record<string, string>,
    private readonly signal?: AbortSignal,
  ) {}
  static async open(safeDirs: string[], signal?: AbortSignal): Promise<GitSession> {
    const dir = await mkdtemp(join(tmpdir(), 'rbee-gitcfg-'));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && PASSED_ENV.test(k)) env[k] = v;
    env.GIT_TERMINAL_PROMPT = '0';
    const includes = [process.env.GIT_CONFIG_GLOBAL, join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'git', 'config'), join(homedir(), '.gitconfig')].filter(
      (p): p is string => !!p && p !== '/dev/null' && existsSync(p),
    );
    const lines = [...includes.map((p) => `[include]\n\tpath = ${quoteConfig(p)}`), '[safe]', ...safeDirs.map((d) => `\tdirectory = ${quoteConfig(d)}`)];
    const cfg = join(dir, 'config');
    await writeFile(cfg, `${lines.join('\n')}\n`, { mode: 0o600 });
    env.GIT_CONFIG_GLOBAL = cfg;
    return new GitSession(dir, safeDirs, env, signal);
  }
  git(baseDir: string): SimpleGit {
    return simpleGit({
      baseDir,
      config: this.safeDirs.map((d) => `safe.directory=${d}`),
      allowEnvironment: GIT_ALLOWED,
      // Only for our own GIT_CONFIG_GLOBAL file above; nothing from a source string reaches git's config.
      unsafe: { allowUnsafeConfigPaths: true },
      ...(this.signal ? { abort: this.signal } : {}),
    }).env(this.env);
  }
  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

function gitError(e: unknown, what: string, entry: SourceEntry, signal?: AbortSignal): Error {
  if (signal?.aborted) return abortError(signal);
  if (FetchError.isInstance(e)) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new FetchError('E_GIT_FAILED', `${what} for ${entry.filename} failed: ${msg.trim().split('\n').slice(-3).join(' | ')}`, { cause: e, source: entry.raw, stderr: msg });
}

/** Validates what makepkg would reject and what must never reach git as an option. */
export function checkGitEntry(entry: SourceEntry): void {
  const url = gitUrl(entry);
  assertNotOption(url, 'URL', entry.raw);
  if (entry.fragment) {
    if (!['commit', 'tag', 'branch'].includes(entry.fragment.type)) {
      throw new FetchError('E_INVALID_SOURCE', `Unrecognized reference "${entry.fragment.type}=${entry.fragment.value}" in ${entry.raw}: git sources accept #branch=, #tag= or #commit=`, { source: entry.raw });
    }
    assertNotOption(entry.fragment.value, 'reference', entry.raw);
    if (entry.fragment.value === '') throw new FetchError('E_INVALID_SOURCE', `Empty reference in ${entry.raw}`, { source: entry.raw });
  }
}

/** Options for {@link downloadGit}. */
export interface GitDownloadOptions {
  /** Directory holding the mirror (`srcdest/<name>`, or `startdir/<name>` when that exists). */
  mirror: string;
  signal?: AbortSignal;
  /** Receives non-fatal problems (a failed update of an existing mirror, as makepkg only warns). */
  onWarning?: (message: string) => void;
}

/** Clones (`--mirror`) or updates (`fetch --all -p`) the bare mirror of a git source. */
export async function downloadGit(entry: SourceEntry, opts: GitDownloadOptions): Promise<void> {
  checkGitEntry(entry);
  const url = gitUrl(entry);
  const { mirror, signal } = opts;
  const release = await acquireLock(mirror, { signal });
  const session = await GitSession.open([mirror], signal);
  try {
    if (!(await isNonEmptyDir(mirror))) {
      await rm(mirror, { recursive: true, force: true });
      // Clone next to the final place and rename, so a killed clone never looks like a mirror.
      const tmp = await mkdtemp(`${mirror}.partial-`);
      try {
        await session.git(dirname(mirror)).clone(url, tmp, ['--mirror', '--origin=origin']);
        throwIfAborted(signal);
        await rename(tmp, mirror);
      } catch (e) {
        throw gitError(e, `Cloning ${url}`, entry, signal);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
      return;
    }
    const g = session.git(mirror);
    let origin = '';
    try {
      origin = (await g.raw(['config', '--get', 'remote.origin.url'])).trim();
    } catch (e) {
      throw gitError(e, `Reading remote.origin.url of ${mirror}`, entry, signal);
    }
    if (origin !== url && origin.replace(/\.git\/?$/, '') !== url.replace(/\.git\/?$/, '')) {
      throw new FetchError('E_GIT_NOT_A_CLONE', `${mirror} is not a clone of ${url} (it tracks ${origin}): remove it or give the source another name (name::git+…)`, { path: mirror, source: entry.raw });
    }
    try {
      await g.raw(['fetch', '--all', '-p']);
    } catch (e) {
      if (signal?.aborted) throw abortError(signal);
      // makepkg only warns here, so builds work offline with an existing mirror.
      opts.onWarning?.(`Failure while updating ${entry.filename} git repo: ${(e as Error).message.trim()}`);
    }
  } finally {
    await session.close();
    await release();
  }
}

function gitRef(entry: SourceEntry): string {
  if (!entry.fragment) return 'origin/HEAD';
  return entry.fragment.type === 'branch' ? `origin/${entry.fragment.value}` : entry.fragment.value;
}

/**
 * `?signed`: verifies the tag (`#tag=`) or commit with git's gpg support, in the mirror.
 * Without gpg installed: `E_SIGNATURE_UNVERIFIABLE`.
 */
export async function verifyGitSignature(entry: SourceEntry, mirror: string, signal?: AbortSignal): Promise<void> {
  if (!hasTool('gpg')) {
    throw new FetchError('E_SIGNATURE_UNVERIFIABLE', `${entry.raw} asks for a signed ${entry.fragment?.type === 'tag' ? 'tag' : 'commit'} but gpg is not installed: install gnupg or drop ?signed`, { source: entry.raw });
  }
  const session = await GitSession.open([mirror], signal);
  const g = session.git(mirror);
  const ref = entry.fragment ? entry.fragment.value : 'HEAD';
  const args = entry.fragment?.type === 'tag' ? ['verify-tag', '--raw', ref] : ['verify-commit', '--raw', entry.fragment?.type === 'branch' ? ref : ref];
  try {
    const out = await g.raw(args);
    void out;
  } catch (e) {
    if (signal?.aborted) throw abortError(signal);
    const msg = (e as Error).message;
    if (!/NEWSIG/.test(msg) || /BADSIG|ERRSIG|REVKEYSIG/.test(msg)) {
      throw new FetchError('E_SIGNATURE_INVALID', `The PGP signature of ${ref} in ${entry.filename} could not be verified: ${msg.trim().split('\n').slice(-2).join(' | ')}`, { source: entry.raw, cause: e });
    }
  } finally {
    await session.close();
  }
}

/**
 * Creates or updates the working copy `srcdir/<name>` from the mirror and checks out the
 * fragment's ref on branch `makepkg` (makepkg's `extract_git`).
 */
export async function extractGit(entry: SourceEntry, mirror: string, srcdir: string, signal?: AbortSignal): Promise<string> {
  checkGitEntry(entry);
  const name = mirror.slice(mirror.lastIndexOf('/') + 1);
  const target = join(srcdir, name);
  const ref = gitRef(entry);
  const updating = await isNonEmptyDir(target);
  let work = target;
  let staged: string | undefined;
  let session: GitSession | undefined;
  try {
    if (!updating) {
      staged = await mkdtemp(join(srcdir, '.rbee-git-'));
      work = join(staged, name);
    }
    session = await GitSession.open([mirror, work], signal);
    if (updating) {
      await session.git(target).raw(['fetch']);
    } else {
      await session.git(staged as string).clone(mirror, work, ['-s']);
    }
    const g = session.git(work);
    if (entry.fragment?.type === 'tag') {
      const tagname = (await g.raw(['tag', '-l', '--format=%(tag)', ref])).trim();
      if (tagname && tagname !== ref) {
        throw new FetchError('E_GIT_TAG_FORGED', `Failure while checking out version ${ref} of ${entry.filename}: the git tag has been forged (tag object names ${tagname})`, { source: entry.raw });
      }
    }
    let sha = '';
    try {
      sha = (await g.raw(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).trim();
    } catch {
      if (signal?.aborted) throw abortError(signal);
    }
    // simple-git resolves a failing command that printed nothing, so check the output itself.
    if (!/^[0-9a-f]{40,64}$/.test(sha)) {
      throw new FetchError('E_GIT_REF_NOT_FOUND', `${entry.fragment ? `${entry.fragment.type} "${entry.fragment.value}"` : 'The default branch'} does not exist in ${gitUrl(entry)} (${entry.filename}): check the #fragment in the PKGBUILD`, { source: entry.raw });
    }
    if (ref !== 'origin/HEAD' || updating) {
      await g.raw(['checkout', '--force', '--no-track', '-B', 'makepkg', ref, '--']);
    }
    if (staged) {
      await rm(target, { recursive: true, force: true });
      await rename(work, target);
    }
    return target;
  } catch (e) {
    throw gitError(e, `Creating the working copy`, entry, signal);
  } finally {
    await session?.close();
    if (staged) await rm(staged, { recursive: true, force: true });
  }
}
