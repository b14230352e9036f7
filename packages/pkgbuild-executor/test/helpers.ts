import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { afterAll } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
export const fixturesDir = join(here, 'fixtures');
export const repoRoot = join(here, '../../..');

/** Whether bubblewrap works here (the sandboxed variants of the tests need it). */
export const bwrapWorks =
  spawnSync('bwrap', ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-pid', '--unshare-net', '--', '/bin/true']).status === 0;

/** The sandbox modes to exercise: both when bubblewrap works, else only 'none'. */
export const sandboxModes: Array<'bwrap' | 'none'> = bwrapWorks ? ['bwrap', 'none'] : ['none'];

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh temp dir removed after the test file. */
export function tempDir(prefix = 'rbee-exec-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/** Copies `fixtures/run/<name>` into a temp dir laid out like a build: `<dir>/{PKGBUILD,…}`, `src`, `pkg`. */
export function buildDir(name: string): { dir: string; pkgbuildPath: string; srcdir: string; pkgdir: string } {
  const dir = tempDir(`rbee-${name}-`);
  cpSync(join(fixturesDir, 'run', name), dir, { recursive: true });
  return { dir, pkgbuildPath: join(dir, 'PKGBUILD'), srcdir: join(dir, 'src'), pkgdir: join(dir, 'pkg') };
}

/** Host pids of live processes whose command line contains `needle` (zombies excluded). */
export function processesMatching(needle: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (!cmd.includes(needle)) continue;
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z') out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

export async function waitFor(cond: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}
