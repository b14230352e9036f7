/**
 * End to end: the real reference catalog server on loopback serving a copy of the example
 * catalog (plus the test workers of test/fixtures), a loopback file server for http sources,
 * real bash/bwrap/fakeroot builds, a real workers home in a temp dir.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchSources, SCAN_VERSION } from '@rbee/source-fetcher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProvisionEvent, ProvisionError, WorkerProvisioner, type ProvisionEvent, type WorkerProvisionerOptions } from '../src/index.js';
import {
  addWorker,
  ensureExampleArchives,
  makePayloadArchive,
  pidsMatching,
  startCatalog,
  startFileServer,
  tempDir,
  writeFixture,
  type FileServer,
  type TestCatalog,
} from './helpers.js';

let catalog: TestCatalog;
let files: FileServer;
let filesDir: string;
const homes: string[] = [];

beforeAll(async () => {
  ensureExampleArchives();
  filesDir = await tempDir('rbee-files-');
  files = await startFileServer(filesDir);
  const sha = await makePayloadArchive(join(filesDir, 'payload-1.0.0.tar.gz'), 'test-http-bin', 1024 * 1024);
  catalog = await startCatalog(async (dir) => {
    await addWorker(dir, 'http-bin', { replace: { '@FILES@': files.url, '@SHA256@': sha } });
    for (const f of ['fail-build', 'sleepy-build', 'bad-lint', 'no-exec', 'plain-sh']) await addWorker(dir, f);
  });
});

afterAll(async () => {
  await catalog?.close();
  await files?.close();
  await rm(filesDir, { recursive: true, force: true });
  for (const h of homes) await rm(h, { recursive: true, force: true });
});

async function newProvisioner(extra: Partial<WorkerProvisionerOptions> = {}, home?: string, catalogUrl?: string): Promise<WorkerProvisioner> {
  const dir = home ?? (await tempDir('rbee-home-'));
  if (!home) homes.push(dir);
  return new WorkerProvisioner({
    home: dir,
    catalog: { url: catalogUrl ?? catalog.url, cacheDir: false },
    detectBackend: () => 'cpu',
    ...extra,
  });
}

/** Run `fn` collecting the events; returns them with the outcome. */
async function collect<T>(fn: (onEvent: (e: ProvisionEvent) => void) => Promise<T>): Promise<{ events: ProvisionEvent[]; result?: T; error?: unknown }> {
  const events: ProvisionEvent[] = [];
  try {
    const result = await fn((e) => events.push(e));
    return { events, result };
  } catch (error) {
    return { events, error };
  }
}

function phases(events: ProvisionEvent[]): string[] {
  return events.filter((e) => e.type === 'phase').map((e) => `${(e as { phase: string }).phase}:${(e as { status: string }).status}`);
}

/** What is left in builds/ once the provisioner's background clean-up is done. */
async function buildsLeft(p: WorkerProvisioner): Promise<string[]> {
  await p.close();
  return readdir(join(p.home, 'builds')).catch(() => []);
}

function expectWellFormed(events: ProvisionEvent[]): void {
  expect(events.length).toBeGreaterThan(0);
  expect(events.every(isProvisionEvent)).toBe(true);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(new Set(events.map((e) => e.jobId)).size).toBe(1);
  const terminal = events.filter((e) => e.type === 'done' || e.type === 'error');
  expect(terminal).toHaveLength(1);
  expect(events.at(-1)).toBe(terminal[0]);
  // JSON round trip: nothing but plain data
  expect(JSON.parse(JSON.stringify(events))).toEqual(events);
}

