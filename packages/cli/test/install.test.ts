// install / list / info / remove against the reference catalog server on loopback, in a temp home.
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCatalogServer, type CatalogServer } from '@rbee/catalog-client/server';
import { isProvisionEvent, type ProvisionEvent, type WorkerBinary } from '@rbee/worker-provisioner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanup, ensureExampleArchives, exampleCatalog, ndjson, runCli, tempDir } from './cli-harness.js';

let server: CatalogServer;
let url: string;
let home: string;
const env = () => ({ XDG_CACHE_HOME: join(home, 'xdg') });

beforeAll(async () => {
  assertBuilt();
  ensureExampleArchives();
  server = createCatalogServer({ dir: exampleCatalog });
  url = await server.listen(0, '127.0.0.1');
  home = tempDir('install');
});

afterAll(async () => {
  await server?.close();
  if (home) cleanup(home);
});

const ESC = '\u001b';

describe('rbee-worker install (not a terminal)', () => {
  it('installs the prebuilt demo worker: plain progress on stderr, one summary line on stdout, exit 0', async () => {
    const r = await runCli(['install', 'demo-worker-rbee-bin', '--catalog', url, '--home', home], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^✔ installed demo-worker-rbee-bin 0\\.1\\.0-1 \\(cpu\\) → ${home}/workers/demo-worker-rbee-bin/0\\.1\\.0-1/\\S+ in [0-9.]+m?s\\n$`));
    expect(r.stderr).toContain(`==> Installing demo-worker-rbee-bin from ${url}`);
    expect(r.stderr).toContain('==> fetch\n');
    expect(r.stderr).toMatch(/-> demo-worker-rbee-0\.1\.0-x86_64\.tar\.gz [0-9.]+ kB \/ [0-9.]+ kB \(100%\)/);
    expect(r.stderr).toContain('  -> build skipped');
    expect(r.stderr + r.stdout).not.toContain(ESC);
  });

  it('says so when the version is already installed', async () => {
    const r = await runCli(['install', 'demo-worker-rbee-bin', '--catalog', url, '--home', home], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('✔ demo-worker-rbee-bin 0.1.0-1 (cpu) is already installed at');
  });

  it('--json streams schema-valid NDJSON ProvisionEvents for a source build, ending with done', async () => {
    const r = await runCli(['install', 'demo-worker-rbee', '--catalog', url, '--home', home, '--json'], { env: env() });
    expect(r.code).toBe(0);
    const events = ndjson(r.stdout);
    expect(events.length).toBeGreaterThan(10);
    for (const e of events) expect(isProvisionEvent(e), JSON.stringify(e)).toBe(true);
    const evs = events as ProvisionEvent[];
    const seqs = evs.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(evs.map((e) => e.jobId)).size).toBe(1);
    expect(evs.some((e) => e.type === 'log' && e.phase === 'build')).toBe(true);
    expect(evs.filter((e) => e.type === 'phase' && e.status === 'done').map((e) => (e as { phase: string }).phase)).toContain('build');
    const last = evs.at(-1);
    expect(last?.type).toBe('done');
    expect(r.stderr).toBe('');
  });

  it('list shows both, list --json gives WorkerBinary records', async () => {
    const r = await runCli(['list', '--home', home]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^ID\s+VERSION\s+BACKEND\s+STATUS\s+SIZE\s+PATH$/);
    expect(r.stdout).toMatch(/demo-worker-rbee\s+0\.1\.0-1\s+cpu\s+installed/);
    expect(r.stdout).toMatch(/demo-worker-rbee-bin\s+0\.1\.0-1\s+cpu\s+installed/);
    const j = await runCli(['ls', '--json', '--home', home]);
    const list = JSON.parse(j.stdout) as WorkerBinary[];
    expect(list.map((w) => w.id).sort()).toEqual(['demo-worker-rbee', 'demo-worker-rbee-bin']);
    for (const w of list) expect(existsSync(w.path)).toBe(true);
  });

  it('info prints the installed worker and its catalog entry; --json has `path` at the top', async () => {
    const r = await runCli(['info', 'demo-worker-rbee', '--home', home, '--catalog', url], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^demo-worker-rbee 0\.1\.0-1 \(cpu, linux\/\w+\) installed\n/);
    expect(r.stdout).toContain(`executable    ${home}/workers/demo-worker-rbee/0.1.0-1/`);
    expect(r.stdout).toContain('catalog       0.1.0 — A tiny C program');
    expect(r.stderr).toBe('');
    const j = JSON.parse((await runCli(['info', 'demo-worker-rbee', '--json', '--home', home, '--catalog', url], { env: env() })).stdout) as WorkerBinary & { installed: boolean; catalog: { id: string } };
    expect(j).toMatchObject({ id: 'demo-worker-rbee', installed: true, version: '0.1.0-1', catalog: { id: 'demo-worker-rbee' } });
    expect(existsSync(j.path)).toBe(true);
  });

  it('info on a worker that is only in the catalog says it is not installed (exit 0)', async () => {
    const r = await runCli(['info', 'demo-worker-rbee-dyn', '--home', home, '--catalog', url], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('demo-worker-rbee-dyn not installed (install: rbee-worker install demo-worker-rbee-dyn)');
  });

  it('remove deletes it; removing again is E_NOT_INSTALLED, exit 1', async () => {
    const r = await runCli(['rm', 'demo-worker-rbee-bin', '--home', home]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✔ removed demo-worker-rbee-bin 0\.1\.0-1 \(/);
    expect(existsSync(join(home, 'workers', 'demo-worker-rbee-bin'))).toBe(false);
    const again = await runCli(['remove', 'demo-worker-rbee-bin', '--home', home]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('E_NOT_INSTALLED');
  });
});

describe('rbee-worker install: failures', () => {
  it('unknown worker → E_WORKER_NOT_FOUND with the hint, exit 1; in --json the stream ends with that error event', async () => {
    const r = await runCli(['install', 'no-such-worker', '--catalog', url, '--home', home], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('✖ error E_WORKER_NOT_FOUND no worker "no-such-worker" in the catalog');
    expect(r.stderr).toContain('hint: ');
    expect(r.stdout).toBe('');
    const j = await runCli(['install', 'no-such-worker', '--catalog', url, '--home', home, '--json'], { env: env() });
    expect(j.code).toBe(1);
    const events = ndjson(j.stdout);
    for (const e of events) expect(isProvisionEvent(e)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'error', error: { code: 'E_WORKER_NOT_FOUND' } });
  });

  it('a version the catalog does not have → E_VERSION_NOT_FOUND; a GPU-only worker here → E_PLATFORM_INCOMPATIBLE', async () => {
    const v = await runCli(['install', 'demo-worker-rbee-bin@9.9.9', '--catalog', url, '--home', home], { env: env() });
    expect(v.code).toBe(1);
    expect(v.stderr).toContain('✖ error E_VERSION_NOT_FOUND demo-worker-rbee-bin@9.9.9 is not in the catalog');
    const gpu = await runCli(['install', 'demo-worker-rbee-gpu', '--backend', 'cpu', '--catalog', url, '--home', home], { env: env() });
    expect(gpu.code).toBe(1);
    expect(gpu.stderr).toContain('✖ error E_PLATFORM_INCOMPATIBLE');
  });

  it('a catalog that is neither a URL nor a directory → E_CATALOG_NOT_FOUND, exit 1', async () => {
    const r = await runCli(['install', 'demo-worker-rbee', '--catalog', join(home, 'nowhere'), '--home', home]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('✖ error E_CATALOG_NOT_FOUND');
    expect(r.stderr).toContain('hint: pass --catalog http://host:port or --catalog path/to/catalog-dir');
    const j = await runCli(['install', 'demo-worker-rbee', '--catalog', join(home, 'nowhere'), '--home', home, '--json']);
    expect(j.code).toBe(1);
    const events = ndjson(j.stdout);
    expect(events).toHaveLength(1);
    expect(isProvisionEvent(events[0])).toBe(true);
    expect(events[0]).toMatchObject({ type: 'error', seq: 1, error: { code: 'E_CATALOG_NOT_FOUND' } });
  });

  it('WORKER_CATALOG_URL is the default catalog', async () => {
    const r = await runCli(['catalog', 'list', '--json'], { env: { WORKER_CATALOG_URL: join(home, 'nowhere') } });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'E_CATALOG_NOT_FOUND' } });
    expect(r.stderr).toContain('(from WORKER_CATALOG_URL)');
  });

  it('checksum mismatch (a catalog copy whose source changed) → E_CHECKSUM_MISMATCH, exit 1, nothing installed', async () => {
    const dir = tempDir('badsum');
    const h = tempDir('badsum-home');
    try {
      cpSync(exampleCatalog, join(dir, 'catalog'), { recursive: true });
      const src = join(dir, 'catalog', 'workers', 'demo-worker-rbee', 'cpu', 'demo-worker.c');
      writeFileSync(src, `${readFileSync(src, 'utf8')}\n/* tampered */\n`);
      const r = await runCli(['install', 'demo-worker-rbee', '--catalog', join(dir, 'catalog'), '--home', h], { env: { XDG_CACHE_HOME: join(h, 'xdg') } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('✖ error E_CHECKSUM_MISMATCH');
      expect(r.stderr).toContain('demo-worker.c');
      expect(r.stdout).toBe('');
      expect(existsSync(join(h, 'workers', 'demo-worker-rbee'))).toBe(false);
      const list = await runCli(['list', '--json', '--home', h]);
      expect(JSON.parse(list.stdout)).toEqual([]);
    } finally {
      cleanup(dir);
      cleanup(h);
    }
  });
});

describe('default catalog', () => {
  it('with no --catalog and no WORKER_CATALOG_URL the example catalog in the repository is used', async () => {
    const r = await runCli(['catalog', 'list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ID\s+VERSION\s+BACKENDS\s+DESCRIPTION\n/);
    expect(r.stdout).toMatch(/demo-worker-rbee\s+0\.1\.0\s+cpu\s+A tiny C program/);
    expect(r.stdout).toMatch(/demo-worker-rbee-gpu\s+0\.1\.0\s+cuda,metal/);
    const j = JSON.parse((await runCli(['catalog', 'list', '--json', '--catalog', url])).stdout) as Array<{ id: string }>;
    expect(j.map((w) => w.id)).toEqual(expect.arrayContaining(['demo-worker-rbee', 'demo-worker-rbee-bin']));
    expect(readdirSync(exampleCatalog)).toContain('workers.json');
  });
});
