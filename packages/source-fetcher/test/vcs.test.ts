import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fetchSources } from '../src/index.js';
import { cleanupTempDirs, pkgbuild, rejectionOf, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e', GIT_CONFIG_NOSYSTEM: '1' };
function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'init.defaultBranch=main', ...args], { cwd, env: gitEnv, encoding: 'utf8' }).trim();
}
function has(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function upstream(): { repo: string; first: string; second: string } {
  const repo = join(mkdtempSync(join(tmpdir(), 'rbee-up-')), 'proj');
  mkdirSync(repo);
  git(repo, 'init', '-q');
  writeFileSync(join(repo, 'file.txt'), 'v1\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'one');
  git(repo, 'tag', '-a', 'v1', '-m', 'release 1');
  const first = git(repo, 'rev-parse', 'HEAD');
  git(repo, 'checkout', '-qb', 'feature');
  writeFileSync(join(repo, 'file.txt'), 'feature\n');
  git(repo, 'commit', '-qam', 'two');
  const second = git(repo, 'rev-parse', 'HEAD');
  git(repo, 'checkout', '-q', 'main');
  return { repo, first, second };
}

async function dirs(): Promise<{ startdir: string; srcdest: string; srcdir: string }> {
  const base = await tempDir('rbee-job-');
  mkdirSync(join(base, 'pkg'));
  return { startdir: join(base, 'pkg'), srcdest: join(base, 'sources'), srcdir: join(base, 'pkg', 'src') };
}

describe('git sources', () => {
  let up: { repo: string; first: string; second: string };
  beforeAll(() => {
    up = upstream();
  });
  afterAll(() => rmSync(dirname(up.repo), { recursive: true, force: true }));

  it('mirrors into srcdest and checks out tag/branch/commit on branch makepkg, like makepkg', async () => {
    const d = await dirs();
    const url = `git+${pathToFileURL(up.repo).href}`;
    const r = await fetchSources({ pkgbuild: pkgbuild({ source: [`${url}#tag=v1`, `feat::${url}#branch=feature`, `pin::${url}#commit=${up.second}`], sha256sums: ['SKIP', 'SKIP', 'SKIP'] }), ...d });
    expect(r[0]?.path).toBe(join(d.srcdest, 'proj'));
    expect(git(join(d.srcdest, 'proj'), 'config', '--get', 'remote.origin.mirror')).toBe('true');
    expect(git(join(d.srcdest, 'proj'), 'rev-parse', '--is-bare-repository')).toBe('true');
    expect(readFileSync(join(d.srcdir, 'proj/file.txt'), 'utf8')).toBe('v1\n');
    expect(git(join(d.srcdir, 'proj'), 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('makepkg');
    expect(git(join(d.srcdir, 'proj'), 'rev-parse', 'HEAD')).toBe(up.first);
    expect(readFileSync(join(d.srcdir, 'feat/file.txt'), 'utf8')).toBe('feature\n');
    expect(git(join(d.srcdir, 'pin'), 'rev-parse', 'HEAD')).toBe(up.second);
    expect(readFileSync(join(d.srcdir, 'proj/.git/objects/info/alternates'), 'utf8').trim()).toBe(join(d.srcdest, 'proj/objects'));
  });

  it('updates an existing mirror instead of re-cloning it', async () => {
    const d = await dirs();
    const url = `git+${pathToFileURL(up.repo).href}#branch=main`;
    await fetchSources({ pkgbuild: pkgbuild({ source: [url], sha256sums: ['SKIP'] }), ...d });
    writeFileSync(join(d.srcdest, 'proj', 'marker'), 'survives an update');
    writeFileSync(join(up.repo, 'new.txt'), 'new\n');
    git(up.repo, 'add', '.');
    git(up.repo, 'commit', '-qm', 'three');
    const r = await fetchSources({ pkgbuild: pkgbuild({ source: [url], sha256sums: ['SKIP'] }), ...d });
    expect(r[0]?.fromCache).toBe(true);
    expect(readFileSync(join(d.srcdest, 'proj', 'marker'), 'utf8')).toBe('survives an update');
    expect(readFileSync(join(d.srcdir, 'proj/new.txt'), 'utf8')).toBe('new\n');
    git(up.repo, 'reset', '-q', '--hard', 'HEAD~1');
  });

  it('E_GIT_REF_NOT_FOUND for a missing tag, branch or commit, leaving no working copy', async () => {
    const url = `git+${pathToFileURL(up.repo).href}`;
    for (const frag of ['tag=v9', 'branch=nope', `commit=${'0'.repeat(40)}`]) {
      const d = await dirs();
      const e = await rejectionOf(fetchSources({ pkgbuild: pkgbuild({ source: [`${url}#${frag}`], sha256sums: ['SKIP'] }), ...d }));
      expect(e.code, `${frag}: ${e.message}`).toBe('E_GIT_REF_NOT_FOUND');
      expect(existsSync(join(d.srcdir, 'proj'))).toBe(false);
    }
  });

  it('E_GIT_TAG_FORGED when a tag ref points at a tag object of another name (makepkg\'s check)', async () => {
    git(up.repo, 'update-ref', 'refs/tags/v1-forged', git(up.repo, 'rev-parse', 'refs/tags/v1'));
    try {
      const d = await dirs();
      const e = await rejectionOf(fetchSources({ pkgbuild: pkgbuild({ source: [`git+${pathToFileURL(up.repo).href}#tag=v1-forged`], sha256sums: ['SKIP'] }), ...d }));
      expect(e.code).toBe('E_GIT_TAG_FORGED');
      expect(existsSync(join(d.srcdir, 'proj'))).toBe(false);
    } finally {
      git(up.repo, 'update-ref', '-d', 'refs/tags/v1-forged');
    }
  });

  it('never passes option-like URLs or refs to git (E_INVALID_SOURCE)', async () => {
    const d = await dirs();
    const pwned = join(d.startdir, 'pwned');
    for (const s of [`x::git+--upload-pack=touch ${pwned};://x`, `${pathToFileURL(up.repo).href.replace('file', 'git+file')}#commit=--output`]) {
      const e = await rejectionOf(fetchSources({ pkgbuild: pkgbuild({ source: [s], sha256sums: ['SKIP'] }), ...d }));
      expect(e.code, `${s}: ${e.message}`).toBe('E_INVALID_SOURCE');
    }
    const e2 = await rejectionOf(fetchSources({ pkgbuild: pkgbuild({ source: [`git+${pathToFileURL(up.repo).href}#bookmark=x`], sha256sums: ['SKIP'] }), ...d }));
    expect(e2.code).toBe('E_INVALID_SOURCE');
    expect(existsSync(pwned)).toBe(false);
  });

  it('?signed without gpg on PATH: E_SIGNATURE_UNVERIFIABLE; with gpg and an unsigned tag: E_SIGNATURE_INVALID', async () => {
    const d = await dirs();
    const src = `git+${pathToFileURL(up.repo).href}#tag=v1?signed`;
    const bin = await tempDir('rbee-bin-');
    symlinkSync(execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim(), join(bin, 'git'));
    const path = process.env.PATH;
    process.env.PATH = bin;
    try {
      const e = await rejectionOf(fetchSources({ pkgbuild: pkgbuild({ source: [src], sha256sums: ['SKIP'] }), ...d }));
      expect(e.code).toBe('E_SIGNATURE_UNVERIFIABLE');
    } finally {
      process.env.PATH = path;
    }
    if (has('gpg')) {
      const gnupg = await tempDir('rbee-gpg-');
      const prev = process.env.GNUPGHOME;
      process.env.GNUPGHOME = gnupg;
      try {
        const e = await rejectionOf(fetchSources({ pkgbuild: pkgbuild({ source: [src], sha256sums: ['SKIP'] }), ...d }));
        expect(e.code).toBe('E_SIGNATURE_INVALID');
        expect(existsSync(join(d.srcdir, 'proj'))).toBe(false);
      } finally {
        if (prev === undefined) delete process.env.GNUPGHOME;
        else process.env.GNUPGHOME = prev;
      }
    }
  });

  it.skipIf(!has('gpg'))('?signed accepts a tag signed with a key in the keyring', async () => {
    const gnupg = await tempDir('rbee-gpg-');
    const env = { ...gitEnv, GNUPGHOME: gnupg };
    execFileSync('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'rbee test <t@example.org>', 'ed25519', 'sign', 'never'], { env, stdio: 'ignore' });
    execFileSync('git', ['-c', 'user.signingkey=t@example.org', 'tag', '-s', 'v1-signed', '-m', 'signed release'], { cwd: up.repo, env, stdio: 'ignore' });
    const prev = process.env.GNUPGHOME;
    process.env.GNUPGHOME = gnupg;
    try {
      const d = await dirs();
      const r = await fetchSources({ pkgbuild: pkgbuild({ source: [`git+${pathToFileURL(up.repo).href}#tag=v1-signed?signed`], sha256sums: ['SKIP'] }), ...d });
      expect(r[0]?.workdir).toBe(join(d.srcdir, 'proj'));
      expect(git(join(d.srcdir, 'proj'), 'rev-parse', 'HEAD')).toBe(up.first);
    } finally {
      if (prev === undefined) delete process.env.GNUPGHOME;
      else process.env.GNUPGHOME = prev;
      git(up.repo, 'tag', '-d', 'v1-signed');
    }
  });

  it.skipIf(process.getuid?.() !== 0)('works on a mirror owned by another uid without touching global git config', async () => {
    const d = await dirs();
    const url = `git+${pathToFileURL(up.repo).href}`;
    await fetchSources({ pkgbuild: pkgbuild({ source: [url], sha256sums: ['SKIP'] }), ...d, extract: false });
    const globalCfg = join(homedir(), '.gitconfig');
    const before = existsSync(globalCfg) ? readFileSync(globalCfg, 'utf8') : null;
    execFileSync('chown', ['-R', '65534:65534', join(d.srcdest, 'proj')]);
    // Plain git refuses the foreign-owned mirror, so the test means something.
    expect(() => execFileSync('git', ['-C', join(d.srcdest, 'proj'), 'rev-parse', '--git-dir'], { stdio: 'pipe' })).toThrow(/dubious ownership/);
    const r = await fetchSources({ pkgbuild: pkgbuild({ source: [`${url}#tag=v1`], sha256sums: ['SKIP'] }), ...d });
    expect(r[0]?.fromCache).toBe(true);
    expect(readFileSync(join(d.srcdir, 'proj/file.txt'), 'utf8')).toBe('v1\n');
    expect(existsSync(globalCfg) ? readFileSync(globalCfg, 'utf8') : null).toBe(before);
  });
});

describe.skipIf(!has('hg'))('hg sources', () => {
  it('clones into srcdest and checks out the revision in srcdir', async () => {
    const repo = join(await tempDir('rbee-hg-'), 'hgproj');
    mkdirSync(repo);
    execFileSync('hg', ['init'], { cwd: repo });
    writeFileSync(join(repo, 'a.txt'), 'rev0\n');
    execFileSync('hg', ['commit', '-q', '-A', '-u', 't', '-m', 'zero'], { cwd: repo });
    writeFileSync(join(repo, 'a.txt'), 'rev1\n');
    execFileSync('hg', ['commit', '-q', '-u', 't', '-m', 'one'], { cwd: repo });
    const d = await dirs();
    await fetchSources({ pkgbuild: pkgbuild({ source: [`hg+${pathToFileURL(repo).href}#revision=0`], sha256sums: ['SKIP'] }), ...d });
    expect(existsSync(join(d.srcdest, 'hgproj/.hg'))).toBe(true);
    expect(readFileSync(join(d.srcdir, 'hgproj/a.txt'), 'utf8')).toBe('rev0\n');

    // a new upstream commit: the existing mirror is pulled, not cloned again
    writeFileSync(join(repo, 'a.txt'), 'rev2\n');
    execFileSync('hg', ['commit', '-q', '-u', 't', '-m', 'two'], { cwd: repo });
    writeFileSync(join(d.srcdest, 'hgproj/.hg/rbee-marker'), 'kept');
    await fetchSources({ pkgbuild: pkgbuild({ source: [`hg+${pathToFileURL(repo).href}#revision=2`], sha256sums: ['SKIP'] }), ...d });
    expect(readFileSync(join(d.srcdest, 'hgproj/.hg/rbee-marker'), 'utf8')).toBe('kept');
    expect(readFileSync(join(d.srcdir, 'hgproj/a.txt'), 'utf8')).toBe('rev2\n');

    // upstream gone: the pull fails with a warning and the mirror it has is used
    rmSync(repo, { recursive: true, force: true });
    const warnings: string[] = [];
    await fetchSources({ pkgbuild: pkgbuild({ source: [`hg+${pathToFileURL(repo).href}#revision=1`], sha256sums: ['SKIP'] }), ...d, onWarning: (m: string) => warnings.push(m) });
    expect(warnings.join('\n')).toMatch(/Failure while updating hgproj hg repo/);
    expect(readFileSync(join(d.srcdir, 'hgproj/a.txt'), 'utf8')).toBe('rev1\n');
  });
});

describe.skipIf(!has('svn') || !has('svnadmin'))('svn sources', () => {
  it('checks out the revision into srcdest and copies it into srcdir', async () => {
    const base = await tempDir('rbee-svn-');
    execFileSync('svnadmin', ['create', join(base, 'repo')]);
    mkdirSync(join(base, 'imp'));
    writeFileSync(join(base, 'imp', 'b.txt'), 'r1\n');
    const url = `${pathToFileURL(join(base, 'repo')).href}/trunk`;
    execFileSync('svn', ['import', '-q', '-m', 'init', join(base, 'imp'), url]);
    const d = await dirs();
    await fetchSources({ pkgbuild: pkgbuild({ source: [`svn+${url}#revision=1`], sha256sums: ['SKIP'] }), ...d });
    expect(readFileSync(join(d.srcdir, 'trunk/b.txt'), 'utf8')).toBe('r1\n');
    // a new revision upstream: the existing checkout in srcdest is updated to it
    execFileSync('svn', ['checkout', '-q', url, join(base, 'wc')]);
    writeFileSync(join(base, 'wc', 'b.txt'), 'r2\n');
    execFileSync('svn', ['commit', '-q', '-m', 'two', join(base, 'wc')]);
    await fetchSources({ pkgbuild: pkgbuild({ source: [`svn+${url}#revision=2`], sha256sums: ['SKIP'] }), ...d });
    expect(readFileSync(join(d.srcdest, 'trunk/b.txt'), 'utf8')).toBe('r2\n');
    expect(readFileSync(join(d.srcdir, 'trunk/b.txt'), 'utf8')).toBe('r2\n');
    const e = await rejectionOf(fetchSources({ pkgbuild: pkgbuild({ source: [`x::svn+${url}#branch=y`], sha256sums: ['SKIP'] }), ...d }));
    expect(e.code).toBe('E_INVALID_SOURCE');
  });
});
