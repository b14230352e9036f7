/**
 * Concurrency across processes: the same worker installed by two CLI processes at once (one
 * build, same result), five different workers at once, and an install racing a remove.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerProvisioner } from '@rbee/worker-provisioner';
import { cleanupTemps, listInstalled, runCli, serveCatalog, slowWorker, survivors, tempDir, token, writeCatalog, type CatalogServer } from './helpers.js';

type Ev = Record<string, unknown>;
const built = (events: Ev[]): boolean => events.some((e) => e.type === 'phase' && e.phase === 'build' && e.status === 'start');
const doneOf = (events: Ev[]): { worker: { path: string; version: string; installDir: string }; alreadyInstalled?: boolean } | undefined =>
  events.find((e) => e.type === 'done') as never;

describe('concurrent installs across processes', () => {
  let server: CatalogServer;
  let catalog: string;
  const mark = `RBEE_E2E_MARK=conc-${token()}`;

  beforeAll(async () => {
    catalog = join(tempDir('rbee-e2e-conc-'), 'catalog');
    const m = mark.split('=')[1]!;
    writeCatalog(catalog, [
      slowWorker({ id: 'twin-worker-rbee', version: '1.0.0', mark: m, steps: 3, stepSeconds: 0.2 }),
      ...[1, 2, 3, 4, 5].map((i) => slowWorker({ id: `five-${i}-worker-rbee`, version: `1.${i}.0`, mark: m, steps: 1, stepSeconds: 0.05 })),
      slowWorker({ id: 'race-worker-rbee', version: '1.0.0', mark: m, steps: 1, stepSeconds: 0.05 }),
    ]);
    server = await serveCatalog(catalog);
  });
  afterAll(async () => {
    await server?.close();
    cleanupTemps();
  });

  it('two installs of the same worker: one build, both succeed with the same result', async () => {
    const home = tempDir();
    const [a, b] = await Promise.all([
      runCli(['install', 'twin-worker-rbee', '--catalog', server.url, '--json'], { home }),
      runCli(['install', 'twin-worker-rbee', '--catalog', server.url, '--json'], { home }),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    // exactly one process ran build(); the other waited for the lock and took the installed result
    expect([built(a.events), built(b.events)].filter(Boolean)).toHaveLength(1);
    const waiter = built(a.events) ? b : a;
    expect(doneOf(waiter.events)?.alreadyInstalled).toBe(true);
    expect(waiter.events.some((e) => e.type === 'warning' && e.code === 'W_WAITING_FOR_LOCK')).toBe(true);
    const da = doneOf(a.events)!;
    const db = doneOf(b.events)!;
    expect(da.worker.path).toBe(db.worker.path);
    expect(da.worker.version).toBe(db.worker.version);
    expect(spawnSync(da.worker.path, ['--version'], { encoding: 'utf8' }).stdout.trim()).toBe('twin-worker-rbee 1.0.0');
    expect(readdirSync(join(home, 'workers', 'twin-worker-rbee')).sort()).toEqual(['1.0.0-1', 'current']);
    expect(readdirSync(join(home, 'builds'))).toEqual([]);
    expect(readdirSync(join(home, 'locks'))).toEqual([]);
  });

  it('five different workers at once all install', async () => {
    const home = tempDir();
    const runs = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => runCli(['install', `five-${i}-worker-rbee`, '--catalog', server.url, '--json'], { home })),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const list = await listInstalled(home);
    expect(list.map((w) => w.id).sort()).toEqual([1, 2, 3, 4, 5].map((i) => `five-${i}-worker-rbee`));
    for (const w of list) {
      expect(w.status).toBe('installed');
      expect(spawnSync(String(w.path), ['--version'], { encoding: 'utf8' }).stdout.trim()).toBe(`${String(w.id)} ${String(w.version).replace(/-1$/, '')}`);
    }
    const p = new WorkerProvisioner({ home });
    for (const w of list) expect((await p.verify(String(w.id))).ok).toBe(true);
    expect(readdirSync(join(home, 'builds'))).toEqual([]);
    expect(await survivors({ marker: mark })).toEqual([]);
  });

  it('install while remove runs: one consistent outcome, never a half-removed or half-installed worker', async () => {
    const home = tempDir();
    const first = await runCli(['install', 'race-worker-rbee', '--catalog', server.url, '--json'], { home });
    expect(first.code, first.stderr).toBe(0);
    const installedDir = doneOf(first.events)!.worker.installDir;
    // a forced reinstall (rebuild + replace) racing a remove of every version
    const [inst, rm] = await Promise.all([
      runCli(['install', 'race-worker-rbee', '--catalog', server.url, '--json', '--force'], { home }),
      runCli(['remove', 'race-worker-rbee'], { home }),
    ]);
    expect(inst.code, inst.stderr).toBe(0);
    expect(rm.code, rm.stderr).toBe(0);
    const list = (await listInstalled(home)).filter((w) => w.id === 'race-worker-rbee');
    if (list.length === 0) {
      // the remove came second: everything is gone, including the directory
      expect(existsSync(installedDir)).toBe(false);
    } else {
      // the install came second: one complete, runnable version
      expect(list).toHaveLength(1);
      expect(list[0]!.status).toBe('installed');
      expect(spawnSync(String(list[0]!.path), ['--version'], { encoding: 'utf8' }).stdout.trim()).toBe('race-worker-rbee 1.0.0');
      expect((await new WorkerProvisioner({ home }).verify('race-worker-rbee')).ok).toBe(true);
    }
    const dir = join(home, 'workers', 'race-worker-rbee');
    const entries = existsSync(dir) ? readdirSync(dir).sort() : [];
    expect(entries.filter((e) => e !== '1.0.0-1' && e !== 'current'), 'no staging or moved-aside dirs').toEqual([]);
    expect(readdirSync(join(home, 'builds'))).toEqual([]);
  });
});
