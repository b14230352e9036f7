// `rbee-worker catalog serve` (the reference server as a command) and `catalog list` against it.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, collect, exampleCatalog, runCli, spawnCli } from './cli-harness.js';

beforeAll(assertBuilt);

describe('rbee-worker catalog serve', () => {
  it('serves a directory with the catalog API on loopback until Ctrl-C (exit 130)', async () => {
    const child = spawnCli(['catalog', 'serve', exampleCatalog, '--port', '0', '--host', '127.0.0.1']);
    const done = collect(child);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer | string) => {
        out += String(d);
        const m = /at (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
      child.on('close', () => reject(new Error(`exited early: ${out}`)));
    });
    try {
      const health = await fetch(new URL('health', url));
      expect(health.status).toBe(200);
      const list = await runCli(['catalog', 'list', '--catalog', url]);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/demo-worker-rbee-bin\s+0\.1\.0\s+cpu/);
      const pkgbuild = await fetch(new URL('workers/demo-worker-rbee/PKGBUILD', url));
      expect(await pkgbuild.text()).toContain('pkgname=demo-worker-rbee');
    } finally {
      child.kill('SIGINT');
    }
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stdout).toBe(`serving ${exampleCatalog} at ${url}\n`);
    expect(r.stderr).toContain('press Ctrl-C to stop');
  });

  it('a missing directory → E_CATALOG_NOT_FOUND, a directory that is not a catalog → E_NOT_A_CATALOG; exit 1', async () => {
    const missing = await runCli(['catalog', 'serve', join(exampleCatalog, 'no-such-dir'), '--port', '0']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('✖ error E_CATALOG_NOT_FOUND');
    const notCatalog = await runCli(['catalog', 'serve', join(exampleCatalog, 'workers', 'demo-worker-rbee'), '--port', '0']);
    expect(notCatalog.code).toBe(1);
    expect(notCatalog.stderr).toContain('✖ error E_NOT_A_CATALOG');
  });
});
