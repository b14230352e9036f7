import { mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detectBackend } from '../src/backend-detection.js';
import { hashTree, readManifest, verifyTree, writeFileAtomic, type WorkerManifest } from '../src/manifest.js';
import { installedVersions, publishVersion, readCurrent, repairWorker } from '../src/worker-store.js';
import { fullVersion, MANIFEST_NAME, versionDirName, versionFromDirName, WorkersHome } from '../src/workers-home.js';

let root: string;
let home: WorkersHome;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'rbee-store-'));
  home = new WorkersHome(root);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Stage a complete version dir (files + manifest) the way the provisioner does. */
async function stage(name: string, version: string, content: string): Promise<string> {
  const dir = join(root, 'builds', `${name}-${version}-${content}`, 'pkg');
  await mkdir(join(dir, 'usr/bin'), { recursive: true });
  await writeFile(join(dir, 'usr/bin', name), `#!/bin/sh\necho ${content}\n`, { mode: 0o755 });
  const files = await hashTree(dir);
  const manifest: WorkerManifest = {
    schema: 1, pkgname: name, pkgbase: name, version, pkgver: version.split('-')[0] as string, pkgrel: '1',
    workerType: 'cpu', platform: 'linux', arch: 'x86_64', executable: `usr/bin/${name}`,
    capabilities: { supportedArchitectures: [], supportedFormats: [], maxContextLength: 0, supportsStreaming: false, supportsBatching: false },
    origin: { kind: 'directory', path: '/x' }, pkgbuildSha256: 'a', jobId: 'j', installedAt: new Date().toISOString(),
    size: files.reduce((n, f) => n + f.size, 0), files,
  };
  await writeFileAtomic(join(dir, MANIFEST_NAME), JSON.stringify(manifest));
  return dir;
}

describe('workers home', () => {
  it('writes a filesystem-safe directory name for epoch versions and reads it back', () => {
    const v = fullVersion('1.2', '3', '2');
    expect(v).toBe('2:1.2-3');
    expect(versionDirName(v)).toBe('2%3A1.2-3');
    expect(versionFromDirName(versionDirName(v))).toBe(v);
    expect(fullVersion('1.2', '3', '0')).toBe('1.2-3');
  });

  it('publishes with one rename and switches current; a new version leaves the old one intact', async () => {
    await publishVersion(home, 'w', '0.1.0-1', await stage('w', '0.1.0-1', 'one'), 'job1');
    expect(await readCurrent(home, 'w')).toBe('0.1.0-1');
    await publishVersion(home, 'w', '0.2.0-1', await stage('w', '0.2.0-1', 'two'), 'job2');
    expect(await readlink(home.currentLink('w'))).toBe('0.2.0-1');
    const versions = await installedVersions(home, 'w');
    expect(versions.map((v) => v.dirName).sort()).toEqual(['0.1.0-1', '0.2.0-1']);
    const old = versions.find((v) => v.dirName === '0.1.0-1');
    expect(old && (await verifyTree(old.dir, old.manifest)).changed).toEqual([]);
  });

  it('a forced reinstall can hand the replaced copy over for later removal; repair removes it after a crash', async () => {
    await publishVersion(home, 'w', '0.1.0-1', await stage('w', '0.1.0-1', 'one'), 'job1');
    const handed: string[] = [];
    await publishVersion(home, 'w', '0.1.0-1', await stage('w', '0.1.0-1', 'two'), 'job2', { disposeReplaced: (p) => handed.push(p) });
    expect(handed).toEqual([join(home.workerDir('w'), '.old~job2~0.1.0-1')]);
    // the new copy is live and listed; the old one is out of sight until it is removed
    const versions = await installedVersions(home, 'w');
    expect(versions.map((v) => v.dirName)).toEqual(['0.1.0-1']);
    expect(await readFile(join(home.versionDir('w', '0.1.0-1'), 'usr/bin/w'), 'utf8')).toContain('two');
    expect(await readCurrent(home, 'w')).toBe('0.1.0-1');
    // never removed (the process died): the next repair finishes the job
    await repairWorker(home, 'w');
    expect((await readdir(home.workerDir('w'))).sort()).toEqual(['0.1.0-1', 'current']);
    expect(await readFile(join(home.versionDir('w', '0.1.0-1'), 'usr/bin/w'), 'utf8')).toContain('two');
  });

  it('a crash between the two renames of a forced reinstall is rolled back to the old version', async () => {
    await publishVersion(home, 'w', '0.1.0-1', await stage('w', '0.1.0-1', 'one'), 'job1');
    // simulate: old moved aside, new not yet renamed in, then SIGKILL
    const { rename } = await import('node:fs/promises');
    await rename(home.versionDir('w', '0.1.0-1'), join(home.workerDir('w'), '.old~job2~0.1.0-1'));
    await writeFile(join(home.workerDir('w'), '.current~abc'), '');
    expect(await installedVersions(home, 'w')).toEqual([]);
    await repairWorker(home, 'w');
    const versions = await installedVersions(home, 'w');
    expect(versions.map((v) => v.dirName)).toEqual(['0.1.0-1']);
    expect(await readManifest(home.versionDir('w', '0.1.0-1'))).toBeDefined();
    expect((await readdir(home.workerDir('w'))).sort()).toEqual(['0.1.0-1', 'current']);
  });

  it('a version directory without its manifest is never listed and is swept', async () => {
    await publishVersion(home, 'w', '0.1.0-1', await stage('w', '0.1.0-1', 'one'), 'job1');
    await mkdir(join(home.workerDir('w'), '0.3.0-1', 'usr'), { recursive: true });
    expect((await installedVersions(home, 'w')).map((v) => v.dirName)).toEqual(['0.1.0-1']);
    await repairWorker(home, 'w');
    expect((await readdir(home.workerDir('w'))).sort()).toEqual(['0.1.0-1', 'current']);
  });

  it('verify reports changed, missing and extra files', async () => {
    await publishVersion(home, 'w', '0.1.0-1', await stage('w', '0.1.0-1', 'one'), 'job1');
    const [v] = await installedVersions(home, 'w');
    if (!v) throw new Error('not installed');
    await writeFile(join(v.dir, 'usr/bin/w'), '#!/bin/sh\necho evil\n', { mode: 0o755 });
    await writeFile(join(v.dir, 'usr/bin/extra'), 'x');
    const r = await verifyTree(v.dir, v.manifest);
    expect(r).toMatchObject({ changed: ['usr/bin/w'], missing: [], extra: ['usr/bin/extra'] });
    await rm(join(v.dir, 'usr/bin/w'));
    expect((await verifyTree(v.dir, v.manifest)).missing).toEqual(['usr/bin/w']);
  });
});

