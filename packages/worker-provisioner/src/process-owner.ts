import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** Who owns a lock or a build directory: enough to tell, later, whether that owner still runs. */
export interface ProcessOwner {
  pid: number;
  /** Start time of the process (Linux: ticks since boot from /proc/<pid>/stat), against pid reuse. */
  startTime?: string;
  /** Random per-process token: tells this process's own live holds from a dead one that had the same pid. */
  token: string;
  hostname: string;
  /** Epoch ms when the hold was taken. */
  since: number;
}

/** The start time of `pid` as the kernel records it, when the platform exposes it. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may contain spaces and parentheses: fields restart after the last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19]; // field 22 overall
  } catch {
    return undefined;
  }
}

const PROCESS_TOKEN = randomBytes(8).toString('hex');
let selfStartTime: string | undefined | null = null;

/** This process as an owner record. */
export function currentOwner(now: number = Date.now()): ProcessOwner {
  if (selfStartTime === null) selfStartTime = processStartTime(process.pid);
  return {
    pid: process.pid,
    ...(selfStartTime === undefined ? {} : { startTime: selfStartTime }),
    token: PROCESS_TOKEN,
    hostname: hostname(),
    since: now,
  };
}

/** True when `owner` is this very process. */
export function isSelf(owner: ProcessOwner): boolean {
  return owner.pid === process.pid && owner.token === PROCESS_TOKEN;
}

/**
 * True when the owner process still runs. An owner on another host is assumed alive (its pid
 * means nothing here). A pid that runs but started at another time is a reused pid: dead owner.
 */
export function isOwnerAlive(owner: ProcessOwner): boolean {
  if (owner.hostname !== hostname()) return true;
  if (owner.pid === process.pid) return owner.token === PROCESS_TOKEN;
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (owner.startTime !== undefined) {
    const now = processStartTime(owner.pid);
    if (now !== undefined && now !== owner.startTime) return false;
  }
  return true;
}

/** Parse an owner record; undefined when malformed. */
export function parseOwner(text: string): ProcessOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<ProcessOwner>;
    if (typeof o.pid !== 'number' || typeof o.token !== 'string' || typeof o.hostname !== 'string') return undefined;
    return {
      pid: o.pid,
      ...(typeof o.startTime === 'string' ? { startTime: o.startTime } : {}),
      token: o.token,
      hostname: o.hostname,
      since: typeof o.since === 'number' ? o.since : 0,
    };
  } catch {
    return undefined;
  }
}
