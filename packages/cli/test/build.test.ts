// `rbee-worker build <dir>`: a local PKGBUILD built and installed; build failure; bad PKGBUILD;
// a real SIGINT while build() runs.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isProvisionEvent, type ProvisionEvent } from '@rbee/worker-provisioner';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanup, collect, fixtures, ndjson, processesWith, runCli, spawnCli, tempDir } from './cli-harness.js';

let home: string;
beforeAll(assertBuilt);
afterEach(() => {
  if (home) cleanup(home);
});

describe('rbee-worker build', () => {
  it('builds and installs a local PKGBUILD directory (plain lines, build log prefixed with its phase)', async () => {
    home = tempDir('build-ok');
    const r = await runCli(['build', join(fixtures, 'build-ok'), '--home', home]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('==> build\n');
    expect(r.stderr).toContain('build | compiling tiny-worker\n');
    expect(r.stdout).toMatch(new RegExp(`^✔ built and installed tiny-worker-rbee 1\\.2\\.3-1 \\(\\w+\\) → ${home}/workers/tiny-worker-rbee/1\\.2\\.3-1/usr/bin/tiny-worker-rbee in `));
    const list = JSON.parse((await runCli(['list', '--json', '--home', home])).stdout) as Array<{ id: string }>;
    expect(list.map((w) => w.id)).toEqual(['tiny-worker-rbee']);
  });

  it('build failure → the error, the hint, the last 30 log lines and the log path; exit 1; nothing installed', async () => {
    home = tempDir('build-fails');
    const r = await runCli(['build', join(fixtures, 'build-fails'), '--home', home]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/✖ error E_FUNCTION_FAILED build\(\) .*status 3/);
    expect(r.stderr).toContain('  hint: ');
    const tail = r.stderr.split('\n').filter((l) => l.startsWith('  │ '));
    expect(tail).toHaveLength(30);
    expect(tail.at(-1)).toBe('  │ error: missing header foo.h');
    expect(tail[0]).toBe('  │ compile step 12');
    const logLine = r.stderr.split('\n').find((l) => l.startsWith('  full log: '));
    expect(logLine).toBeDefined();
    expect(existsSync(logLine!.slice('  full log: '.length))).toBe(true);
    expect(existsSync(join(home, 'workers', 'failing-worker-rbee'))).toBe(false);
  });

  it('build failure with --json: NDJSON events ending in the error event, exit 1', async () => {
    home = tempDir('build-fails-json');
    const r = await runCli(['build', join(fixtures, 'build-fails'), '--home', home, '--json']);
    expect(r.code).toBe(1);
    const events = ndjson(r.stdout);
    for (const e of events) expect(isProvisionEvent(e)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'error', error: { code: 'E_FUNCTION_FAILED' } });
    expect(events.filter((e) => (e as ProvisionEvent).type === 'log')).toHaveLength(41);
  });

  it('a PKGBUILD bash cannot read → E_PKGBUILD_SOURCE with the bash error, exit 1', async () => {
    home = tempDir('bad-syntax');
    const r = await runCli(['build', join(fixtures, 'bad-syntax'), '--home', home]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('✖ error E_PKGBUILD_SOURCE');
    expect(r.stderr).toContain('syntax error');
    expect(existsSync(join(home, 'workers', 'broken-worker-rbee'))).toBe(false);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('a real %s while build() runs: exit %i, no build process left, nothing installed', async (signal, exitCode) => {
    home = tempDir('sigint');
    const child = spawnCli(['build', join(fixtures, 'build-sleeps'), '--home', home, '--json']);
    const done = collect(child);
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer | string) => {
        buffered += String(d);
        if (buffered.includes('"line":"READY"')) resolve();
      });
      child.on('close', () => reject(new Error(`the CLI exited before build() started:\n${buffered}`)));
    });
    // READY follows the fork of `sleep`, which may not have exec'd yet: wait (bounded) to see it
    for (let i = 0; i < 100 && processesWith('31.4159').length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(processesWith('31.4159').length).toBeGreaterThan(0);
    child.kill(signal);
    const r = await done;
    expect(r.code).toBe(exitCode);
    expect(processesWith('31.4159')).toEqual([]);
    const events = ndjson(r.stdout);
    for (const e of events) expect(isProvisionEvent(e)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'error', error: { code: 'ABORT_ERR' } });
    expect(r.stderr).toContain('cancelled: nothing was installed');
    expect(existsSync(join(home, 'workers', 'sleepy-worker-rbee'))).toBe(false);
    const builds = existsSync(join(home, 'builds')) ? readdirSync(join(home, 'builds')) : [];
    expect(builds).toEqual([]);
    expect(JSON.parse((await runCli(['list', '--json', '--home', home])).stdout)).toEqual([]);
  });
});
