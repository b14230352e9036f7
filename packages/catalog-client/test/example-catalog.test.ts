/**
 * The example catalog is real: its archives regenerate byte for byte to the committed checksums,
 * its index agrees with the per-worker files, its demo program compiles warning-free and serves
 * /health, and the prebuilt archive's program does too.
 */
import { describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { CatalogClient } from '../src/index.js';
import { archiveScript, ensureExampleArchives, exampleCatalog, tempDir } from './helpers.js';

const run = promisify(execFile);

/** The value(s) of `name=(…)` in a PKGBUILD, quotes removed (enough for these short arrays). */
function pkgbuildArray(text: string, name: string): string[] {
  const m = new RegExp(`^${name}=\\(([^)]*)\\)`, 'm').exec(text);
  if (!m) throw new Error(`${name} not found`);
  return [...m[1]!.matchAll(/'([^']*)'|"([^"]*)"/g)].map((x) => x[1] ?? x[2] ?? '');
}

/** Starts a worker binary with `--port 0`, reads the port from its stderr banner, GETs /health. */
async function health(cmd: string, args: string[]): Promise<unknown> {
  const child = spawn(cmd, [...args, '--port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (c: Buffer) => {
        err += c.toString();
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    const res = await request(`http://127.0.0.1:${port}/health`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const missing = await request(`http://127.0.0.1:${port}/nope`);
    await missing.body.dump();
    expect(missing.statusCode).toBe(404);
    return await res.body.json();
  } finally {
    child.kill('SIGTERM');
  }
}

describe('generated archives', () => {
  it('regenerate byte for byte and match the checksums committed in the PKGBUILDs', async () => {
    const script = await archiveScript();
    const tmp = await tempDir();
    try {
      const a = script.makeExampleArchives({ root: tmp.dir });
      const b = script.makeExampleArchives({ root: tmp.dir });
      expect(b.every((r) => !r.written)).toBe(true); // idempotent: same bytes, nothing rewritten
      const binPkgbuild = await readFile(join(exampleCatalog, 'workers/demo-worker-rbee-bin/cpu/PKGBUILD'), 'utf8');
      const dynPkgbuild = await readFile(join(exampleCatalog, 'workers/demo-worker-rbee-dyn/cpu/PKGBUILD'), 'utf8');
      for (const arch of script.ARCHES) {
        const r = a.find((x) => x.arch === arch)!;
        const bytes = await readFile(r.file);
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(r.sha256);
        expect(pkgbuildArray(binPkgbuild, `source_${arch}`)).toEqual([`\${_pkgname}-\${pkgver}-${arch}.tar.gz`]);
        expect(pkgbuildArray(binPkgbuild, `sha256sums_${arch}`), `sha256 ${arch}: zlib output drifted or the PKGBUILD is stale`).toEqual([r.sha256]);
        expect(pkgbuildArray(binPkgbuild, `b2sums_${arch}`)).toEqual([r.b2]);
        expect(dynPkgbuild).toContain(`${arch}) _sha256='${r.sha256}'`);
      }
    } finally {
      await tmp.cleanup();
    }
  });

  it('land in the example catalog next to the PKGBUILDs that name them', async () => {
    const results = await ensureExampleArchives();
    for (const r of results) {
      const bytes = await readFile(r.file);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(r.sha256);
    }
  });

  it('hold a platform-independent worker that answers --version and serves /health', async () => {
    const [r] = (await ensureExampleArchives()).filter((x) => x.arch === 'x86_64');
    const tmp = await tempDir();
    try {
      await run('tar', ['-xzf', r!.file, '-C', tmp.dir]);
      const listing = (await run('tar', ['-tzvf', r!.file])).stdout;
      expect(listing).toContain('root/root');
      expect(listing).toContain('2026-01-01');
      const bin = join(tmp.dir, 'demo-worker-rbee-0.1.0-x86_64', 'demo-worker-rbee');
      const { stdout } = await run(process.execPath, [bin, '--version']);
      expect(stdout).toBe('demo-worker-rbee 0.1.0\n');
      expect(await health(process.execPath, [bin])).toMatchObject({ status: 'ok', worker: 'demo-worker-rbee', version: '0.1.0', arch: 'x86_64' });
    } finally {
      await tmp.cleanup();
    }
  });
});

describe('catalog documents', () => {
  it('workers.json equals the workers/<id>.json files, every entry validates, every pkgbuildUrl exists', async () => {
    const index = JSON.parse(await readFile(join(exampleCatalog, 'workers.json'), 'utf8')) as { workers: { id: string }[] };
    const files = (await readdir(join(exampleCatalog, 'workers'))).filter((n) => n.endsWith('.json')).sort();
    expect(files).toEqual(index.workers.map((w) => `${w.id}.json`).sort());
    for (const entry of index.workers) {
      const file = JSON.parse(await readFile(join(exampleCatalog, 'workers', `${entry.id}.json`), 'utf8')) as unknown;
      expect(file, entry.id).toEqual(entry);
    }
    const client = new CatalogClient({ url: exampleCatalog });
    for (const w of await client.listWorkers()) {
      for (const v of w.variants) {
        for (const u of [v.pkgbuildUrl, v.pkgbuildUrlGit].filter((x): x is string => x !== undefined)) {
          const text = await readFile(join(exampleCatalog, u), 'utf8');
          expect(text, u).toMatch(/^pkgname=/m);
        }
      }
    }
  });

  it('the source-built worker lists real checksums of its local sources', async () => {
    const dir = join(exampleCatalog, 'workers/demo-worker-rbee/cpu');
    const pkgbuild = await readFile(join(dir, 'PKGBUILD'), 'utf8');
    const sources = pkgbuildArray(pkgbuild, 'source');
    const sums = pkgbuildArray(pkgbuild, 'sha256sums');
    expect(sources).toEqual(['demo-worker.c', 'Makefile']);
    for (const [i, name] of sources.entries()) {
      const digest = createHash('sha256').update(await readFile(join(dir, name))).digest('hex');
      expect(sums[i], name).toBe(digest);
    }
  });

  it('the -dyn PKGBUILD needs bash: its top level picks the archive for uname -m', async () => {
    const dir = join(exampleCatalog, 'workers/demo-worker-rbee-dyn/cpu');
    const { stdout } = await run('bash', ['-c', 'source ./PKGBUILD && printf "%s\\n" "${source[@]}"'], { cwd: dir });
    const machine = (await run('uname', ['-m'])).stdout.trim();
    const arch = machine === 'arm64' ? 'aarch64' : machine === 'amd64' ? 'x86_64' : machine;
    expect(stdout.trim()).toBe(`demo-worker-rbee-0.1.0-${arch}.tar.gz`);
  });
});

describe('the source-built demo worker', () => {
  it('compiles with gcc without warnings, answers --version and serves /health', async () => {
    const tmp = await tempDir();
    try {
      const src = join(exampleCatalog, 'workers/demo-worker-rbee/cpu/demo-worker.c');
      const out = join(tmp.dir, 'demo-worker-rbee');
      const cc = await run('gcc', ['-std=c99', '-O2', '-Wall', '-Wextra', '-Wpedantic', '-Werror', '-o', out, src]);
      expect(cc.stderr).toBe('');
      expect((await run(out, ['--version'])).stdout).toBe('demo-worker-rbee 0.1.0\n');
      expect(await health(out, [])).toMatchObject({ status: 'ok', worker: 'demo-worker-rbee', version: '0.1.0' });
    } finally {
      await tmp.cleanup();
    }
  });
});
