import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Writable } from 'node:stream';
import { abortError, ExecutorError } from './errors.js';

/** Name of the environment variable that marks every process of one spawned tree. */
export const TREE_TOKEN_VAR = 'RBEE_EXECUTOR_TREE';

export interface TreeOptions {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  /** Open a fourth pipe (fd 3 in the child) for records. */
  records?: boolean;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  onRecords?: (chunk: Buffer) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  /** Unique marker put in the environment; processes carrying it are swept at the end. */
  token: string;
  /** Sweep `/proc` for processes carrying `token` (needed without a pid namespace). */
  sweep: boolean;
  /** What is running, for error messages. */
  what: string;
  /**
   * Hold the tree at a gate: a pipe on fd {@link GATE_FD} in the child that receives `go` when
   * this promise resolves. When it rejects, the tree is killed and `runTree` rejects with the
   * reason.
   */
  gate?: Promise<unknown>;
}

/** The child's descriptor for the gate pipe (fd 4 is taken by the parent watch). */
export const GATE_FD = 5;
/** Environment variable telling the driver which descriptor the gate is on. */
export const GATE_ENV = 'RBEE_EXECUTOR_GATE';

export interface TreeResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/** Kill every process whose environment carries `TREE_TOKEN_VAR=token` (processes that left the group with setsid). */
function sweepToken(token: string, sig: NodeJS.Signals): void {
  const needle = Buffer.from(`${TREE_TOKEN_VAR}=${token}\0`);
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return;
  }
  for (const e of entries) {
    const c = e.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    let env: Buffer;
    try {
      env = readFileSync(`/proc/${e}/environ`);
    } catch {
      continue;
    }
    if (env.includes(needle)) {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  }
}

/**
 * `sh -c` prologue: fork a watchdog that blocks reading stdin (a pipe from this process) and kills
 * the process group at end of file, then exec the real command with stdin from /dev/null.
 */
const PARENT_WATCH = 'exec 4<&0; { read -r _ <&4; kill -KILL 0; } >/dev/null 2>&1 3>&- & exec 4<&- </dev/null; exec "$@"';

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* no such group: everything is gone */
  }
}

/**
 * Spawn `command` as the leader of a new session and process group (`detached`), stream its
 * pipes, and make sure the whole tree is gone when the promise settles: on exit, abort or
 * timeout the group is killed (SIGTERM, then SIGKILL after `killGraceMs`), processes that
 * escaped the group (setsid) are found by `token` and killed, and pipes still held by orphans
 * are drained for a bounded time only, then destroyed.
 */
