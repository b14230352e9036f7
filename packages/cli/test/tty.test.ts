// The live view in a REAL terminal: tmux runs the CLI in a 120x40 pane; we read the screen with
// `capture-pane` while it installs, and at the end.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCatalogServer, type CatalogServer } from '@rbee/catalog-client/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanup, cliPath, ensureExampleArchives, exampleCatalog, fixtures, processesWith, tempDir } from './cli-harness.js';

const socket = `rbee-cli-test-${process.pid}`;
let server: CatalogServer;
let url: string;
const homes: string[] = [];

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Starts `rbee-worker args` in a new tmux session; the shell prints EXIT:<code> when it ends. */
function startInTerminal(name: string, args: string[]): void {
  const home = tempDir('tty');
  homes.push(home);
  const cmd = [
    'env -u CI -u NO_COLOR -u FORCE_COLOR TERM=xterm-256color',
    `XDG_CACHE_HOME=${sh(join(home, 'xdg'))}`,
    sh(process.execPath),
    sh(cliPath),
    ...args.map(sh),
    '--home',
    sh(home),
    '; echo EXIT:$?; sleep 600',
  ].join(' ');
  tmux('new-session', '-d', '-s', name, '-x', '120', '-y', '40', cmd);
}

const screen = (name: string) => tmux('capture-pane', '-p', '-J', '-t', name);

/** Polls the screen (at most `tries` × 100 ms) until `done(screen)`; returns every distinct screen seen. */
async function watch(name: string, done: (s: string) => boolean, tries = 600): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < tries; i++) {
    const s = screen(name);
    if (seen.at(-1) !== s) seen.push(s);
    if (done(s)) return seen;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the terminal never reached the expected state; last screen:\n${seen.at(-1)}`);
}

const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] build/;

beforeAll(async () => {
  assertBuilt();
  ensureExampleArchives();
  server = createCatalogServer({ dir: exampleCatalog });
  url = await server.listen(0, '127.0.0.1');
});

afterAll(async () => {
  spawnSync('tmux', ['-L', socket, 'kill-server']);
  await server?.close();
  for (const h of homes) cleanup(h);
});

describe('live view in a real terminal (tmux)', () => {
  it('shows phases with spinners and the build log while installing, then the final frame and the summary line', async () => {
    startInTerminal('install', ['install', 'demo-worker-rbee', '--catalog', url]);
    const screens = await watch('install', (s) => s.includes('EXIT:'));
    const final = screens.at(-1)!;
    // while building: a spinner on the build line, and the compiler command scrolling under it
    // (the first frames of the build may come before its first line of output)
    const during = screens.find((s) => SPINNER.test(s) && /\n {4}│ cc /.test(s));
    expect(during, screens.join('\n-----\n')).toBeDefined();
    // at the end: every phase once (redrawn in place, not appended), no spinner, the summary, exit 0
    expect(final).toMatch(/^Installing demo-worker-rbee from http:\/\/127\.0\.0\.1:\d+\/\n/);
    for (const phase of ['resolve', 'fetch', 'verify', 'extract', 'build', 'check', 'package', 'install']) {
      expect(final.match(new RegExp(`^✔ ${phase} +\\d`, 'gm')), phase).toHaveLength(1);
    }
    expect(final).toMatch(/^↓ prepare +skipped: /m);
    expect(final).not.toMatch(SPINNER);
    expect(final).not.toContain('│ cc ');
    expect(final).toMatch(/^✔ installed demo-worker-rbee 0\.1\.0-1 \(cpu\) → \/\S+\/workers\/demo-worker-rbee\/0\.1\.0-1\/usr\/bin\/demo-worker-rbee in [0-9.]+m?s\nEXIT:0$/m);
    // RBEE_TTY_CAPTURE=<dir> keeps the screens (the README's captures come from here)
    if (process.env.RBEE_TTY_CAPTURE) {
      writeFileSync(join(process.env.RBEE_TTY_CAPTURE, 'install-building.txt'), during!);
      writeFileSync(join(process.env.RBEE_TTY_CAPTURE, 'install-final.txt'), final);
    }
  });

  it('draws a progress bar with size, rate and ETA while a source downloads (a loopback server that trickles it)', async () => {
    const size = 1_500_000;
    const blob = Buffer.alloc(size, 7);
    // 30 chunks, 100 ms apart: about 3 s of download
    const trickle: Server = createServer((req, res) => {
      res.writeHead(200, { 'content-length': String(size), 'content-type': 'application/octet-stream' });
      let i = 0;
      const step = size / 30;
      const timer = setInterval(() => {
        res.write(blob.subarray(i * step, (i + 1) * step));
        if (++i === 30) {
          clearInterval(timer);
          res.end();
        }
      }, 100);
      req.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((r) => trickle.listen(0, '127.0.0.1', r));
    const port = (trickle.address() as { port: number }).port;
    const dir = tempDir('tty-dl');
    homes.push(dir);
    mkdirSync(join(dir, 'w'));
    writeFileSync(
      join(dir, 'w', 'PKGBUILD'),
      [
        'pkgname=download-worker-rbee',
        'pkgver=1.0.0',
        'pkgrel=1',
        "pkgdesc='downloads a blob'",
        "arch=('any')",
        "url='https://example.invalid'",
        "license=('MIT')",
        `source=("model-blob.bin::http://127.0.0.1:${port}/model-blob.bin")`,
        `sha256sums=('${createHash('sha256').update(blob).digest('hex')}')`,
        'package() {',
        '  install -Dm755 /dev/null "$pkgdir/usr/bin/download-worker-rbee"',
        '}',
        '',
      ].join('\n'),
    );
    try {
      startInTerminal('download', ['build', join(dir, 'w')]);
      const screens = await watch('download', (s) => s.includes('EXIT:'));
      const bar = screens.find((s) => /^ {4}model-blob\.bin {2}█*░+ {2}[0-9.]+ (kB|MB) \/ 1\.5 MB {2}[0-9.]+ (kB|MB)\/s {2}ETA [0-9.]+m?s$/m.test(s));
      expect(bar, screens.join('\n-----\n')).toBeDefined();
      expect(bar).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] fetch /m);
      if (process.env.RBEE_TTY_CAPTURE) writeFileSync(join(process.env.RBEE_TTY_CAPTURE, 'download.txt'), bar!);
      const final = screens.at(-1)!;
      expect(final).toMatch(/^✔ fetch +[0-9.]+m?s$/m);
      expect(final).not.toContain('model-blob.bin');
      expect(final).toMatch(/^✔ built and installed download-worker-rbee 1\.0\.0-1 /m);
      expect(final).toContain('EXIT:0');
    } finally {
      trickle.closeAllConnections();
      await new Promise((r) => trickle.close(r));
    }
  });

  it('Ctrl-C typed in the terminal cancels the build: exit 130, the cancelled line, no process left', async () => {
    startInTerminal('cancel', ['build', join(fixtures, 'build-sleeps')]);
    await watch('cancel', (s) => s.includes('│ READY'));
    tmux('send-keys', '-t', 'cancel', 'C-c');
    const final = (await watch('cancel', (s) => s.includes('EXIT:'))).at(-1)!;
    expect(final).toContain('✖ cancelled: nothing was installed');
    expect(final).toMatch(/^✖ build +[0-9.]+m?s$/m);
    expect(final).toContain('EXIT:130');
    expect(processesWith('31.4159')).toEqual([]);
  });
});
