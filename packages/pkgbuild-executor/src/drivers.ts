import { readFileSync } from 'node:fs';

const cache = new Map<string, string>();

/**
 * The text of a bash driver shipped next to this module (`inspect-driver.sh`,
 * `run-driver.sh`), passed to `bash -c` so that it need not be readable inside the sandbox.
 */
export function driverText(name: 'inspect' | 'run'): string {
  let t = cache.get(name);
  if (t === undefined) {
    t = readFileSync(new URL(`./${name}-driver.sh`, import.meta.url), 'utf8');
    cache.set(name, t);
  }
  return t;
}