export function runTree(opts: TreeOptions): Promise<TreeResult> {
  const { signal } = opts;
  if (signal?.aborted) return Promise.reject(abortError(signal, opts.what));
  return new Promise<TreeResult>((resolve, reject) => {
    // Without a pid namespace (no bwrap --die-with-parent) nothing would stop the tree if this
    // process died (SIGKILL, crash). A watchdog in the tree's own process group holds the read end
    // of a pipe whose write end only this process has: when it closes, by death or by cleanup, the
    // watchdog kills its group. Being a member, it also keeps the group id from being reused.
    const command = opts.sweep ? '/bin/sh' : opts.command;
    const args = opts.sweep ? ['-c', PARENT_WATCH, 'rbee-watch', opts.command, ...opts.args] : opts.args;
    const child = spawn(command, args, {
      detached: true,
      stdio: [opts.sweep ? 'pipe' : 'ignore', 'pipe', 'pipe', opts.records ? 'pipe' : 'ignore', ...(opts.gate ? (['ignore', 'pipe'] as const) : [])],
      env: { ...opts.env, [TREE_TOKEN_VAR]: opts.token },
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    });
    child.stdin?.on('error', () => undefined);
    const streams = [child.stdout, child.stderr, opts.records ? (child.stdio[3] as NodeJS.ReadableStream & { destroy(): void }) : null];
    let failure: Error | null = null;
    let exited = false;
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;
    const open = new Set<NodeJS.ReadableStream>();

    const handlers = [opts.onStdout, opts.onStderr, opts.onRecords];
    streams.forEach((s, i) => {
      if (!s) return;
      open.add(s);
      const h = handlers[i];
      s.on('data', (chunk: Buffer) => {
        if (!settled && h) h(chunk);
      });
      s.on('error', () => open.delete(s));
      s.on('close', () => {
        open.delete(s);
        if (exited && open.size === 0) finish();
      });
    });

    const gatePipe = opts.gate ? ((child.stdio as readonly unknown[])[GATE_FD] as Writable | null | undefined) : undefined;
    gatePipe?.on('error', () => undefined);
    opts.gate?.then(
      () => {
        if (!settled && !exited) gatePipe?.end('go\n');
      },
      (reason: unknown) => {
        gatePipe?.destroy();
        terminate(reason instanceof Error ? reason : new Error(String(reason)));
      },
    );

    const onAbort = (): void => terminate(abortError(signal, opts.what));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.timeoutMs !== undefined && opts.timeoutMs > 0) {
      timeoutTimer = setTimeout(() => {
        terminate(
          new ExecutorError('E_TIMEOUT', `${opts.what} did not finish within ${opts.timeoutMs} ms and was killed`, {
            timeoutMs: opts.timeoutMs,
          }),
        );
      }, opts.timeoutMs);
    }

    /**
     * Signal the whole tree. The process group is signalled only while its leader has not been
     * reaped: Node reaps the child and emits 'exit' in the same tick, so `!exited` guarantees the
     * pid (and so the group id) cannot have been reused by an unrelated process group. After
     * that, only processes carrying this tree's token are signalled.
     */
    function killTree(sig: NodeJS.Signals): void {
      if (!exited && child.pid !== undefined) killGroup(child.pid, sig);
      if (opts.sweep) sweepToken(opts.token, sig);
    }

    function terminate(err: Error): void {
      if (failure || settled) return;
      failure = err;
      if (child.pid === undefined) return;
      killTree('SIGTERM');
      graceTimer = setTimeout(() => killTree('SIGKILL'), opts.killGraceMs ?? 3000);
    }

    let result: TreeResult = { exitCode: null, signal: null };
    let drainTimer: NodeJS.Timeout | undefined;
    child.on('exit', (code, sig) => {
      result = { exitCode: code, signal: sig };
      exited = true;
      // The leader is gone (and reaped: its group id may already belong to someone else, so the
      // group is not signalled any more). Whatever is left of the tree — background jobs,
      // daemons — carries the token and goes too; in bubblewrap the pid namespace is gone.
      if (opts.sweep) sweepToken(opts.token, 'SIGKILL');
      if (open.size === 0) finish();
      // Orphans that escaped every kill may hold the pipes: stop waiting after a short drain.
      else drainTimer = setTimeout(finish, 250);
    });
    child.on('error', (err) => {
      if (exited || settled) return;
      settled = true;
      cleanup();
      reject(new ExecutorError('E_SPAWN', `could not start ${opts.command} for ${opts.what}: ${err.message}`, { cause: err }));
    });

    function cleanup(): void {
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(graceTimer);
      clearTimeout(timeoutTimer);
      clearTimeout(drainTimer);
      for (const s of streams) (s as { destroy?: () => void } | null)?.destroy?.();
      child.stdin?.destroy();
      gatePipe?.destroy();
    }

    function finish(): void {
      if (settled) return;
      settled = true;
      cleanup();
      if (failure) reject(failure);
      else resolve(result);
    }
  });
}

/**
 * Splits a byte stream into lines (`\n`, `\r\n` or a lone `\r` end a line), decoding UTF-8
 * without breaking multi-byte characters. Very long lines are cut at `maxLine` characters.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private lastWasCR = false;
  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLine = 65536,
  ) {}

  push(chunk: Buffer): void {
    this.feed(this.decoder.write(chunk));
  }

  end(): void {
    this.feed(this.decoder.end());
    if (this.pending.length > 0) {
      const l = this.pending;
      this.pending = '';
      this.onLine(l);
    }
  }

  private feed(text: string): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 || c === 13) {
        if (c === 10 && this.lastWasCR && i === start && this.pending === '') {
          // the \n of a \r\n pair: the line was already emitted at \r
          start = i + 1;
          this.lastWasCR = false;
          continue;
        }
        const line = this.pending + text.slice(start, i);
        this.pending = '';
        this.onLine(line);
        start = i + 1;
        this.lastWasCR = c === 13;
      } else {
        this.lastWasCR = false;
      }
    }
    this.pending += text.slice(start);
    while (this.pending.length > this.maxLine) {
      this.onLine(this.pending.slice(0, this.maxLine));
      this.pending = this.pending.slice(this.maxLine);
    }
  }
}

/** Parses NUL-terminated fields from a byte stream; `onField` gets each field as a string. */
export class FieldReader {
  private chunks: Buffer[] = [];
  readonly fields: string[] = [];
  push(chunk: Buffer): void {
    let start = 0;
    let idx = chunk.indexOf(0, start);
    while (idx !== -1) {
      this.chunks.push(chunk.subarray(start, idx));
      this.fields.push(Buffer.concat(this.chunks).toString('utf8'));
      this.chunks = [];
      start = idx + 1;
      idx = chunk.indexOf(0, start);
    }
    if (start < chunk.length) this.chunks.push(Buffer.from(chunk.subarray(start)));
  }
}
