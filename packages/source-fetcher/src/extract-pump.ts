/**
 * The data path of checked bsdtar extraction, kept off the event loop and out of Node's stream
 * machinery: two pipes (lister → pump, pump → extractor) whose blocking ends a worker thread reads
 * and writes with plain `read(2)`/`write(2)` into one reused buffer. Node streams over child
 * pipes cost a fresh buffer (and page faults) per 64 KiB read; this costs two syscalls.
 */
import { spawn } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { tarCheckRuntime, type PumpJob, type PumpResult, type Refusal } from './tar-headers.js';

/** The worker: the same `tarCheckRuntime` source, plus a loop taking jobs. */
const WORKER_SOURCE = `
const { readSync, writeSync } = require('node:fs');
const { parentPort } = require('node:worker_threads');
const runtime = (${tarCheckRuntime.toString()})();
parentPort.on('message', (job) => {
  try {
    parentPort.postMessage({ ok: true, result: runtime.pump(job, { readSync, writeSync }) });
  } catch (e) {
    if (e instanceof runtime.TarRefusal) parentPort.postMessage({ ok: false, refusal: e.refusal });
    else if (e instanceof runtime.TarFormatError) parentPort.postMessage({ ok: false, format: e.message });
    else parentPort.postMessage({ ok: false, io: String(e && e.message), errno: e && e.code });
  }
});
`;

/** What the worker answered for one job. */
export type PumpOutcome =
  | { ok: true; result: PumpResult }
  | { ok: false; refusal: Refusal }
  | { ok: false; format: string }
  | { ok: false; io: string; errno?: string };

const idle: Worker[] = [];

function takeWorker(): Worker {
  const w = idle.pop();
  if (w) {
    w.ref();
    return w;
  }
  return new Worker(WORKER_SOURCE, { eval: true });
}

function releaseWorker(w: Worker): void {
  if (idle.length >= 2) {
    void w.terminate();
    return;
  }
  w.unref();
  idle.push(w);
}

/** A pooled worker set aside for one job: taken early, it boots while the bsdtars start. */
export interface ReservedPump {
  /** Runs the job; the worker owns neither descriptor (close them once this settles, never before). */
  run(job: PumpJob): Promise<PumpOutcome>;
  /** Gives the worker back unused. */
  release(): void;
}

/** Takes a worker from the pool (or starts one) for one job. */
export function reservePump(): ReservedPump {
  const w = takeWorker();
  let used = false;
  return {
    run(job) {
      used = true;
      return new Promise<PumpOutcome>((resolve, reject) => {
        const onError = (e: Error): void => {
          w.off('message', onMessage);
          reject(e);
        };
        const onMessage = (m: PumpOutcome): void => {
          w.off('error', onError);
          releaseWorker(w);
          resolve(m);
        };
        w.once('message', onMessage);
        w.once('error', onError);
        // oxlint-disable-next-line unicorn/require-post-message-target-origin -- a worker, not a window
        w.postMessage(job);
      });
    },
    release() {
      if (!used) releaseWorker(w);
      used = true;
    },
  };
}

/**
 * The supervisor: one small perl process (no modules; perl is in every base system that has
 * makepkg) that makes both pipes, widens them to 1 MiB (F_SETPIPE_SZ, which Node cannot call),
 * forks the two bsdtars onto them, prints its pid and the numbers of the two pipe ends the pump
 * needs, and once told `go` (the pump has opened them through /proc) drops its own copies and
 * reports each bsdtar's wait status as `L <status>` / `X <status>`. One Node spawn instead of four
 * (mkfifo, a pipe widener, two bsdtars): each spawn from a large Node process blocks the event loop
 * for 5–20 ms here, and perl's forks cost a fraction of that. Each bsdtar's stderr goes to its own
 * descriptor (3 and 4) so errors are told apart.
 *
 * Arguments: forward (1: the extractor reads the pump; 0: it reads the archive itself), then the
 * lister's and the extractor's bsdtar arguments separated by a lone `--`. 1031 is F_SETPIPE_SZ,
 * 1 MiB the default /proc/sys/fs/pipe-max-size (best effort: a refusal leaves 64 KiB pipes).
 */
const SUPERVISOR = `
$| = 1;
my $fwd = shift @ARGV;
my (@l, @x); my $into = \\@l;
for (@ARGV) { if ($_ eq '--' && $into == \\@l) { $into = \\@x } else { push @$into, $_ } }
open(E3, '>&=3') or die "fd 3: $!\\n"; open(E4, '>&=4') or die "fd 4: $!\\n";
fcntl(E3, 2, 1); fcntl(E4, 2, 1);
pipe(LR, LW) or die "pipe: $!\\n"; fcntl(LR, 1031, 1048576);
if ($fwd) { pipe(XR, XW) or die "pipe: $!\\n"; fcntl(XR, 1031, 1048576); }
sub child {
  my ($in, $out, $err, @cmd) = @_;
  my $pid = fork; die "fork: $!\\n" unless defined $pid;
  return $pid if $pid;
  open(STDIN, $in) or exit 126; open(STDOUT, $out) or exit 126; open(STDERR, $err) or exit 126;
  exec { 'bsdtar' } 'bsdtar', @cmd; print STDERR "cannot run bsdtar: $!\\n"; exit 127;
}
my $lp = child('</dev/null', '>&LW', '>&E3', @l);
my $xp = child($fwd ? '<&XR' : '</dev/null', '>/dev/null', '>&E4', @x);
close LW; close XR if $fwd;
print "$$ ", fileno(LR), " ", ($fwd ? fileno(XW) : -1), "\\n";
my $go = <STDIN>;
close LR; close XW if $fwd;
kill 'KILL', $lp, $xp unless defined $go && $go eq "go\\n";
for (1 .. 2) { my $p = wait; last if $p < 0; print(($p == $lp ? 'L' : 'X'), " $?\\n"); }
`;

