/**
 * inspectPkgbuild vs makepkg --printsrcinfo: `stdout + toSrcinfo(pkgbuild)` must be
 * byte-identical to what makepkg 6.0.2 printed (makepkg mixes the top level's stdout into its
 * output; inspect returns it apart). The verdicts are stored beside each PKGBUILD as
 * `expected.<carch>.srcinfo` / `expected.<carch>.error`, produced by real makepkg's code through
 * scripts/srcinfo-oracle.sh run as an unprivileged user:
 *   - the parser's conformance fixtures (packages/pkgbuild-parser/test/fixtures/conformance/*),
 *   - this package's dynamic fixtures (test/fixtures/inspect/*: command substitution, uname,
 *     case on CARCH, functions called at top level, eval-defined package functions, …).
 * Regenerate ours with: scripts/srcinfo-oracle.sh --carch x86_64 --carch aarch64 --prune \
 *   packages/pkgbuild-executor/test/fixtures/inspect/*
 * Each architecture's files are inspected in ONE bash process (inspectPkgbuilds), which keeps
 * this suite fast. RBEE_LIVE_ORACLE=1 also re-runs the live oracle on two of our fixtures to catch
 * stale stored outputs (slow: makepkg's library forks a lot).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toSrcinfo } from '@rbee/pkgbuild-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectPkgbuilds, type InspectOutcome } from '../src/index.js';
import { fixturesDir, repoRoot } from './helpers.js';

interface Case {
  name: string;
  dir: string;
  carch: string;
  expected: { ok: true; text: string } | { ok: false; exit: number };
}

function casesIn(root: string, prefix: string): Case[] {
  if (!existsSync(root)) return [];
  const out: Case[] = [];
  for (const name of readdirSync(root).sort()) {
    const dir = join(root, name);
    if (!existsSync(join(dir, 'PKGBUILD'))) continue;
    const files = readdirSync(dir);
    const carches = new Set(files.map((f) => /^expected\.([^.]+)\.(srcinfo|error)$/.exec(f)?.[1]).filter((c): c is string => !!c));
    // --prune stores an architecture's verdict only where it differs from x86_64's
    if (carches.has('x86_64')) carches.add('aarch64');
    for (const carch of carches) {
      const pick = (c: string): Case['expected'] | undefined => {
        const ok = join(dir, `expected.${c}.srcinfo`);
        if (existsSync(ok)) return { ok: true, text: readFileSync(ok, 'utf8') };
        const err = join(dir, `expected.${c}.error`);
        if (existsSync(err)) return { ok: false, exit: Number(/^exit (\d+)/.exec(readFileSync(err, 'utf8'))?.[1] ?? -1) };
        return undefined;
      };
      const expected = pick(carch) ?? pick('x86_64');
      if (expected) out.push({ name: `${prefix}${name}`, dir, carch, expected });
    }
  }
  return out;
}

const ours = casesIn(join(fixturesDir, 'inspect'), 'inspect/');
const parsers = casesIn(join(repoRoot, 'packages/pkgbuild-parser/test/fixtures/conformance'), 'conformance/');
const all = [...ours, ...parsers];

const results = new Map<Case, InspectOutcome>();
const tally = { same: 0, compared: 0, lintOnly: 0 };

// One bash process per architecture, both at once; a generous budget since hundreds of files
// are sourced (each file also has its own 10 s timeout inside the batch).
beforeAll(async () => {
  await Promise.all(
    [...new Set(all.map((c) => c.carch))].map(async (carch) => {
      const cs = all.filter((c) => c.carch === carch);
      const outcomes = await inspectPkgbuilds(
        cs.map((c) => join(c.dir, 'PKGBUILD')),
        { carch },
      );
      cs.forEach((c, i) => {
        const o = outcomes[i];
        if (o) results.set(c, o);
      });
    }),
  );
}, 600_000);

afterAll(() => {
  console.log(
    `inspect conformance: ${tally.same}/${tally.compared} byte-identical to makepkg --printsrcinfo ` +
      `(${ours.length} own dynamic cases, ${parsers.length} parser conformance cases; ${tally.lintOnly} rejected by makepkg's lint only, not compared)`,
  );
});

describe('inspectPkgbuild vs makepkg --printsrcinfo', () => {
  it('has the dynamic fixtures with stored makepkg outputs', () => {
    expect(ours.length).toBeGreaterThanOrEqual(11);
  });

  it.each(all.map((c) => [`${c.name} (${c.carch})`, c] as const))('%s', (_label, c) => {
    const o = results.get(c);
    expect(o).toBeDefined();
    if (!o) return;
    if (c.expected.ok && c.expected.text === '') {
      // makepkg printed nothing and exited 0: the top level called `exit 0`. toSrcinfo cannot
      // print nothing; inspect reports the exit instead (a deliberate difference).
      tally.compared++;
      expect(o.ok ? 'sourced' : o.error.code).toBe('E_PKGBUILD_SOURCE');
      tally.same++;
    } else if (c.expected.ok) {
      tally.compared++;
      if (!o.ok) throw o.error;
      const got = o.result.stdout + toSrcinfo(o.result.pkgbuild);
      expect(got).toBe(c.expected.text);
      tally.same++;
    } else if (c.expected.exit === 6) {
      // makepkg: "Failed to source" (bash could not source it / last command failed)
      tally.compared++;
      expect(o.ok ? 'sourced' : o.error.code).toBe('E_PKGBUILD_SOURCE');
      tally.same++;
    } else if (!o.ok) {
      // CRLF (exit 12) and other refusals also fail to inspect
      expect(o.error.code).toBe('E_PKGBUILD_SOURCE');
    } else {
      // makepkg's lint rejected it (exit 12); inspect does not lint (the parser's lintPkgbuild does)
      tally.lintOnly++;
    }
  });
});

describe.runIf(process.env['RBEE_LIVE_ORACLE'] === '1' && existsSync('/usr/share/makepkg/srcinfo.sh'))('live oracle', () => {
  it('stored outputs of a dynamic sample still match makepkg', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'rbee-live-oracle-'));
    try {
      const names = ['case-carch', 'override-cmdsubst'];
      for (const n of names) cpSync(join(fixturesDir, 'inspect', n), join(tmp, n), { recursive: true });
      const r = spawnSync('bash', [join(repoRoot, 'scripts/srcinfo-oracle.sh'), '--carch', 'x86_64', '--carch', 'aarch64', ...names.map((n) => join(tmp, n))], {
        encoding: 'utf8',
        timeout: 600_000,
      });
      expect(r.status).toBe(0);
      for (const n of names) {
        for (const c of ['x86_64', 'aarch64']) {
          const stored = existsSync(join(fixturesDir, 'inspect', n, `expected.${c}.srcinfo`))
            ? join(fixturesDir, 'inspect', n, `expected.${c}.srcinfo`)
            : join(fixturesDir, 'inspect', n, 'expected.x86_64.srcinfo');
          expect(readFileSync(join(tmp, n, `expected.${c}.srcinfo`), 'utf8')).toBe(readFileSync(stored, 'utf8'));
        }
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 600_000);
});
