import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExecutorError, inspectPkgbuild, runPkgbuild } from '../src/index.js';
import { buildDir, processesMatching, sandboxModes, tempDir, waitFor } from './helpers.js';

describe.each(sandboxModes)('cancellation (sandbox %s)', (sandbox) => {
  it('abort kills children, grandchildren, background jobs and setsid escapees, and rejects with AbortError', async () => {
    const b = buildDir('cancel-tree');
    const tag = String(randomInt(100000, 999999));
    const ac = new AbortController();
    let started = false;
    const p = runPkgbuild({
      ...b,
      startdir: b.dir,
      sandbox,
      env: { RBEE_TEST_TAG: tag },
      signal: ac.signal,
      killGraceMs: 2000,
      onLine: (l) => {
        if (l.line === 'started') started = true;
      },
    });
    const settled = p.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    expect(await waitFor(() => started, 20_000)).toBe(true);
    // four sleeps are running: nested subshell job, background job, setsid'd one, foreground
    expect(await waitFor(() => processesMatching(`.${tag}`).length === 4)).toBe(true);
    ac.abort();
    const e = await settled;
    expect((e as Error).name).toBe('AbortError');
    // everything is gone when the promise settles (a pid namespace is torn down by the kernel
    // right after bwrap dies, so allow it a moment)
    expect(await waitFor(() => processesMatching(`.${tag}`).length === 0, sandbox === 'bwrap' ? 2000 : 0)).toBe(true);
  });

  it('no background process outlives a successful build', async () => {
    const b = buildDir('leftover');
    const tag = String(randomInt(100000, 999999));
    const r = await runPkgbuild({ ...b, startdir: b.dir, sandbox, env: { RBEE_TEST_TAG: tag } });
    expect(r.durations['build']).toBeGreaterThan(0);
    expect(await waitFor(() => processesMatching(`.${tag}`).length === 0, sandbox === 'bwrap' ? 2000 : 0)).toBe(true);
  });

  it('an already aborted signal rejects without starting anything', async () => {
    const b = buildDir('cancel-tree');
    const ac = new AbortController();
    ac.abort();
    await expect(runPkgbuild({ ...b, startdir: b.dir, sandbox, signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('inspect timeouts and cancellation', () => {
  it('E_TIMEOUT when the top level hangs, and the hanging process is killed', async () => {
    const dir = tempDir('rbee-inspect-hang-');
    const tag = String(randomInt(100000, 999999));
    writeFileSync(join(dir, 'PKGBUILD'), `pkgname=hang\npkgver=1\npkgrel=1\narch=(any)\nsleep 60.${tag}\n`);
    const e = await inspectPkgbuild(join(dir, 'PKGBUILD'), { sandbox: 'none', timeoutMs: 700 }).catch((x: unknown) => x);
    expect(ExecutorError.isInstance(e) && e.code).toBe('E_TIMEOUT');
    expect(processesMatching(`.${tag}`)).toEqual([]);
  });

  it('abort rejects inspectPkgbuild with AbortError', async () => {
    const dir = tempDir('rbee-inspect-abort-');
    writeFileSync(join(dir, 'PKGBUILD'), 'pkgname=hang\npkgver=1\npkgrel=1\narch=(any)\nsleep 60\n');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    await expect(inspectPkgbuild(join(dir, 'PKGBUILD'), { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
