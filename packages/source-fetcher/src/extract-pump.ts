/**
 * The data path of checked bsdtar extraction, kept off the event loop and out of Node's stream
 * machinery: two FIFOs (lister → pump, pump → extractor) whose blocking ends a worker thread reads
 * and writes with plain `read(2)`/`write(2)` into one reused buffer. Node streams over child
 * pipes cost a fresh buffer (and page faults) per 64 KiB read; this costs two syscalls.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
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

/**
 * Runs one job on a pooled worker. The worker owns neither descriptor: the caller closes them
 * once this settles (never before, so a descriptor number is never reused under a blocked read).
 */
export function runPump(job: PumpJob): Promise<PumpOutcome> {
  const w = takeWorker();
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
}

/** The descriptors of one extraction's FIFOs (the FIFO files themselves are already gone). */
export interface PumpPipes {
  /** Lister's stdout (give to spawn, then close). */
  listerOut: number;
  /** Pump's blocking read end. */
  pumpIn: number;
  /** Pump's blocking write end (-1 when check-only). */
  pumpOut: number;
  /** Extractor's stdin (give to spawn, then close; -1 when check-only). */
  extractorIn: number;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => execFile(cmd, args, (e) => (e ? reject(e) : resolve())));
}

/**
 * Opens a FIFO so both ends are blocking descriptors, without ever blocking in open(2): a
 * non-blocking reader lets the writer open at once, the writer lets the blocking reader open at
 * once, then the non-blocking reader is closed.
 */
function openFifo(path: string): { r: number; w: number } {
  const probe = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const w = openSync(path, constants.O_WRONLY);
    const r = openSync(path, constants.O_RDONLY);
    return { r, w };
  } finally {
    closeSync(probe);
  }
}

/** Linux's F_SETPIPE_SZ; 1 MiB is the default /proc/sys/fs/pipe-max-size. */
const F_SETPIPE_SZ = 1031;
const PIPE_SIZE = 1024 * 1024;
let perlMissing = process.platform !== 'linux';

/**
 * Raises both pipes from 64 KiB to 1 MiB, so the lister, the pump and the extractor hand over
 * 1 MiB at a time instead of 64 KiB (16× fewer reads, writes and wake-ups). Node has no fcntl;
 * perl (part of every Debian/Arch base system that has makepkg) makes the call on descriptors it
 * inherits. Best effort: without perl, or if the kernel refuses, the pipes stay at 64 KiB.
 */
function widenPipes(a: number, b: number): Promise<void> {
  if (perlMissing) return Promise.resolve();
  const script = `fcntl(STDIN, ${F_SETPIPE_SZ}, ${PIPE_SIZE});${b >= 0 ? ` fcntl(STDOUT, ${F_SETPIPE_SZ}, ${PIPE_SIZE});` : ''}`;
  return new Promise((resolve) => {
    const child = spawn('perl', ['-e', script], { stdio: [a, b >= 0 ? b : 'ignore', 'ignore'] });
    child.on('error', () => {
      perlMissing = true;
      resolve();
    });
    child.on('close', () => resolve());
  });
}

/** Makes the FIFOs in a private directory under `parent`, opens them, and removes the files. */
export async function openPumpPipes(parent: string, forward: boolean): Promise<PumpPipes> {
  const dir = await mkdtemp(join(parent, '.rbee-pipe-'));
  const opened: number[] = [];
  try {
    const names = forward ? [join(dir, 'in'), join(dir, 'out')] : [join(dir, 'in')];
    await run('mkfifo', ['-m', '600', ...names]);
    const a = openFifo(names[0] as string);
    opened.push(a.r, a.w);
    const b = forward ? openFifo(names[1] as string) : undefined;
    if (b) opened.push(b.r, b.w);
    const pipes = { listerOut: a.w, pumpIn: a.r, pumpOut: b?.w ?? -1, extractorIn: b?.r ?? -1 };
    await widenPipes(pipes.pumpIn, pipes.pumpOut);
    return pipes;
  } catch (e) {
    for (const fd of opened) closeSync(fd);
    throw e;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
