import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pkgbuild, Value } from '@rbee/pkgbuild-parser';

/** A minimal PKGBUILD model with the given variables. */
export function pkgbuild(vars: Record<string, Value>, carch = 'x86_64'): Pkgbuild {
  return { pkgbase: 'demo', pkgname: ['demo'], vars: { pkgname: 'demo', pkgver: '1', pkgrel: '1', ...vars }, packages: [{ name: 'demo', overrides: {} }], functions: [], unknown: [], carch };
}

export function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

export function b2(b: Buffer | string): string {
  return createHash('blake2b512').update(b).digest('hex');
}

/** Deterministic pseudo-random bytes (so failures reproduce). */
export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const dirs: string[] = [];

export async function tempDir(prefix = 'rbee-sf-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export async function cleanupTempDirs(): Promise<void> {
  while (dirs.length > 0) await rm(dirs.pop() as string, { recursive: true, force: true });
}

/** Resolves with the error a promise rejects with (fails if it resolves). */
export async function rejectionOf(p: Promise<unknown>): Promise<Error & { code?: string; [k: string]: unknown }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string; [k: string]: unknown };
  }
  throw new Error('expected a rejection, but the promise resolved');
}