describe('provision from the example catalog', () => {
  it('installs the prebuilt worker: events, layout, manifest, executable; then the fast path', async () => {
    const p = await newProvisioner();
    const { events, result, error } = await collect((onEvent) => p.provision('demo-worker-rbee-bin', { onEvent, jobId: 'job-bin-1' }));
    expect(error).toBeUndefined();
    expectWellFormed(events);
    expect(phases(events)).toEqual([
      'resolve:start', 'resolve:done', 'fetch:start', 'fetch:done', 'verify:start', 'verify:done', 'extract:start', 'extract:done',
      'prepare:skipped', 'pkgver:skipped', 'build:skipped', 'check:skipped', 'package:start', 'package:done', 'install:start', 'install:done',
    ]);
    const w = result!;
    expect(events.at(-1)).toMatchObject({ type: 'done', worker: w, jobId: 'job-bin-1' });
    expect(w).toMatchObject({
      id: 'demo-worker-rbee-bin', workerType: 'cpu', platform: 'linux', status: 'installed', version: '0.1.0-1',
      supportedFormats: ['gguf'], maxContextLength: 4096, supportsStreaming: false, supportsBatching: false, catalogId: 'demo-worker-rbee-bin', current: true,
    });
    expect(w.path).toBe(join(p.home, 'workers/demo-worker-rbee-bin/0.1.0-1/usr/bin/demo-worker-rbee'));
    expect(spawnSync(w.path, ['--version'], { encoding: 'utf8' }).stdout.trim()).toBe('demo-worker-rbee 0.1.0');
    const manifest = JSON.parse(await readFile(join(p.home, 'workers/demo-worker-rbee-bin/0.1.0-1/.rbee-worker.json'), 'utf8'));
    expect(manifest.files.map((f: { path: string }) => f.path)).toContain('usr/bin/demo-worker-rbee');
    expect(manifest).toMatchObject({ pkgname: 'demo-worker-rbee-bin', catalogEntry: { id: 'demo-worker-rbee-bin' }, variant: { backend: 'cpu' } });
    expect(manifest.pkgbuildSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await readFile(manifest.buildLog, 'utf8')).toBeTypeOf('string');
    // the job's build dir left builds/ before the answer; what is being deleted is set aside
    expect((await readdir(join(p.home, 'builds'))).filter((n) => !n.startsWith('.discard-'))).toEqual([]);
    expect(await buildsLeft(p)).toEqual([]);
    expect(await p.list()).toEqual([w]);
    expect(await p.get('demo-worker-rbee-bin')).toEqual(w);
    expect((await p.verify('demo-worker-rbee-bin')).ok).toBe(true);
    expect(await p.supports('demo-worker-rbee-bin')).toBe(true);

    // same version again: no rebuild, the same record
    const again = await collect((onEvent) => p.provision('demo-worker-rbee-bin', { onEvent }));
    expect(again.result).toEqual(w);
    expect(again.events.at(-1)).toMatchObject({ type: 'done', alreadyInstalled: true });
    expect(phases(again.events)).toEqual(['resolve:start', 'resolve:done']);
    // a fresh instance (a new process) takes the same fast path
    const p2 = await newProvisioner({}, p.home);
    const third = await collect((onEvent) => p2.provision('demo-worker-rbee-bin', { onEvent }));
    expect(third.events.at(-1)).toMatchObject({ type: 'done', alreadyInstalled: true });
  });

  it('builds the source worker (fromSource picks the git flavor): build and check run, logs stream', async () => {
    const p = await newProvisioner();
    const { events, result, error } = await collect((onEvent) => p.provision('demo-worker-rbee-bin', { onEvent, fromSource: true }));
    expect(error).toBeUndefined();
    expectWellFormed(events);
    expect(result).toMatchObject({ id: 'demo-worker-rbee', version: '0.1.0-1' });
    // makepkg's order, the missing steps reported as skipped where they would have run, each
    // function's phase closed when it returns (not when the next one prints)
    expect(phases(events).filter((x) => /^(prepare|pkgver|build|check|package|install):/.test(x))).toEqual([
      'prepare:skipped', 'pkgver:skipped', 'build:start', 'build:done', 'check:start', 'check:done',
      'package:start', 'package:done', 'install:start', 'install:done',
    ]);
    expect(events.some((e) => e.type === 'log' && e.phase === 'build')).toBe(true);
    expect(spawnSync(result!.path, ['--version'], { encoding: 'utf8' }).stdout.trim()).toBe('demo-worker-rbee 0.1.0');
  });

  it('installs the worker whose PKGBUILD needs bash at the top level (inspected in the sandbox)', async () => {
    const p = await newProvisioner();
    const w = await p.provision('demo-worker-rbee-dyn');
    expect(w).toMatchObject({ id: 'demo-worker-rbee-dyn', version: '0.1.0-1', status: 'installed' });
    expect(spawnSync(w.path, ['--version'], { encoding: 'utf8' }).stdout.trim()).toBe('demo-worker-rbee 0.1.0');
  });
});

