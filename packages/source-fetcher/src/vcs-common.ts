/**
 * Pieces shared by the git, hg and svn sources.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { FetchError, abortError, type FetchErrorCode } from './errors.js';

const toolCache = new Map<string, boolean>();

/** True when `tool --version` runs. */
export function hasTool(tool: string): boolean {
  const key = `${tool}\0${process.env.PATH ?? ''}`;
  let v = toolCache.get(key);
  if (v === undefined) {
    v = spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
    toolCache.set(key, v);
  }
  return v;
}

/** True when `p` is a directory with at least one entry (makepkg's `dir_is_empty` negated). */
export async function isNonEmptyDir(p: string): Promise<boolean> {
  try {
    if (!(await stat(p)).isDirectory()) return false;
    return (await readdir(p)).length > 0;
  } catch {
    return false;
  }
}

/** Rejects values a tool could take for an option (`-x`, `--upload-pack=…`). */
export function assertNotOption(value: string, what: string, source: string): void {
  if (value.startsWith('-')) {
    throw new FetchError('E_INVALID_SOURCE', `${what} "${value}" in source "${source}" starts with '-': refusing to pass it to a VCS tool as an option`, { source });
  }
}

/** Runs a command without a shell; resolves stdout, rejects with `code` and the stderr tail. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal; code: FetchErrorCode; what: string; source?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(abortError(opts.signal));
      return;
    }
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    const onAbort = (): void => {
      child.kill('SIGKILL');
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      opts.signal?.removeEventListener('abort', onAbort);
      reject(new FetchError(opts.code, `${opts.what}: cannot run ${cmd}: ${e.message}`, { cause: e, source: opts.source }));
    });
    child.on('close', (code) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (opts.signal?.aborted) reject(abortError(opts.signal));
      else if (code === 0) resolve(out);
      else reject(new FetchError(opts.code, `${opts.what} failed (${cmd} exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`, { stderr: err, source: opts.source }));
    });
  });
}
