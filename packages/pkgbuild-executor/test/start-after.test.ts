import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPkgbuild, type FunctionEvent, type OutputLine, type RunResult } from '../src/index.js';
import { processesMatching, sandboxModes, tempDir, waitFor } from './helpers.js';

// build() reads a file that only appears after runPkgbuild was called, as extracted sources do
// when the caller overlaps the build's start-up with its extraction.
const PKGBUILD = `pkgname=gated
pkgver=1
pkgrel=1
arch=(any)
echo "top level sourced"
build() {
  cat "$srcdir/input.txt" >"$srcdir/built.txt"
}
package() {
  install -Dm644 "$srcdir/built.txt" "$pkgdir/out.txt"
}
`;

function gatedDir(): { dir: string; pkgbuildPath: string; srcdir: string; pkgdir: string } {
  const dir = tempDir('rbee-gated-');
  writeFileSync(join(dir, 'PKGBUILD'), PKGBUILD);
  mkdirSync(join(dir, 'src'));
  return { dir, pkgbuildPath: join(dir, 'PKGBUILD'), srcdir: join(dir, 'src'), pkgdir: join(dir, 'pkg') };
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Starts a gated run of a fresh copy of the PKGBUILD and waits until its top level was sourced. */
async function startGated(
  sandbox: 'bwrap' | 'none',
  signal?: AbortSignal,
): Promise<{ b: ReturnType<typeof gatedDir>; gate: ReturnType<typeof deferred>; fns: FunctionEvent[]; run: Promise<RunResult> }> {
  const b = gatedDir();
  const gate = deferred();
  const lines: OutputLine[] = [];
  const fns: FunctionEvent[] = [];
  const run = runPkgbuild({
    ...b,
    startdir: b.dir,
    sandbox,
    fakeroot: false,
    killGraceMs: 500,
    startAfter: gate.promise,
    ...(signal ? { signal } : {}),
    onLine: (l) => lines.push(l),
    onFunction: (f) => fns.push(f),
  });
  run.catch(() => undefined); // awaited by each test
  expect(await waitFor(() => lines.some((l) => l.line === 'top level sourced'))).toBe(true);
  return { b, gate, fns, run };
}

describe.each(sandboxModes)('runPkgbuild startAfter (sandbox %s)', (sandbox) => {
  it('sources the PKGBUILD at once and runs no function until the promise resolves', async () => {
    const { b, gate, fns, run } = await startGated(sandbox);
    // sourced and waiting: give it time to (wrongly) go on, then check that it did not
    await new Promise((r) => setTimeout(r, 300));
    expect(fns).toEqual([]);
    expect(processesMatching(b.pkgbuildPath).length).toBeGreaterThan(0);
    writeFileSync(join(b.srcdir, 'input.txt'), 'extracted after the start\n');
    gate.resolve();
    const r = await run;
    expect(fns.filter((f) => f.status === 'start').map((f) => f.function)).toEqual(['build', 'package']);
    expect(readFileSync(join(r.pkgdirs.gated ?? '', 'out.txt'), 'utf8')).toBe('extracted after the start\n');
  });

  it('runs nothing and rejects with the same reason when the promise rejects, leaving no process', async () => {
    const { b, gate, fns, run } = await startGated(sandbox);
    const reason = new Error('extraction failed');
    gate.reject(reason);
    await expect(run).rejects.toBe(reason);
    expect(fns).toEqual([]);
    expect(await waitFor(() => processesMatching(b.pkgbuildPath).length === 0, 5000)).toBe(true);
  });

  it('rejects with an AbortError when cancelled at the gate', async () => {
    const ctrl = new AbortController();
    const { b, gate, run } = await startGated(sandbox, ctrl.signal);
    ctrl.abort();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(await waitFor(() => processesMatching(b.pkgbuildPath).length === 0, 5000)).toBe(true);
    gate.resolve(); // too late: nothing is left to start
  });
});
