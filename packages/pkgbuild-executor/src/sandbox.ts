import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, lstatSync } from 'node:fs';
import { ExecutorError } from './errors.js';

/**
 * How PKGBUILD code is isolated.
 * - `'auto'`: bubblewrap when it is installed and works here (probed once per `bwrapPath`,
 *   cached), otherwise no sandbox and a warning.
 * - `'bwrap'`: bubblewrap or fail with `E_SANDBOX_UNAVAILABLE`.
 * - `'none'`: plain bash in its own process group, with the scrubbed environment only.
 */
export type SandboxMode = 'auto' | 'bwrap' | 'none';

/** The default bubblewrap binary. */
export const DEFAULT_BWRAP = 'bwrap';

const probes = new Map<string, Promise<string | null>>();

function probeOnce(bwrapPath: string): Promise<string | null> {
  return new Promise((resolve) => {
    let stderr = '';
    let done = false;
    const child = spawn(
      bwrapPath,
      [...baseBwrapArgs(false), '--', '/bin/sh', '-c', 'exit 0'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      end('bubblewrap probe timed out');
    }, 10_000);
    function end(v: string | null): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(v);
    }
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    child.on('error', (e) => end(`cannot run ${bwrapPath}: ${e.message}`));
    child.on('close', (code, sig) => {
      if (code === 0) end(null);
      else end(`${bwrapPath} failed (${sig ?? `exit ${code}`}): ${stderr.trim() || 'no message'}`);
    });
  });
}

/**
 * Decide the sandbox: resolves to `'bwrap'` or `'none'`, with a warning message when `auto`
 * falls back. Throws `E_SANDBOX_UNAVAILABLE` when `bwrap` was required and does not work.
 */
export async function resolveSandbox(
  mode: SandboxMode,
  bwrapPath: string,
): Promise<{ kind: 'bwrap' | 'none'; warning?: string }> {
  if (mode === 'none') return { kind: 'none' };
  const key = `${bwrapPath}\0${process.getuid?.() ?? ''}`;
  let p = probes.get(key);
  if (!p) {
    p = probeOnce(bwrapPath);
    probes.set(key, p);
  }
  const problem = await p;
  if (problem === null) return { kind: 'bwrap' };
  if (mode === 'bwrap') {
    throw new ExecutorError(
      'E_SANDBOX_UNAVAILABLE',
      `sandbox 'bwrap' was requested but bubblewrap does not work here: ${problem}. Install bubblewrap, allow unprivileged user namespaces, or pass sandbox: 'none'`,
    );
  }
  return { kind: 'none', warning: `bubblewrap is not usable (${problem}): running without a sandbox` };
}

/** Namespaces and hardening common to every sandbox; `--unshare-net` unless `network`. */
function baseBwrapArgs(network: boolean): string[] {
  return [
    '--ro-bind', '/', '/',
    '--dev', '/dev',
    '--proc', '/proc',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    ...(network ? [] : ['--unshare-net']),
    '--die-with-parent',
    '--new-session',
    '--cap-drop', 'ALL',
  ];
}

/** Directories replaced by an empty tmpfs inside the sandbox (user data, sockets, temp files). */
export const HIDDEN_DIRS = ['/home', '/root', '/run', '/tmp', '/var/tmp', '/var/mail', '/var/spool', '/var/lib', '/var/log', '/mnt', '/media', '/srv'];
/** Hidden directories that stay writable (private, empty, discarded with the sandbox). */
export const PRIVATE_TMP_DIRS = ['/tmp', '/var/tmp'];
/** Directories under {@link HIDDEN_DIRS} made visible again, read-only (package databases builds may query). */
export const REEXPOSED_DIRS = ['/var/lib/pacman', '/var/lib/dpkg'];
/** Files replaced by an empty file inside the sandbox (secrets readable by root). */
export const HIDDEN_FILES = ['/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-', '/etc/sudoers', '/etc/ssh/ssh_host_rsa_key', '/etc/ssh/ssh_host_ecdsa_key', '/etc/ssh/ssh_host_ed25519_key', '/etc/ssh/ssh_host_dsa_key'];

export interface BwrapLayout {
  /** Host directories bound read-write at the same path. */
  writable: string[];
  /** Host paths bound read-only at the same path (re-exposed if a hidden dir covers them). */
  readonly: string[];
  network: boolean;
}

/** The bubblewrap arguments (without the command) for one sandboxed process. */
export function bwrapArgs(layout: BwrapLayout): string[] {
  const args = baseBwrapArgs(layout.network);
  const hidden: string[] = [];
  for (const d of HIDDEN_DIRS) {
    if (!existsSync(d)) continue;
    if (lstatSync(d).isSymbolicLink()) continue;
    args.push('--tmpfs', d);
    hidden.push(d);
  }
  for (const d of REEXPOSED_DIRS) {
    if (existsSync(d)) args.push('--ro-bind', d, d);
  }
  for (const f of HIDDEN_FILES) {
    if (existsSync(f)) args.push('--ro-bind', '/dev/null', f);
  }
  // Later mounts win: read-only paths first, then writable ones (which may be inside them).
  for (const d of dedupe(layout.readonly)) args.push('--ro-bind', d, d);
  for (const d of dedupe(layout.writable)) args.push('--bind', d, d);
  // The hidden dirs stay empty and read-only, except the private temp dirs. Remounting after the
  // binds lets bwrap create their mount points first; the binds below keep their own flags.
  for (const d of hidden) if (!PRIVATE_TMP_DIRS.includes(d)) args.push('--remount-ro', d);
  return args;
}

function dedupe(a: string[]): string[] {
  return [...new Set(a)].sort((x, y) => x.length - y.length);
}

/** Throws `E_BASH_NOT_FOUND` unless `bashPath` is an executable file (or a name found on PATH). */
export function checkBash(bashPath: string, pathEnv: string): string {
  const candidates = bashPath.includes('/') ? [bashPath] : pathEnv.split(':').filter(Boolean).map((d) => `${d}/${bashPath}`);
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* try next */
    }
  }
  throw new ExecutorError('E_BASH_NOT_FOUND', `bash not found at ${bashPath}: install bash or pass a valid bashPath`, {});
}
