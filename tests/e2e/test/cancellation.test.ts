/**
 * Cancellation at every phase, through the library (AbortController fired on the phase's start
 * event) and through SIGINT to the CLI: the job rejects with an AbortError / exits 130, no
 * process of the build survives (process table), nothing is installed, and the workers home holds
 * no new file besides the shared download cache.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerProvisioner, type ProvisionEvent } from '@rbee/worker-provisioner';
import { cleanupTemps, errorCode, serveCatalog, slowWorker, startCli, survivors, tempDir, waitForProcesses, token, tree, writeCatalog, type CatalogServer } from './helpers.js';

const ID = 'cancel-worker-rbee';
// every phase the worker goes through (pkgver is skipped: it has no pkgver())
const PHASES = ['resolve', 'fetch', 'verify', 'extract', 'prepare', 'build', 'check', 'package', 'install'] as const;

/** New paths in `after` that are neither the download cache, the catalog answer cache, nor the (empty) lock/builds dirs. */
function unexpectedNew(before: string[], after: string[]): string[] {
  const old = new Set(before);
  return after.filter(
    (p) =>
      !old.has(p) &&
      !/^d (sources|catalog|locks|builds|workers)$/.test(p) &&
      !/^(f|l) catalog\//.test(p) &&
      !(/^f sources\/[^/]+$/.test(p) && !/\.(part|tmp|lock)$/.test(p)),
  );
}

describe('cancellation', () => {
  let server: CatalogServer;
  const mark = `RBEE_E2E_MARK=cancel-${token()}`;

  beforeAll(async () => {
    const catalog = join(tempDir('rbee-e2e-cancel-'), 'catalog');
    writeCatalog(catalog, [slowWorker({ id: ID, version: '1.0.0', mark: mark.split('=')[1]!, steps: 3, stepSeconds: 0.3 })]);
    server = await serveCatalog(catalog);
  });
  afterAll(async () => {
    await server?.close();
    cleanupTemps();
  });

  for (const phase of PHASES) {
    it(`library: abort on ${phase}:start`, async () => {
      const home = tempDir();
      const p = new WorkerProvisioner({ home, catalog: server.url });
      await p.list(); // create the layout, so the before/after diff sees only the job's files
      const before = tree(home);
      const ac = new AbortController();
      const events: ProvisionEvent[] = [];
      const err = await p
        .provision(ID, {
          signal: ac.signal,
          onEvent: (e) => {
            events.push(e);
            if (e.type === 'phase' && e.phase === phase && e.status === 'start') ac.abort();
          },
        })
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        );
      await p.close();
      expect(events.some((e) => e.type === 'phase' && e.phase === phase && e.status === 'start'), `reached ${phase}`).toBe(true);
      expect(err?.name, `rejects with an AbortError (got ${String(err)})`).toBe('AbortError');
      const last = events[events.length - 1];
      expect(last?.type).toBe('error');
      expect(last?.type === 'error' ? last.error.code : undefined).toBe('ABORT_ERR');
      // the promise settles only after the build's process tree is gone: no grace period here
      expect(await survivors({ marker: mark, under: home }, 0)).toEqual([]);
      expect(await new WorkerProvisioner({ home }).list()).toEqual([]);
      expect(unexpectedNew(before, tree(home))).toEqual([]);
    });
  }

  it('CLI: SIGINT during build exits 130, kills the build, leaves nothing behind', async () => {
    const home = tempDir();
    const run = startCli(['install', ID, '--catalog', server.url, '--json'], { home });
    const started = await run.waitFor((e) => e.type === 'log' && e.phase === 'build');
    expect(started, run.stderr()).toBeDefined();
    // the build is running right now
    expect((await waitForProcesses({ marker: mark })).length).toBeGreaterThan(0);
    run.child.kill('SIGINT');
    const exit = await run.exit;
    expect(exit.code, run.stderr()).toBe(130);
    expect(errorCode(run.events)).toBe('ABORT_ERR');
    expect(await survivors({ marker: mark, under: home }, 0)).toEqual([]);
    const after = tree(home);
    expect(after.filter((p) => p.startsWith('d workers/') || p.startsWith('f workers/'))).toEqual([]);
    expect(after.filter((p) => p.startsWith('d builds/') || p.startsWith('f builds/'))).toEqual([]);
    expect(unexpectedNew([], after)).toEqual([]);
  });

  it('CLI: SIGINT while fetching exits 130 with nothing installed', async () => {
    const home = tempDir();
    const run = startCli(['install', ID, '--catalog', server.url, '--json'], { home });
    expect(await run.waitFor((e) => e.type === 'phase' && e.phase === 'fetch' && e.status === 'start'), run.stderr()).toBeDefined();
    run.child.kill('SIGINT');
    const exit = await run.exit;
    // the fetch of two small files may complete before the signal lands: then the cancel hits a later phase
    expect(exit.code, run.stderr()).toBe(130);
    expect(errorCode(run.events)).toBe('ABORT_ERR');
    expect(await survivors({ marker: mark, under: home }, 0)).toEqual([]);
    expect(unexpectedNew([], tree(home))).toEqual([]);
  });
});
