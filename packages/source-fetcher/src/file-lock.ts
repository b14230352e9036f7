/**
 * A per-file lock (`<path>.lock`, created with O_EXCL, holding the owner's pid) so that two
 * processes sharing `srcdest` never download or rename the same file at once.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { FetchError, throwIfAborted } from './errors.js';
import { sleep } from './sleep.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock for `path`, waiting while a live process holds it; a lock whose pid is gone is
 * taken over. Resolves with a release function.
 */
export async function acquireLock(path: string, options: { signal?: AbortSignal; timeout?: number } = {}): Promise<() => Promise<void>> {
  const lockPath = `${path}.lock`;
  const deadline = Date.now() + (options.timeout ?? 30 * 60_000);
  let wait = 20;
  for (;;) {
    throwIfAborted(options.signal);
    try {
      const fh = await open(lockPath, 'wx', 0o644);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await unlink(lockPath).catch(() => undefined);
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new FetchError('E_IO', `Cannot create lock ${lockPath}: ${(e as Error).message}`, { cause: e, path: lockPath });
      }
    }
    const text = await readFile(lockPath, 'utf8').catch(() => '');
    const pid = Number.parseInt(text, 10);
    if (text !== '' && Number.isInteger(pid) && pid > 0 && !alive(pid)) {
      // The holder died: remove its lock (a racing process may do the same; O_EXCL decides who wins).
      await unlink(lockPath).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) {
      throw new FetchError('E_LOCKED', `${lockPath} is held by process ${text.trim() || '?'}: another download of this file is running; wait for it or remove the lock if that process is gone`, { path: lockPath });
    }
    await sleep(wait, options.signal);
    wait = Math.min(wait * 2, 250);
  }
}
