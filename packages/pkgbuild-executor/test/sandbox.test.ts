import { createServer, type Server } from 'node:net';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecutorError, inspectPkgbuild, runPkgbuild, type OutputLine } from '../src/index.js';
import { buildDir, bwrapWorks, tempDir } from './helpers.js';

let server: Server;
let port = 0;
beforeAll(async () => {
  server = createServer((sock) => {
    sock.once('data', () => sock.end('HTTP/1.0 200 OK\r\n\r\nloopback reached\n'));
    sock.on('error', () => {});
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const a = server.address();
  port = typeof a === 'object' && a ? a.port : 0;
});
afterAll(() => new Promise<void>((res) => server.close(() => res())));

async function probe(env: Record<string, string>, extra: { network?: boolean; writablePaths?: string[] } = {}): Promise<{ lines: string[]; error?: ExecutorError }> {
  const b = buildDir('sandbox-probe');
  const lines: OutputLine[] = [];
  try {
    await runPkgbuild({ ...b, startdir: b.dir, sandbox: 'bwrap', env, ...extra, onLine: (l) => lines.push(l), functions: ['build'] });
    return { lines: lines.map((l) => l.line) };
  } catch (e) {
    if (!ExecutorError.isInstance(e)) throw e;
    return { lines: lines.map((l) => l.line), error: e };
  }
}

describe.runIf(bwrapWorks)('bubblewrap sandbox', () => {
  it("a build() cannot write to the real user's home", async () => {
    const target = join(homedir(), 'rbee-sandbox-probe');
    rmSync(target, { force: true });
    const r = await probe({ PROBE: 'write-home', REAL_HOME: homedir() });
    expect(r.error?.code).toBe('E_FUNCTION_FAILED');
    expect(r.lines.join('\n')).toMatch(/Read-only file system|No such file/);
    expect(existsSync(target)).toBe(false);
  });

  it('a build() cannot read files outside its directories (a host temp file, /etc/shadow)', async () => {
    const secretDir = tempDir('rbee-secret-');
    const secret = join(secretDir, 'token');
    writeFileSync(secret, 'top-secret-value\n');
    const r = await probe({ PROBE: 'read-secret', SECRET_FILE: secret });
    expect(r.error?.code).toBe('E_FUNCTION_FAILED');
    expect(r.lines.join('\n')).not.toContain('top-secret-value');
    const shadow = await probe({ PROBE: 'read-secret', SECRET_FILE: '/etc/shadow' });
    // masked (a device node on a nodev bind: unreadable), never the real content
    expect(shadow.lines.join('\n')).not.toMatch(/^root:/m);
  });

  it('a build() cannot write outside srcdir/pkgdir (read-only /usr)', async () => {
    const r = await probe({ PROBE: 'write-usr' });
    expect(r.error?.code).toBe('E_FUNCTION_FAILED');
    expect(existsSync('/usr/rbee-sandbox-probe')).toBe(false);
  });

  it('declared writablePaths (caches) are writable, even under a hidden directory', async () => {
    const cache = join(tempDir('rbee-cache-'), 'cargo');
    const denied = await probe({ PROBE: 'write-cache', CACHE_DIR: cache });
    expect(denied.error?.code).toBe('E_FUNCTION_FAILED');
    const r = await probe({ PROBE: 'write-cache', CACHE_DIR: cache }, { writablePaths: [cache] });
    expect(r.error).toBeUndefined();
    expect(readFileSync(join(cache, 'entry'), 'utf8')).toBe('cached\n');
  });

  it('network: false cuts even loopback; network: true reaches the loopback server', async () => {
    const off = await probe({ PROBE: 'connect', PORT: String(port) });
    expect(off.error?.code).toBe('E_FUNCTION_FAILED');
    expect(off.lines.join('\n')).not.toContain('200 OK');
    const on = await probe({ PROBE: 'connect', PORT: String(port) }, { network: true });
    expect(on.error).toBeUndefined();
    expect(on.lines.join('\n')).toContain('HTTP/1.0 200 OK');
  });

  it("the caller's environment does not leak into the build", async () => {
    process.env['RBEE_TEST_LEAK'] = 'leaked-secret';
    try {
      const r = await probe({ PROBE: 'read-secret', SECRET_FILE: '/proc/self/environ' });
      expect(r.lines.join('\n')).not.toContain('leaked-secret');
    } finally {
      delete process.env['RBEE_TEST_LEAK'];
    }
  });

  it('inspect runs the top level without network and without writable paths', async () => {
    const dir = tempDir('rbee-inspect-sandbox-');
    const marker = join(dir, 'written-by-pkgbuild');
    writeFileSync(
      join(dir, 'PKGBUILD'),
      [
        'pkgname=probe',
        'pkgver=1',
        'pkgrel=1',
        'arch=(any)',
        `touch ${marker} 2>/dev/null && pkgdesc=wrote || pkgdesc=readonly`,
        `if exec 3<>/dev/tcp/127.0.0.1/${port}; then url=net; else url=nonet; fi 2>/dev/null`,
        'true',
        '',
      ].join('\n'),
    );
    const r = await inspectPkgbuild(join(dir, 'PKGBUILD'), { sandbox: 'bwrap' });
    expect(r.pkgbuild.vars['pkgdesc']).toBe('readonly');
    expect(r.pkgbuild.vars['url']).toBe('nonet');
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(join(dir, 'PKGBUILD'), 'utf8')).toContain('pkgname=probe');
  });
});
