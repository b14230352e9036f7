// Runs the BUILT `rbee-worker` (dist/cli.js) as a subprocess, the way users and scripts do, and
// provides a temp RBEE home and the reference catalog server serving examples/catalog on loopback.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const pkgDir = dirname(dirname(fileURLToPath(import.meta.url)));
export const repoRoot = dirname(dirname(pkgDir));
export const cliPath = join(pkgDir, 'dist', 'cli.js');
export const exampleCatalog = join(repoRoot, 'examples', 'catalog');
export const fixtures = join(pkgDir, 'test', 'fixtures');

/** What one CLI run produced. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// The catalog client's response cache goes here unless a test sets XDG_CACHE_HOME itself, so
// tests never write to the real ~/.cache.
const cacheHome = mkdtempSync(join(tmpdir(), 'rbee-cli-xdg-'));
afterAll(() => rmSync(cacheHome, { recursive: true, force: true }));

/** A clean environment: no colour, no CI, no inherited catalog or home, a temp XDG cache. */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: cacheHome };
  for (const k of ['FORCE_COLOR', 'CI', 'WORKER_CATALOG_URL', 'RBEE_HOME', 'NODE_OPTIONS']) delete env[k];
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs the CLI to completion (killed after `killAfterMs`, so a hang fails the test instead of blocking it). */
export function runCli(
  args: readonly string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; killAfterMs?: number } = {},
): Promise<CliResult> {
  const child = spawnCli(args, opts);
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 50_000);
  return collect(child).finally(() => clearTimeout(timer));
}

/** Starts the CLI without waiting (for Ctrl-C tests and servers). */
export function spawnCli(args: readonly string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}): ChildProcess {
  return spawn(process.execPath, [cliPath, ...args], { cwd: opts.cwd ?? pkgDir, env: cliEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Waits for a child started by {@link spawnCli} and collects its output. */
export function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A temp directory removed by `cleanup()`; readable by the unprivileged build user. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `rbee-cli-${prefix}-`));
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Generates the example catalog's prebuilt archives when they are missing (they are not in git). */
export function ensureExampleArchives(): void {
  const bin = join(exampleCatalog, 'workers', 'demo-worker-rbee-bin', 'cpu');
  if (readdirSync(bin).some((f) => f.endsWith('.tar.gz'))) return;
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'make-example-archives.mjs')], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make-example-archives failed: ${r.stderr}`);
}

/** Fails fast with a clear message when the CLI was not built. */
export function assertBuilt(): void {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`pnpm --filter @rbee/cli build\` first`);
}

/** Lines of NDJSON output, parsed. */
export function ndjson(text: string): unknown[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);
}

/** Processes whose command line contains `marker` (scans /proc, so it sees every namespace). */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(marker)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
