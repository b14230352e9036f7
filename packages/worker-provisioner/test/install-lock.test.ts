import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, tryAcquireLock } from '../src/install-lock.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rbee-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

describe('install lock', () => {
  it('records the owner and is released', async () => {
    const path = join(dir, 'w.lock');
    const lock = await acquireLock(path);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid });
    expect(await tryAcquireLock(path)).toBeUndefined();
    await lock.release();
    const again = await tryAcquireLock(path);
    expect(again).toBeDefined();
    await again?.release();
  });

  it('recovers a stale lock whose owner pid is dead', async () => {
    const path = join(dir, 'w.lock');
    const pid = deadPid();
    await writeFile(path, JSON.stringify({ pid, token: 'x', hostname: hostname(), since: 1 }));
    const lock = await acquireLock(path, { timeoutMs: 2000 });
    expect(lock.recoveredStale?.pid).toBe(pid);
    expect(JSON.parse(await readFile(path, 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('waits for a live owner in another process, and times out with E_LOCKED', async () => {
    const path = join(dir, 'w.lock');
    const child = spawn('sleep', ['30']);
    try {
      await writeFile(path, JSON.stringify({ pid: child.pid, token: 'x', hostname: hostname(), since: 1 }));
      let waitedFor = 0;
      await expect(acquireLock(path, { timeoutMs: 300, pollMs: 20, onWait: (o) => (waitedFor = o.pid) })).rejects.toMatchObject({
        code: 'E_LOCKED',
      });
      expect(waitedFor).toBe(child.pid);
      // the owner goes away: the waiter gets the lock
      const pending = acquireLock(path, { timeoutMs: 10_000, pollMs: 20 });
      child.kill('SIGKILL');
      const lock = await pending;
      expect(lock.recoveredStale?.pid).toBe(child.pid);
      await lock.release();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('cancels a wait with an AbortError', async () => {
    const path = join(dir, 'w.lock');
    const held = await acquireLock(path);
    const ac = new AbortController();
    const p = acquireLock(path, { signal: ac.signal, pollMs: 20 });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    await held.release();
  });
});
