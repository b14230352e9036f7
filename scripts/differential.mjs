#!/usr/bin/env node
// Larger property-based differential run of @rbee/pkgbuild-parser against makepkg:
//   pnpm exec node scripts/differential.mjs --runs 500 [--seed N] [--out DIR]
// Runs packages/pkgbuild-parser/test/differential.test.ts with RBEE_DIFF_RUNS=<runs> in batches
// (one oracle process per batch), keeping every disagreement (PKGBUILD + makepkg's output) under
// --out (default /tmp/rbee-differential) so it can become a conformance fixture.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
};
const runs = Number(arg('runs', '500'));
const batch = Number(arg('batch', '50'));
let seed = Number(arg('seed', String(Date.now() % 2 ** 31)));
const out = arg('out', '/tmp/rbee-differential');
mkdirSync(out, { recursive: true });

let failedBatches = 0;
for (let done = 0; done < runs; done += batch, seed++) {
  const n = Math.min(batch, runs - done);
  console.log(`batch: ${n} PKGBUILDs, seed ${seed}`);
  const r = spawnSync(
    'pnpm',
    ['--filter', '@rbee/pkgbuild-parser', 'exec', 'vitest', 'run', 'test/differential.test.ts', '--reporter=dot'],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, RBEE_DIFF_RUNS: String(n), FAST_CHECK_SEED: String(seed), RBEE_DIFF_OUT: out },
    },
  );
  if (r.status !== 0) failedBatches++;
}
console.log(`${runs} generated PKGBUILDs; ${failedBatches} batch(es) with disagreements; kept in ${join(out)}`);
process.exit(failedBatches ? 1 : 0);