/** How one bsdtar of the pipeline ended. */
export interface ChildEnd {
  /** Exit code, or null when killed. */
  code: number | null;
  /** Signal number, or null. */
  signal: number | null;
  /** The tail of its stderr. */
  stderr: string;
}

/** A running lister → pump → extractor pipeline (see {@link startBsdtarPipeline}). */
export interface BsdtarPipeline {
  /** The pump's blocking read end of the lister's stream. */
  pumpIn: number;
  /** The pump's blocking write end of the extractor's stdin (-1 when check-only). */
  pumpOut: number;
  /** Settles once the supervisor is gone: how the lister and the extractor ended. */
  ended: Promise<{ lister: ChildEnd; extractor: ChildEnd }>;
  /** SIGKILLs the supervisor and both bsdtars (no-op once they are gone). */
  kill(): void;
}

/** Thrown when the supervisor cannot be used here; the caller falls back to the inline check. */
export class NoPipeline extends Error {}

let supervisorUnusable = process.platform !== 'linux';
/** The PATH under which perl was not found (looked up again when PATH changes). */
let perlMissingFor: string | undefined;

function tail(s: string, add: Buffer): string {
  return (s + add.toString()).slice(-4000);
}

function decodeStatus(line: string | undefined, stderr: string): ChildEnd {
  const status = line === undefined ? Number.NaN : Number(line);
  if (!Number.isInteger(status)) return { code: null, signal: 9, stderr };
  return status & 127 ? { code: null, signal: status & 127, stderr } : { code: status >> 8, signal: null, stderr };
}

/**
 * Starts `bsdtar -cf - -P --format pax @file` (the lister) and the extractor (`bsdtar -xf - -C
 * stage` fed by the pump when `forward`, else `bsdtar -xf file -C stage`) under the supervisor and
 * opens the pump's two pipe ends. Throws {@link NoPipeline} where that is not possible (no perl,
 * no /proc, not Linux).
 */
export async function startBsdtarPipeline(file: string, stage: string, forward: boolean): Promise<BsdtarPipeline> {
  if (supervisorUnusable || (perlMissingFor !== undefined && perlMissingFor === process.env.PATH)) throw new NoPipeline('no supervisor on this system');
  const lister = ['-b', '2048', '-cf', '-', '-P', '--format', 'pax', `@${file}`];
  const extractor = forward ? ['-b', '2048', '-xf', '-', '-C', stage] : ['-xf', file, '-C', stage];
  if (process.getuid?.() === 0) extractor.push('--no-same-owner');
  const sup = spawn('perl', ['-e', SUPERVISOR, '--', forward ? '1' : '0', ...lister, '--', ...extractor], {
    stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let gone = false;
  const kill = (): void => {
    if (gone || sup.pid === undefined) return;
    try {
      process.kill(-sup.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  let out = '';
  const err = { 2: '', 3: '', 4: '' };
  for (const i of [2, 3, 4] as const) (sup.stdio[i] as NodeJS.ReadableStream).on('data', (d: Buffer) => (err[i] = tail(err[i], d)));
  sup.stdin?.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => {
    sup.on('close', () => {
      gone = true;
      resolve();
    });
  });
  const first = new Promise<string>((resolve, reject) => {
    sup.on('error', (e) => {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') perlMissingFor = process.env.PATH;
      reject(new NoPipeline(e.message));
    });
    sup.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    void closed.then(() => reject(new NoPipeline(`the supervisor ended early: ${err[2].trim()}`)));
  });
  let pumpIn = -1;
  let pumpOut = -1;
  try {
    const [pid, lr, xw] = (await first).split(' ');
    pumpIn = openSync(`/proc/${pid}/fd/${lr}`, constants.O_RDONLY);
    if (forward) pumpOut = openSync(`/proc/${pid}/fd/${xw}`, constants.O_WRONLY);
  } catch (e) {
    kill();
    closeFd(pumpIn);
    await closed;
    if (e instanceof NoPipeline) throw e;
    supervisorUnusable = true; // /proc/<pid>/fd cannot be opened here (no /proc, or hidden)
    throw new NoPipeline((e as Error).message);
  }
  sup.stdin?.end('go\n');
  const ended = closed.then(() => {
    const lines = new Map(
      out
        .split('\n')
        .slice(1)
        .filter((l) => l.length > 2)
        .map((l) => [l[0], l.slice(2)] as const),
    );
    return { lister: decodeStatus(lines.get('L'), err[3]), extractor: decodeStatus(lines.get('X'), err[4]) };
  });
  return { pumpIn, pumpOut, ended, kill };
}

/** Closes a descriptor once (ignores -1). */
export function closeFd(fd: number): void {
  if (fd >= 0) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
}