describe('detectBackend', () => {
  it('finds cuda from nvidia-smi on PATH, rocm from /opt/rocm, metal on macOS arm64, else cpu', async () => {
    const fake = join(root, 'fake');
    await mkdir(join(fake, 'bin'), { recursive: true });
    await mkdir(join(fake, 'opt/rocm'), { recursive: true });
    const empty = join(root, 'empty');
    await mkdir(empty);
    expect(await detectBackend({ platform: 'linux', arch: 'x86_64', path: empty, root: empty })).toBe('cpu');
    expect(await detectBackend({ platform: 'linux', arch: 'x86_64', path: empty, root: fake })).toBe('rocm');
    await writeFile(join(fake, 'bin/nvidia-smi'), '#!/bin/sh\n', { mode: 0o755 });
    expect(await detectBackend({ platform: 'linux', arch: 'x86_64', path: join(fake, 'bin'), root: fake })).toBe('cuda');
    await mkdir(join(fake, 'proc/driver/nvidia'), { recursive: true });
    expect(await detectBackend({ platform: 'linux', arch: 'x86_64', path: empty, root: fake })).toBe('cuda');
    expect(await detectBackend({ platform: 'macos', arch: 'aarch64', path: empty, root: empty })).toBe('metal');
    expect(await detectBackend({ platform: 'macos', arch: 'x86_64', path: empty, root: empty })).toBe('cpu');
  });
});

describe('sweepBuilds', () => {
  it('removes dead jobs and failed builds beyond the retention, keeps live jobs and recent failures', async () => {
    const { createJobDirs, markFailed, sweepBuilds } = await import('../src/build-dirs.js');
    const { spawnSync } = await import('node:child_process');
    const { hostname } = await import('node:os');
    const live = await createJobDirs(home, 'live', {});
    const dead = await createJobDirs(home, 'dead', {});
    const deadPid = Number(spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim());
    await writeFile(join(dead.root, 'job.json'), JSON.stringify({ pid: deadPid, token: 'x', hostname: hostname(), since: 1 }));
    for (const [i, id] of ['f1', 'f2', 'f3'].entries()) {
      const d = await createJobDirs(home, id, {});
      await markFailed(d, { code: 'E_X' });
      await writeFile(join(d.root, 'failed.json'), JSON.stringify({ failedAt: 1000 + i }));
    }
    const removed = await sweepBuilds(home, { keepFailed: 2, maxFailedAgeMs: 1e12 }, 5000);
    expect(removed.sort()).toEqual(['dead', 'f1']);
    expect((await readdir(home.buildsDir)).sort()).toEqual(['f2', 'f3', 'live']);
    // age bound
    expect((await sweepBuilds(home, { keepFailed: 5, maxFailedAgeMs: 3998.5 }, 5000)).sort()).toEqual(['f2']);
    expect(live.root).toBe(home.buildDir('live'));
  });

  it('deletes a build dir by renaming it aside first, so a kill mid-delete never leaves a dir that looks like a job being set up', async () => {
    const { createJobDirs, discardBuildDir, sweepBuilds } = await import('../src/build-dirs.js');
    const done = await createJobDirs(home, 'done', {});
    await writeFile(join(done.srcdir, 'big'), 'x');
    await discardBuildDir(done.root);
    expect(await readdir(home.buildsDir)).not.toContain('done');
    // what a SIGKILL during the removal leaves: the renamed dir, half emptied, without job.json
    await mkdir(join(home.buildsDir, '.discard-killed-0a1b2c3d/src'), { recursive: true });
    const before = Date.now();
    await sweepBuilds(home, {}, before);
    expect(await readdir(home.buildsDir)).not.toContain('.discard-killed-0a1b2c3d');
  });
});