describe('SSE', () => {
  it('the README\'s hive wiring: provisionEvents over text/event-stream, id = seq, ending with done', async () => {
    const p = await newProvisioner();
    const { createServer } = await import('node:http');
    const server = createServer(async (req, res) => {
      const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? '';
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const job = new AbortController();
      res.on('close', () => {
        if (!res.writableEnded) job.abort();
      });
      for await (const e of p.provisionEvents(id, { signal: job.signal })) {
        res.write(`event: ${e.type}\nid: ${e.seq}\ndata: ${JSON.stringify(e)}\n\n`);
      }
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as import('node:net').AddressInfo).port;
      const body = await (await fetch(`http://127.0.0.1:${port}/?id=demo-worker-rbee-bin`)).text();
      const frames = body.split('\n\n').filter(Boolean).map((f) => Object.fromEntries(f.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)])));
      const events = frames.map((f) => JSON.parse(f.data as string) as ProvisionEvent);
      expectWellFormed(events);
      expect(frames.map((f) => Number(f.id))).toEqual(events.map((e) => e.seq));
      expect(frames.map((f) => f.event)).toEqual(events.map((e) => e.type));
      expect(events.at(-1)?.type).toBe('done');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('bad inputs', () => {
  it('unknown worker: E_WORKER_NOT_FOUND, also as the error event', async () => {
    const p = await newProvisioner();
    const { events, error } = await collect((onEvent) => p.provision('no-such-worker', { onEvent }));
    expect(ProvisionError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'E_WORKER_NOT_FOUND' });
    expectWellFormed(events);
    expect(events.at(-1)).toMatchObject({ type: 'error', error: { code: 'E_WORKER_NOT_FOUND' } });
    expect(await p.supports('no-such-worker')).toBe(false);
    expect(await buildsLeft(p)).toEqual([]);
    await expect(p.provision('../../etc/passwd')).rejects.toMatchObject({ code: 'E_INVALID_WORKER_ID' });
    await expect(p.provision('demo-worker-rbee-bin', { jobId: '../escape' })).rejects.toMatchObject({ code: 'E_INVALID_OPTIONS' });
  });

  it('backend: a detected GPU falls back to the cpu variant with a warning; a -<backend> suffix names it explicitly', async () => {
    const p = await newProvisioner({ detectBackend: () => 'cuda' });
    const { events, result } = await collect((onEvent) => p.provision('demo-worker-rbee-bin', { onEvent }));
    expect(result).toMatchObject({ workerType: 'cpu' });
    expect(events.some((e) => e.type === 'warning' && e.code === 'W_BACKEND_FALLBACK')).toBe(true);
    const viaSuffix = await collect((onEvent) => p.provision('demo-worker-rbee-bin-cpu', { onEvent }));
    expect(viaSuffix.result).toEqual(result);
    expect(viaSuffix.events.at(-1)).toMatchObject({ type: 'done', alreadyInstalled: true });
    expect(await p.get('demo-worker-rbee-bin')).toEqual(result);
  });

  it('incompatible platform: E_PLATFORM_INCOMPATIBLE says what the worker supports and what this machine is', async () => {
    const p = await newProvisioner();
    const gpu = await collect((onEvent) => p.provision('demo-worker-rbee-gpu', { onEvent }));
    expect(gpu.error).toMatchObject({ code: 'E_PLATFORM_INCOMPATIBLE', jobId: gpu.events[0]?.jobId, phase: 'resolve' });
    expect((gpu.error as ProvisionError).details?.machine).toMatchObject({ platform: 'linux', backend: 'cpu' });
    const msg = (gpu.error as Error).message;
    expect(msg).toContain('cuda');
    expect(msg).toContain('metal');
    expect(msg).toMatch(/linux\/x86_64|linux\/aarch64/);
    expect(gpu.events.at(-1)).toMatchObject({ type: 'error', error: { code: 'E_PLATFORM_INCOMPATIBLE' } });
    const win = await newProvisioner({ platform: 'windows' });
    await expect(win.provision('demo-worker-rbee-bin')).rejects.toMatchObject({ code: 'E_PLATFORM_INCOMPATIBLE', message: expect.stringContaining('windows') });
    expect(await win.supports('demo-worker-rbee-bin')).toBe(false);
  });

  it('PKGBUILD lint errors stop the install before anything runs: E_PKGBUILD_INVALID with the diagnostics', async () => {
    const p = await newProvisioner();
    const { events, error } = await collect((onEvent) => p.provision('test-bad-lint', { onEvent }));
    expect(error).toMatchObject({ code: 'E_PKGBUILD_INVALID' });
    const diags = (error as ProvisionError).details?.diagnostics as { code: string; range: { start: { line: number } } }[];
    expect(diags.map((d) => d.code)).toContain('lint_pkgver');
    expect(phases(events)).not.toContain('fetch:start');
    expect(await p.list()).toEqual([]);
  });

  it('checksum mismatch (broken checksum in a copy of the example catalog): E_CHECKSUM_MISMATCH, nothing installed', async () => {
    const broken = await startCatalog(async (dir) => {
      const f = join(dir, 'workers/demo-worker-rbee-bin/cpu/PKGBUILD');
      const text = await readFile(f, 'utf8');
      await writeFile(f, text.replace(/sha256sums_x86_64=\('[0-9a-f]+'\)/, `sha256sums_x86_64=('${'0'.repeat(64)}')`).replace(/sha256sums_aarch64=\('[0-9a-f]+'\)/, `sha256sums_aarch64=('${'0'.repeat(64)}')`));
    });
    try {
      const p = await newProvisioner({}, undefined, broken.url);
      const { events, error } = await collect((onEvent) => p.provision('demo-worker-rbee-bin', { onEvent }));
      expect(error).toMatchObject({ code: 'E_CHECKSUM_MISMATCH' });
      expect((error as ProvisionError).hint).toMatch(/corrupt|stale/);
      expect(events.at(-1)).toMatchObject({ type: 'error', error: { code: 'E_CHECKSUM_MISMATCH' } });
      expect(await p.list()).toEqual([]);
    } finally {
      await broken.close();
    }
  });

  it('build failure: E_FUNCTION_FAILED with the log tail and the kept log file', async () => {
    const p = await newProvisioner();
    const { events, error } = await collect((onEvent) => p.provision('test-fail-build', { onEvent, jobId: 'failing-job' }));
    expect(error).toMatchObject({ code: 'E_FUNCTION_FAILED', jobId: 'failing-job' });
    const e = error as ProvisionError;
    expect(e.logTail?.join('\n')).toContain('error: part 2 does not compile');
    expect(e.logFile).toBe(join(p.home, 'builds/failing-job/log'));
    expect(await readFile(e.logFile!, 'utf8')).toContain('compiling part 1');
    expect(e.hint).toContain(e.logFile!);
    expect(events.at(-1)).toMatchObject({ type: 'error', error: { code: 'E_FUNCTION_FAILED', logFile: e.logFile, logTail: e.logTail } });
    expect(phases(events)).toContain('build:failed');
    expect(await buildsLeft(p)).toEqual(['failing-job']);
    expect(await p.list()).toEqual([]);
  });

  it('a package without an executable: E_NO_EXECUTABLE', async () => {
    const p = await newProvisioner();
    await expect(p.provision('test-no-exec')).rejects.toMatchObject({ code: 'E_NO_EXECUTABLE' });
    expect(await p.list()).toEqual([]);
  });
});

describe('cancellation', () => {
  it('during the download: AbortError, staging removed, nothing installed', async () => {
    const p = await newProvisioner();
    const ac = new AbortController();
    files.stallAfterBytes = 64 * 1024;
    const requestsBefore = files.requests.length;
    try {
      const { events, error } = await collect((onEvent) =>
        p.provision('test-http-bin', {
          signal: ac.signal,
          onEvent: (e) => {
            onEvent(e);
            // the download has started and the server stalls after 64 KiB: cancel it mid-body
            if (e.type === 'progress' && e.phase === 'fetch') setTimeout(() => ac.abort(), 200);
          },
        }),
      );
      expect(error).toMatchObject({ name: 'AbortError' });
      expect(files.requests.length).toBe(requestsBefore + 1);
      expect(events.at(-1)).toMatchObject({ type: 'error', error: { code: 'ABORT_ERR' } });
      expect(phases(events)).toContain('fetch:failed');
    } finally {
      files.stallAfterBytes = undefined;
    }
    expect(await buildsLeft(p)).toEqual([]);
    expect(await p.list()).toEqual([]);
  });

  it('during the build: AbortError, no build process survives, the previous version untouched', async () => {
    const p = await newProvisioner();
    const before = await p.provision('test-sleepy-build');
    const slow = await newProvisioner({ buildEnv: { RBEE_TEST_SLOW: '977' } }, p.home);
    const ac = new AbortController();
    const { error } = await collect(() =>
      slow.provision('test-sleepy-build', {
        force: true,
        signal: ac.signal,
        onEvent: (e) => {
          if (e.type === 'log' && e.line === 'build started') setTimeout(() => ac.abort(), 100);
        },
      }),
    );
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(pidsMatching('sleep 977')).toEqual([]);
    expect(await buildsLeft(p)).toEqual([]);
    expect(await p.list()).toEqual([before]);
    expect((await p.verify('test-sleepy-build')).ok).toBe(true);
  });

  it('during the install: AbortError, the previous version untouched', async () => {
    const p = await newProvisioner();
    const before = await p.provision('test-plain-sh');
    const ac = new AbortController();
    const { error } = await collect(() =>
      p.provision('test-plain-sh', {
        force: true,
        signal: ac.signal,
        onEvent: (e) => {
          if (e.type === 'phase' && e.phase === 'install' && e.status === 'start') ac.abort();
        },
      }),
    );
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(await buildsLeft(p)).toEqual([]);
    expect(await p.list()).toEqual([before]);
    expect((await p.verify('test-plain-sh')).ok).toBe(true);
  });

  it('provisionEvents: ends after done; breaking out cancels the job', async () => {
    const p = await newProvisioner();
    const seen: ProvisionEvent[] = [];
    for await (const e of p.provisionEvents('test-plain-sh')) seen.push(e);
    expectWellFormed(seen);
    expect(seen.at(-1)?.type).toBe('done');

    const q = await newProvisioner({ buildEnv: { RBEE_TEST_SLOW: '978' } });
    for await (const e of q.provisionEvents('test-sleepy-build')) {
      if (e.type === 'log' && e.line === 'build started') break;
    }
    expect(pidsMatching('sleep 978')).toEqual([]);
    expect(await buildsLeft(q)).toEqual([]);
    expect(await q.list()).toEqual([]);
  });
});

describe('concurrency and crashes', () => {
  it('two concurrent installs in one process share one build and get the same result', async () => {
    const p = await newProvisioner();
    const a: ProvisionEvent[] = [];
    const b: ProvisionEvent[] = [];
    const [wa, wb] = await Promise.all([
      p.provision('test-plain-sh', { onEvent: (e) => a.push(e) }),
      p.provision('test-plain-sh', { onEvent: (e) => b.push(e) }),
    ]);
    expect(wa).toEqual(wb);
    const builds = new Set([...a, ...b].filter((e) => e.type === 'phase' && e.phase === 'build' && e.status === 'start').map((e) => `${e.jobId}:${e.seq}`));
    expect(builds.size).toBe(1);
    expect(spawnSync(wa.path, { encoding: 'utf8' }).stdout.trim()).toBe('test-plain-sh 2.0.0');
  });

  it('two installs in two processes: one builds, the other waits for the lock and gets the same worker', async () => {
    const home = await tempDir('rbee-home-');
    homes.push(home);
    // the child imports the built package
    const { spawn } = await import('node:child_process');
    const child = join(import.meta.dirname, 'fixtures', 'provision-child.mjs');
    const run = (): Promise<ProvisionEvent[]> =>
      new Promise((resolve, reject) => {
        const c = spawn(process.execPath, [child, JSON.stringify({ home, catalog: catalog.url, id: 'test-plain-sh' })], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        c.stdout.on('data', (d) => (out += d));
        c.on('error', reject);
        c.on('close', () => resolve(out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as ProvisionEvent)));
      });
    const [ea, eb] = await Promise.all([run(), run()]);
    const done = [ea.at(-1), eb.at(-1)] as { type: string; worker: { path: string; addedAt: string }; alreadyInstalled?: boolean }[];
    expect(done.map((d) => d.type)).toEqual(['done', 'done']);
    expect(done[0]?.worker).toEqual(done[1]?.worker);
    const builds = [...ea, ...eb].filter((e) => e.type === 'phase' && e.phase === 'build' && e.status === 'start');
    expect(builds).toHaveLength(1);
    expect(done.filter((d) => d.alreadyInstalled)).toHaveLength(1);
  });

  it('a stale lock (owner pid dead) is recovered', async () => {
    const p = await newProvisioner();
    const dead = Number(spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim());
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(p.home, 'locks'), { recursive: true });
    const { hostname } = await import('node:os');
    await writeFile(join(p.home, 'locks/test-plain-sh.lock'), JSON.stringify({ pid: dead, token: 'gone', hostname: hostname(), since: 1 }));
    const { events, result } = await collect((onEvent) => p.provision('test-plain-sh', { onEvent }));
    expect(result?.status).toBe('installed');
    expect(events.some((e) => e.type === 'warning' && e.code === 'W_STALE_LOCK')).toBe(true);
    expect(existsSync(join(p.home, 'locks/test-plain-sh.lock'))).toBe(false);
  });

  it('an install SIGKILLed mid-build, then a fresh one: stale build dir and lock swept, install completes', async () => {
    const home = await tempDir('rbee-home-');
    homes.push(home);
    const { spawn } = await import('node:child_process');
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, 'fixtures', 'provision-child.mjs'), JSON.stringify({ home, catalog: catalog.url, id: 'test-sleepy-build', env: { RBEE_TEST_SLOW: '976' } })],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('"line":"build started"')) resolve();
      });
      child.on('close', () => reject(new Error(`child ended early: ${out}`)));
    });
    const closed = new Promise((r) => child.on('close', r));
    child.kill('SIGKILL');
    await closed;
    // bwrap --die-with-parent takes the build down with the killed process; without bwrap the
    // orphaned group may linger: end it by pid (it is ours)
    for (const pid of pidsMatching('sleep 976')) process.kill(pid, 'SIGKILL');
    expect((await readdir(join(home, 'builds'))).length).toBe(1);
    expect(existsSync(join(home, 'locks/test-sleepy-build.lock'))).toBe(true);

    const p = await newProvisioner({}, home);
    expect(await p.list()).toEqual([]);
    const { events, result } = await collect((onEvent) => p.provision('test-sleepy-build', { onEvent }));
    expect(result?.status).toBe('installed');
    expect(events.some((e) => e.type === 'warning' && e.code === 'W_STALE_LOCK')).toBe(true);
    expect(await buildsLeft(p)).toEqual([]);
  });
});

