import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const cache = new Map<string, string>();

/**
 * The text of a bash driver shipped next to this module (`inspect-driver.sh`,
 * `run-driver.sh`). Callers copy it into their scratch directory (visible inside the sandbox)
 * and run it as a script file, not with `bash -c`: makepkg is a script, so a PKGBUILD reading
 * `$-` must see `hB`, not `hBc`.
 */
export function driverText(name: 'inspect' | 'run'): string {
  let t = cache.get(name);
  if (t === undefined) {
    // the makepkg helpers both drivers define live in one file, spliced in where a driver says
    const lib = readFileSync(new URL('./makepkg-lib.sh', import.meta.url), 'utf8');
    t = readFileSync(new URL(`./${name}-driver.sh`, import.meta.url), 'utf8').replace('# @include makepkg-lib.sh\n', () => lib);
    cache.set(name, t);
  }
  return t;
}

/** Writes the driver into `dir` and returns its path. */
export function writeDriver(name: 'inspect' | 'run', dir: string): string {
  const path = join(dir, `${name}-driver.sh`);
  writeFileSync(path, driverText(name), { mode: 0o644 });
  return path;
}
