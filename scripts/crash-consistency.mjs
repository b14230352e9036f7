#!/usr/bin/env node
// The larger crash-consistency sweep of issue 8: SIGKILL `rbee-worker install` at N seeded random
// moments spread over every install phase, checking after each kill that `list` shows no
// half-installed worker, the previous version still runs, no build process is left and the next
// install succeeds. It runs the same suite CI runs (tests/e2e/test/crash.test.ts, 5 points) with
// more points.
//
//   pnpm exec node scripts/crash-consistency.mjs --points 30 [--seed 12345] [--sandbox-only]
//
// About 40 % of the points build with --no-sandbox (the executor's watchdog must stop the build
// then, not bwrap); --sandbox-only keeps every point in bubblewrap.
//
// Needs the packages built (`pnpm turbo run build`). Exit status is the suite's.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = args[i + 1];
  if (v === undefined || !/^\d+$/.test(v)) {
    console.error(`--${name} needs a number`);
    process.exit(2);
  }
  return v;
};
const points = opt('points', '30');
const seed = opt('seed', String(Math.floor(Math.random() * 2 ** 31)));
console.error(`crash consistency: ${points} kill points, seed ${seed} (replay: --seed ${seed})`);
const r = spawnSync('pnpm', ['exec', 'vitest', 'run', 'test/crash.test.ts'], {
  cwd: join(root, 'tests', 'e2e'),
  stdio: 'inherit',
  env: { ...process.env, RBEE_CRASH_POINTS: points, RBEE_E2E_SEED: seed, ...(args.includes('--sandbox-only') ? { RBEE_CRASH_NO_SANDBOX: '0' } : {}) },
});
process.exit(r.status ?? 1);
