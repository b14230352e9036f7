import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

async function isExecutableFile(p: string): Promise<boolean> {
  try {
    const st = await lstat(p);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

async function listFiles(root: string, rel = '', out: string[] = []): Promise<string[]> {
  const entries = await readdir(rel ? join(root, rel) : root, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) await listFiles(root, r, out);
    else out.push(r);
  }
  return out;
}

function inBin(p: string): boolean {
  return p.split('/').slice(0, -1).some((seg) => seg === 'bin' || seg === 'sbin');
}

function base(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/**
 * Find the worker's executable in a package tree, as a path relative to `root`:
 * 1. the variant's `installPath` (`/usr/bin/x` → `usr/bin/x`) when that file is there;
 * 2. a file named `binaryName` in a `bin` directory, then anywhere;
 * 3. without a `binaryName`: the only executable in a `bin` directory, or the one named like
 *    the package (with `-bin`/`-git` suffixes dropped).
 * Returns undefined when nothing fits.
 */
export async function findExecutable(
  root: string,
  hints: { binaryName?: string | undefined; installPath?: string | undefined; pkgname: string },
): Promise<string | undefined> {
  if (hints.installPath) {
    const rel = hints.installPath.replace(/^\/+/, '');
    if (rel && !rel.split('/').includes('..') && (await isExecutableFile(join(root, rel)))) return rel;
  }
  const files = await listFiles(root);
  const executables: string[] = [];
  for (const f of files) if (await isExecutableFile(join(root, f))) executables.push(f);
  executables.sort();
  if (hints.binaryName) {
    const named = executables.filter((f) => base(f) === hints.binaryName);
    return named.find(inBin) ?? named[0];
  }
  const bins = executables.filter(inBin);
  if (bins.length === 1) return bins[0];
  const stem = hints.pkgname.replace(/-(bin|git)$/, '');
  return bins.find((f) => base(f) === hints.pkgname) ?? bins.find((f) => base(f) === stem);
}
