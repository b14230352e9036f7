/**
 * The sandbox as an unprivileged user: bubblewrap then works through a user namespace, where a
 * real chown() fails with EINVAL (not EPERM), so fakeroot must not attempt it. Runs only when the
 * tests run as root (CI does) with the build user present and a built dist/.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bwrapWorks, fixturesDir, tempDir } from './helpers.js';

const user = process.env['MAKEPKG_USER'] ?? 'rbeebuild';
const dist = join(fixturesDir, '../../dist/index.js');
const hasUser = spawnSync('id', ['-u', user]).status === 0;
const enabled = process.getuid?.() === 0 && hasUser && bwrapWorks && existsSync(dist);

describe.runIf(enabled)(`as the unprivileged user ${user}`, () => {
  it('inspects and builds a split package in bubblewrap, with fakeroot ownership', () => {
    const dir = tempDir('rbee-unpriv-');
    chmodSync(dir, 0o755);
    const work = join(dir, 'split-sh');
    cpSync(join(fixturesDir, 'run/split-sh'), work, { recursive: true });
    const script = join(dir, 'run.mjs');
    writeFileSync(
      script,
      [
        `const { runPkgbuild, inspectPkgbuild } = await import(${JSON.stringify(dist)});`,
        `const d = ${JSON.stringify(work)};`,
        "const i = await inspectPkgbuild(d + '/PKGBUILD', { sandbox: 'bwrap' });",
        "const r = await runPkgbuild({ pkgbuildPath: d + '/PKGBUILD', startdir: d, srcdir: d + '/src', pkgdir: d + '/pkg', sandbox: 'bwrap' });",
        'console.log(JSON.stringify({ pkgname: i.pkgbuild.pkgname, sandbox: r.sandbox, fakeroot: r.fakeroot, uid: process.getuid() }));',
      ].join('\n'),
    );
    execFileSync('chown', ['-R', user, dir]);
    const out = execFileSync('runuser', ['-u', user, '--', process.execPath, script], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    expect(r).toMatchObject({ pkgname: ['greeter-en', 'greeter-fr'], sandbox: 'bwrap', fakeroot: true });
    expect(r['uid']).not.toBe(0);
    // inside fakeroot the package saw uid 0 and its chown 123:456
    expect(readFileSync(join(work, 'pkg/greeter-fr/info'), 'utf8')).toBe(`greeter-fr|Greeters|${join(work, 'pkg/greeter-fr')}|0\n123:456\n`);
  });
});