describe('the installed workers', () => {
  it('verify catches a tampered file; remove by version and entirely; E_NOT_INSTALLED after', async () => {
    const p = await newProvisioner();
    const w = await p.provision('test-plain-sh');
    const { chmod } = await import('node:fs/promises');
    await chmod(w.path, 0o755);
    await writeFile(w.path, '#!/bin/sh\necho tampered\n');
    const report = await p.verify('test-plain-sh');
    expect(report).toMatchObject({ ok: false, changed: ['usr/bin/test-plain-sh'], missing: [], extra: [] });
    await writeFile(join(w.installDir, 'usr/bin/dropped-in'), 'x');
    expect((await p.verify('test-plain-sh')).extra).toEqual(['usr/bin/dropped-in']);

    // reinstall over it (force), then remove that version
    const fixed = await p.provision('test-plain-sh', { force: true });
    expect((await p.verify('test-plain-sh')).ok).toBe(true);
    expect(await p.remove('test-plain-sh', { version: '2.0.0-3' })).toEqual([fixed]);
    expect(await p.list()).toEqual([]);
    expect(await p.get('test-plain-sh')).toBeUndefined();
    await expect(p.remove('test-plain-sh')).rejects.toMatchObject({ code: 'E_NOT_INSTALLED' });
    await expect(p.verify('test-plain-sh')).rejects.toMatchObject({ code: 'E_NOT_INSTALLED' });

    await p.provision('test-plain-sh');
    await p.provision('demo-worker-rbee-bin');
    expect((await p.list()).map((x) => x.id)).toEqual(['demo-worker-rbee-bin', 'test-plain-sh']);
    expect((await p.remove('test-plain-sh')).map((x) => x.id)).toEqual(['test-plain-sh']);
    expect((await p.list()).map((x) => x.id)).toEqual(['demo-worker-rbee-bin']);
    expect(existsSync(join(p.home, 'workers/test-plain-sh'))).toBe(false);
  });

  it('a forced reinstall takes its sources from the shared cache (no new download) and its archive scan with them', async () => {
    const extractions: { scans?: unknown }[] = [];
    const p = await newProvisioner({
      stages: {
        fetchSources: (o) => {
          if (o.extract) extractions.push(o);
          return fetchSources(o);
        },
      },
    });
    const before = files.requests.length;
    const first = await p.provision('test-http-bin');
    expect(files.requests.length).toBe(before + 1);
    // the scan is kept with the verification stamp (written in the background; close() waits)
    await p.close();
    const stamps = JSON.parse(await readFile(join(p.home, 'sources/.rbee-verified.json'), 'utf8')) as Record<string, { scan?: { version: number; entries: number } }>;
    const scan = stamps['payload-1.0.0.tar.gz']?.scan;
    expect(scan?.version).toBe(SCAN_VERSION);
    expect(scan?.entries).toBeGreaterThan(0);
    expect(extractions[0]?.scans).toBeUndefined();
    const { events, result } = await collect((onEvent) => p.provision('test-http-bin', { force: true, onEvent }));
    // ...and handed back to the fetcher, which then extracts without checking the members again
    expect(extractions[1]?.scans).toEqual({ 'payload-1.0.0.tar.gz': scan });
    expect(files.requests.length).toBe(before + 1);
    expect(result?.path).toBe(first.path);
    expect(events.at(-1)).not.toHaveProperty('alreadyInstalled');
    expect(phases(events)).toContain('package:done');
    // the replaced copy is deleted in the background; close() waits for it
    await p.close();
    expect((await readdir(join(p.home, 'workers/test-http-bin'))).sort()).toEqual(['1.0.0-1', 'current']);
    // verified before and unchanged since: not hashed again
    expect(phases(events)).toContain('verify:skipped');
    expect((await p.verify('test-http-bin')).ok).toBe(true);

    // a cached file changed behind our back is verified again, found bad and fetched anew
    const { appendFile } = await import('node:fs/promises');
    await appendFile(join(p.home, 'sources/payload-1.0.0.tar.gz'), 'x');
    const third = await collect((onEvent) => p.provision('test-http-bin', { force: true, onEvent }));
    expect(third.error).toBeUndefined();
    expect(phases(third.events)).toContain('verify:done');
    expect(files.requests.length).toBe(before + 2);
  });

  // The build's sandbox starts and sources the PKGBUILD while the sources are extracted; its
  // first function runs only after the extraction, and output keeps makepkg's order.
  const gatedPkgbuild = `pkgname=test-gated
pkgver=1.0.0
pkgrel=1
arch=(any)
license=(MIT)
source=(payload.tar.gz)
sha256sums=(SKIP)
echo "top-level output"
package() {
  install -Dm755 "$srcdir/payload/run.sh" "$pkgdir/usr/bin/test-gated"
}
`;

  it('the build starts during the extraction but runs package() only after it; top-level output follows extract:done', async () => {
    const dir = await tempDir('rbee-gated-');
    homes.push(dir);
    await mkdir(join(dir, 'stage/payload'), { recursive: true });
    await writeFile(join(dir, 'stage/payload/run.sh'), '#!/bin/sh\necho test-gated 1.0.0\n', { mode: 0o755 });
    await writeFile(join(dir, 'PKGBUILD'), gatedPkgbuild);
    expect(spawnSync('bsdtar', ['-czf', join(dir, 'payload.tar.gz'), '-C', join(dir, 'stage'), 'payload']).status).toBe(0);
    const p = await newProvisioner();
    const events: ProvisionEvent[] = [];
    const w = await p.installFromDirectory(dir, { onEvent: (e) => events.push(e) });
    expect(spawnSync(w.path, { encoding: 'utf8' }).stdout.trim()).toBe('test-gated 1.0.0');
    const at = (pred: (e: ProvisionEvent) => boolean): number => events.findIndex(pred);
    const extractDone = at((e) => e.type === 'phase' && e.phase === 'extract' && e.status === 'done');
    const topLevel = at((e) => e.type === 'log' && e.line === 'top-level output');
    const packageStart = at((e) => e.type === 'phase' && e.phase === 'package' && e.status === 'start');
    expect(extractDone).toBeGreaterThan(0);
    expect(topLevel).toBeGreaterThan(extractDone);
    expect(packageStart).toBeGreaterThan(extractDone);
  });

  it('an extraction that fails while the build waits: E_EXTRACT_FAILED, no function ran, no build process left', async () => {
    const dir = await tempDir('rbee-gated-');
    homes.push(dir);
    await writeFile(join(dir, 'PKGBUILD'), gatedPkgbuild);
    // gzip magic, then garbage: detected as an archive, fails to extract
    await writeFile(join(dir, 'payload.tar.gz'), Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(4096, 0x5a)]));
    const p = await newProvisioner();
    const events: ProvisionEvent[] = [];
    const error = await p.installFromDirectory(dir, { onEvent: (e) => events.push(e) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'E_EXTRACT_FAILED' });
    expect(phases(events)).toContain('extract:failed');
    expect(phases(events).some((x) => x.startsWith('package:start'))).toBe(false);
    expect(pidsMatching(join(dir, 'PKGBUILD'))).toEqual([]);
    expect(await p.list()).toEqual([]);
  });

  it('installFromDirectory builds a local PKGBUILD directory like makepkg -si (no catalog)', async () => {
    const home = await tempDir('rbee-home-');
    homes.push(home);
    const dir = await tempDir('rbee-pkgdir-');
    homes.push(dir);
    const src = join(dir, 'plain-sh');
    await writeFixture(src, 'plain-sh');
    const p = new WorkerProvisioner({ home, detectBackend: () => 'cpu' });
    const events: ProvisionEvent[] = [];
    const w = await p.installFromDirectory(src, { capabilities: { supportedFormats: ['gguf'] }, onEvent: (e) => events.push(e) });
    // build() but no check(): check is reported skipped after build, where makepkg would run it
    expect(phases(events).filter((x) => /^(prepare|pkgver|build|check|package):/.test(x))).toEqual([
      'prepare:skipped', 'pkgver:skipped', 'build:start', 'build:done', 'check:skipped', 'package:start', 'package:done',
    ]);
    expect(w).toMatchObject({ id: 'test-plain-sh', version: '2.0.0-3', supportedFormats: ['gguf'], maxContextLength: 0, supportsStreaming: false });
    expect(w.catalogId).toBeUndefined();
    expect(spawnSync(w.path, { encoding: 'utf8' }).stdout.trim()).toBe('test-plain-sh 2.0.0');
    await expect(p.installFromDirectory(join(dir, 'nope'))).rejects.toMatchObject({ code: 'E_NO_PKGBUILD' });
  });
});
