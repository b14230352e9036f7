/**
 * Shared real parts for the end-to-end suites: temp catalogs written to disk, the reference
 * catalog server on loopback, the built CLI as a subprocess with its NDJSON events, and
 * process-table / file-tree probes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCatalogServer } from '@rbee/catalog-client/server';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '..', '..', '..');
export const CLI = join(REPO, 'packages', 'cli', 'dist', 'cli.js');
export const EXAMPLE_CATALOG = join(REPO, 'examples', 'catalog');
/** Node 24 of the repository (the system node may be older). */
export const NODE = process.execPath;

/** Deterministic PRNG (mulberry32) so every random choice of a run is reproducible from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedFromEnv(name = 'RBEE_E2E_SEED'): number {
  const v = process.env[name];
  if (v && /^\d+$/.test(v)) return Number(v);
  return Math.floor(Math.random() * 2 ** 31);
}

/** Temp dirs removed at the end of the suite. */
const temps: string[] = [];
export function tempDir(prefix = 'rbee-e2e-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}
export function cleanupTemps(): void {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

// ---------------------------------------------------------------------------------------------
// catalogs

/** One worker of a generated catalog: its PKGBUILD and the local files next to it. */
export interface WorkerSpec {
  id: string;
  version: string;
  pkgbuild: string;
  files?: Record<string, string | Buffer>;
  binaryName?: string;
  /** Override the variant's pkgbuildUrl (attacks). */
  pkgbuildUrl?: string;
}

export function workerJson(w: WorkerSpec): Record<string, unknown> {
  return {
    id: w.id,
    name: w.id,
    version: w.version,
    description: `e2e worker ${w.id}`,
    variants: [
      {
        backend: 'cpu',
        platforms: ['linux'],
        architectures: ['x86_64', 'aarch64'],
        pkgbuildUrl: w.pkgbuildUrl ?? `workers/${w.id}/cpu/PKGBUILD`,
        depends: [],
        makedepends: [],
        ...(w.binaryName ? { binaryName: w.binaryName } : {}),
      },
    ],
    capabilities: { supportedFormats: ['gguf'], supportsStreaming: false, supportsBatching: false },
  };
}

/** Write (or extend) a catalog directory with these workers. */
export function writeCatalog(dir: string, workers: WorkerSpec[]): string {
  mkdirSync(join(dir, 'workers'), { recursive: true });
  const listFile = join(dir, 'workers.json');
  const list = existsSync(listFile) ? (JSON.parse(readFileSync(listFile, 'utf8')) as { workers: Record<string, unknown>[] }) : { workers: [] };
  for (const w of workers) {
    const vdir = join(dir, 'workers', w.id, 'cpu');
    rmSync(vdir, { recursive: true, force: true });
    mkdirSync(vdir, { recursive: true });
    writeFileSync(join(vdir, 'PKGBUILD'), w.pkgbuild);
    for (const [name, content] of Object.entries(w.files ?? {})) writeFileSync(join(vdir, name), content);
    const json = workerJson(w);
    writeFileSync(join(dir, 'workers', `${w.id}.json`), `${JSON.stringify(json, null, 2)}\n`);
    list.workers = list.workers.filter((x) => x.id !== w.id).concat([json]);
  }
  writeFileSync(listFile, `${JSON.stringify(list, null, 2)}\n`);
  return dir;
}

/** A copy of the example catalog (prebuilt archives generated if missing). */
export async function copyExampleCatalog(dest: string): Promise<string> {
  const archive = join(EXAMPLE_CATALOG, 'workers', 'demo-worker-rbee-bin', 'cpu', 'demo-worker-rbee-0.1.0-x86_64.tar.gz');
  if (!existsSync(archive)) {
    const mod = (await import(join(REPO, 'scripts', 'make-example-archives.mjs'))) as { makeExampleArchives?: (o: { root?: string }) => unknown };
    await mod.makeExampleArchives?.({});
  }
  cpSync(EXAMPLE_CATALOG, dest, { recursive: true });
  return dest;
}

/**
 * A shell-script worker whose PKGBUILD runs every function for a while and prints as it goes
 * (so each phase shows up in the NDJSON stream). Every process of its build carries
 * `RBEE_E2E_MARK=<mark>` in its environment, so the process table can be searched for survivors.
 */
export function slowWorker(opts: { id: string; version: string; mark: string; steps?: number; stepSeconds?: number }): WorkerSpec {
  const steps = opts.steps ?? 6;
  const step = opts.stepSeconds ?? 0.25;
  const script = `#!/bin/sh\n[ "$1" = --version ] && { echo "${opts.id} ${opts.version}"; exit 0; }\necho "${opts.id} running"\n`;
  const pkgbuild = `pkgname=${opts.id}
pkgver=${opts.version}
pkgrel=1
pkgdesc='e2e slow worker'
arch=('x86_64' 'aarch64')
license=('MIT')
source=('${opts.id}.sh')
sha256sums=('${sha256(script)}')

prepare() {
  export RBEE_E2E_MARK=${opts.mark}
  echo "prepare start"
  sleep ${step}
  echo "prepare end"
}

build() {
  export RBEE_E2E_MARK=${opts.mark}
  for i in $(seq 1 ${steps}); do
    echo "build step $i"
    sleep ${step}
  done
}

check() {
  export RBEE_E2E_MARK=${opts.mark}
  echo "check"
  sh "$srcdir/${opts.id}.sh" --version | grep -q "${opts.version}"
  sleep ${step}
}

package() {
  export RBEE_E2E_MARK=${opts.mark}
  echo "package start"
  sleep ${step}
  install -Dm755 "$srcdir/${opts.id}.sh" "$pkgdir/usr/bin/${opts.id}"
  echo "package end"
}
`;
  return { id: opts.id, version: opts.version, pkgbuild, files: { [`${opts.id}.sh`]: script }, binaryName: opts.id };
}

/** A prebuilt (-bin style) worker: a tar.gz archive next to the PKGBUILD, unpacked by package(). */
export function binWorker(opts: { id: string; version: string; archive: Buffer; archiveName?: string; packageBody?: string }): WorkerSpec {
  const name = opts.archiveName ?? `${opts.id}-${opts.version}.tar.gz`;
  const pkgbuild = `pkgname=${opts.id}
pkgver=${opts.version}
pkgrel=1
pkgdesc='e2e prebuilt worker'
arch=('x86_64' 'aarch64')
license=('MIT')
options=('!strip')
source=('${name}')
sha256sums=('${sha256(opts.archive)}')

package() {
${opts.packageBody ?? `  install -Dm755 "$srcdir/bin/${opts.id}" "$pkgdir/usr/bin/${opts.id}"`}
}
`;
  return { id: opts.id, version: opts.version, pkgbuild, files: { [name]: opts.archive }, binaryName: opts.id };
}

export interface CatalogServer {
  url: string;
  close(): Promise<void>;
}

export async function serveCatalog(dir: string, host = '127.0.0.1'): Promise<CatalogServer> {
  const server = createCatalogServer({ dir });
  const url = await server.listen(0, host);
  return { url, close: () => server.close() };
}

// ---------------------------------------------------------------------------------------------
// the CLI as a subprocess

export interface CliRun {
  child: ChildProcess;
  events: Record<string, unknown>[];
  stdout: () => string;
  stderr: () => string;
  /** Resolves on exit with the code (null when killed) and signal. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first event matching `pred` (or undefined if the process exits first). */
  waitFor(pred: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown> | undefined>;
}

export function cliEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, RBEE_HOME: home, CI: 'true', NO_COLOR: '1', ...extra };
  delete env.WORKER_CATALOG_URL;
  delete env.RBEE_CATALOG_TOKEN;
  return env;
}

/** Start `rbee-worker <args>`; with `--json` in args the NDJSON events are collected as they arrive. */
export function startCli(args: string[], opts: { home: string; env?: Record<string, string> }): CliRun {
  const child = spawn(NODE, [CLI, ...args], { env: cliEnv(opts.home, opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Record<string, unknown>[] = [];
  let out = '';
  let err = '';
  let buf = '';
  const waiters: { pred: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown> | undefined) => void }[] = [];
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    out += chunk;
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let e: Record<string, unknown>;
      try {
        e = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      events.push(e);
      // backwards: resolved waiters are removed while iterating
      for (let k = waiters.length - 1; k >= 0; k--) {
        const w = waiters[k]!;
        if (w.pred(e)) {
          waiters.splice(k, 1);
          w.resolve(e);
        }
      }
    }
  });
  child.stderr!.on('data', (chunk: string) => {
    err += chunk;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.on('close', (code, signal) => {
      for (const w of waiters.splice(0)) w.resolve(undefined);
      res({ code, signal });
    });
  });
  return {
    child,
    events,
    stdout: () => out,
    stderr: () => err,
    exit,
    waitFor(pred) {
      const found = events.find(pred);
      if (found) return Promise.resolve(found);
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(undefined);
      return new Promise((r) => waiters.push({ pred, resolve: r }));
    },
  };
}

/** Run the CLI to completion. */
export async function runCli(
  args: string[],
  opts: { home: string; env?: Record<string, string> },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; events: Record<string, unknown>[] }> {
  const r = startCli(args, opts);
  const { code, signal } = await r.exit;
  return { code, signal, stdout: r.stdout(), stderr: r.stderr(), events: r.events };
}

export async function listInstalled(home: string): Promise<Record<string, unknown>[]> {
  const r = await runCli(['list', '--json'], { home });
  if (r.code !== 0) throw new Error(`rbee-worker list failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>[];
}

export function lastEvent(events: Record<string, unknown>[]): Record<string, unknown> | undefined {
  return events[events.length - 1];
}

export function errorCode(events: Record<string, unknown>[]): string | undefined {
  const e = events.find((x) => x.type === 'error') as { error?: { code?: string } } | undefined;
  return e?.error?.code;
}

// ---------------------------------------------------------------------------------------------
// process table and file trees

export interface ProcInfo {
  pid: number;
  cmdline: string;
  cwd: string;
}

/**
 * Processes that belong to a build: their environment carries `marker` (e.g.
 * `RBEE_E2E_MARK=<mark>`), or their cwd/cmdline is under `under`. The test process itself and
 * its ancestors are excluded.
 */
export function findProcesses(opts: { marker?: string; under?: string }): ProcInfo[] {
  const found: ProcInfo[] = [];
  const needle = opts.marker ? Buffer.from(`${opts.marker}\0`) : undefined;
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    let cmdline = '';
    let cwd = '';
    let environ: Buffer | undefined;
    try {
      cmdline = readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      continue;
    }
    if (cmdline === '') continue; // zombie or kernel thread
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z') continue;
    } catch {
      continue;
    }
    try {
      cwd = readlinkSync(`/proc/${e}/cwd`);
    } catch {
      /* gone or not ours */
    }
    try {
      environ = readFileSync(`/proc/${e}/environ`);
    } catch {
      environ = undefined;
    }
    const byMark = needle !== undefined && environ !== undefined && environ.includes(needle);
    const byPath = opts.under !== undefined && (cwd.startsWith(opts.under) || cmdline.includes(opts.under));
    if (byMark || byPath) found.push({ pid, cmdline, cwd });
  }
  return found;
}

/** Poll until no process matches (processes take a moment to be reaped), returning the survivors. */
export async function survivors(opts: { marker?: string; under?: string }, waitMs = 3000): Promise<ProcInfo[]> {
  const until = Date.now() + waitMs;
  for (;;) {
    const found = findProcesses(opts);
    if (found.length === 0 || Date.now() > until) return found;
    await sleep(100);
  }
}

/** Poll until some process matches (a positive control for {@link survivors}). */
export async function waitForProcesses(opts: { marker?: string; under?: string }, waitMs = 5000): Promise<ProcInfo[]> {
  const until = Date.now() + waitMs;
  for (;;) {
    const found = findProcesses(opts);
    if (found.length > 0 || Date.now() > until) return found;
    await sleep(50);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every path under `root` (relative, with a type letter), for before/after comparisons. */
export function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names.sort()) {
      const p = join(dir, n);
      const r = rel ? `${rel}/${n}` : n;
      const st = lstatSync(p);
      if (st.isDirectory()) {
        out.push(`d ${r}`);
        walk(p, r);
      } else out.push(`${st.isSymbolicLink() ? 'l' : 'f'} ${r}`);
    }
  };
  walk(root, '');
  return out;
}

export const token = (): string => randomBytes(6).toString('hex');
