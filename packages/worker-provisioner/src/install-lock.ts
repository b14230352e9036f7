import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { abortError, ProvisionError } from './errors.js';
import { currentOwner, isOwnerAlive, isSelf, parseOwner, type ProcessOwner } from './process-owner.js';

/** A held lock; `release()` is idempotent. */
export interface HeldLock {
  readonly path: string;
  readonly owner: ProcessOwner;
  /** True when a dead owner's lock was taken over. */
  readonly recoveredStale: ProcessOwner | undefined;
  release(): Promise<void>;
}

export interface AcquireOptions {
  signal?: AbortSignal;
  /** Give up after this long with `E_LOCKED`. @default 600000 */
  timeoutMs?: number;
  /** Poll interval while another live process holds the lock. @default 100 */
  pollMs?: number;
  /** Called once when the lock is found held by a live owner (we wait for it). */
  onWait?: (owner: ProcessOwner) => void;
  /** Extra fields written into the lock file (job id, …). */
  info?: Record<string, string>;
}

/** A lock file being written right now (created, content not yet there) is given this long. */
const FRESH_EMPTY_MS = 5_000;

async function tryCreate(path: string, content: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return true;
}

/** Read the current holder: `'gone'` when there is no lock file, undefined owner when unreadable. */
async function readHolder(path: string): Promise<{ owner: ProcessOwner | undefined; text: string; mtimeMs: number } | 'gone'> {
  try {
    const [text, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { owner: parseOwner(text), text, mtimeMs: st.mtimeMs };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw e;
  }
}

/**
 * Take over a stale lock without ever deleting a live one: move it aside atomically, check that
 * what was moved is the stale content, and put it back (with `link`, which never overwrites)
 * when a racing process had replaced it meanwhile.
 */
async function removeStale(path: string, staleText: string): Promise<void> {
  const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const moved = await readFile(aside, 'utf8').catch(() => staleText);
  if (moved !== staleText) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

/**
 * Acquire the cross-process lock file at `path` (`locks/<pkgname>.lock`): created exclusively,
 * holding the owner's pid, start time and a per-process token. A lock whose owner is dead is
 * recovered; a live one is waited for (polling) until `timeoutMs`.
 */
export async function acquireLock(path: string, opts: AcquireOptions = {}): Promise<HeldLock> {
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const pollMs = opts.pollMs ?? 100;
  const started = Date.now();
  await mkdir(dirname(path), { recursive: true });
  const owner = currentOwner();
  const content = JSON.stringify({ ...owner, ...opts.info });
  let waited = false;
  let recoveredStale: ProcessOwner | undefined;
  for (;;) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    if (await tryCreate(path, content)) break;
    const holder = await readHolder(path);
    if (holder === 'gone') continue;
    if (holder.owner === undefined) {
      // half-written by a live creator, or garbage left by a crash between create and write
      if (Date.now() - holder.mtimeMs > FRESH_EMPTY_MS) {
        await removeStale(path, holder.text);
        continue;
      }
    } else if (!isOwnerAlive(holder.owner)) {
      recoveredStale = holder.owner;
      await removeStale(path, holder.text);
      continue;
    } else if (!waited) {
      waited = true;
      if (!isSelf(holder.owner)) opts.onWait?.(holder.owner);
    }
    if (Date.now() - started > timeoutMs) {
      const who = holder.owner ? `process ${holder.owner.pid}` : 'another process';
      throw new ProvisionError('E_LOCKED', `${path} is held by ${who} for longer than ${timeoutMs} ms`, {
        hint: 'Another install of this worker is running; wait for it, or remove the lock file if that process is gone.',
        details: { lockFile: path, ...(holder.owner ? { ownerPid: holder.owner.pid } : {}) },
      });
    }
    try {
      await sleep(pollMs, undefined, opts.signal ? { signal: opts.signal } : {});
    } catch {
      throw abortError(opts.signal);
    }
  }
  let released = false;
  return {
    path,
    owner,
    recoveredStale,
    async release() {
      if (released) return;
      released = true;
      const holder = await readHolder(path).catch(() => 'gone' as const);
      if (holder !== 'gone' && holder.text === content) await unlink(path).catch(() => undefined);
    },
  };
}

/** Try once, without waiting: the held lock, or undefined when a live owner has it. */
export async function tryAcquireLock(path: string, info?: Record<string, string>): Promise<HeldLock | undefined> {
  try {
    return await acquireLock(path, { timeoutMs: 0, pollMs: 0, ...(info ? { info } : {}) });
  } catch (e) {
    if (ProvisionError.isInstance(e) && e.code === 'E_LOCKED') return undefined;
    throw e;
  }
}
