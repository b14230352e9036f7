#!/usr/bin/env node
// The README's main job: build the packages, generate the example catalog's prebuilt archives,
// install the demo worker from the example catalog (offline), then run it: `--version`, and a
// `/health` request against it on loopback.
//
//   pnpm demo                      # installs demo-worker-rbee (built from source)
//   pnpm demo demo-worker-rbee-bin # the prebuilt variant
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const id = process.argv[2] ?? 'demo-worker-rbee';
const cli = join(root, 'packages/cli/dist/cli.js');

function step(title, cmd, args, opts = {}) {
  console.error(`\n▶ ${title}\n  $ ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: opts.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`✖ ${title} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
  return r.stdout;
}

// turbo from node_modules, so this works whether or not pnpm is on PATH (`npx pnpm demo`).
step('build the packages', join(root, 'node_modules/.bin/turbo'), ['run', 'build', '--output-logs=errors-only']);
step('generate the example catalog archives', process.execPath, [join(root, 'scripts/make-example-archives.mjs')]);
step(`install ${id} from the example catalog`, process.execPath, [cli, 'install', id]);
const info = JSON.parse(step(`look up ${id}`, process.execPath, [cli, 'info', id, '--json'], { capture: true }));
const exe = info.path ?? info.worker?.path;
if (!exe) {
  console.error('✖ `rbee-worker info --json` did not say where the executable is');
  process.exit(1);
}
step('run it', exe, ['--version']);

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
console.error(`\n▶ start it on 127.0.0.1:${port} and ask for /health`);
const worker = spawn(exe, ['--port', String(port), '--host', '127.0.0.1'], { stdio: 'inherit' });
let body;
for (let i = 0; i < 50 && body === undefined; i++) {
  await new Promise((r) => setTimeout(r, 100));
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    body = `${res.status} ${await res.text()}`;
  } catch {
    // not listening yet
  }
}
worker.kill('SIGTERM');
if (body === undefined) {
  console.error('✖ the worker did not answer /health within 5 s');
  process.exit(1);
}
console.log(`GET /health → ${body.trim()}`);
console.error(`\n✔ ${id} installed at ${exe} and answering on /health`);
