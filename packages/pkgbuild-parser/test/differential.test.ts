/**
 * Property-based differential testing against makepkg: PKGBUILDs generated from a grammar of the
 * constructs the parser claims to settle (test/pkgbuild-arbitrary.ts) are evaluated by makepkg's
 * own code (scripts/srcinfo-oracle.sh, ONE bash process for the whole batch, both x86_64 and
 * aarch64) and compared with toSrcinfo(parsePkgbuild(…)).
 *
 * RBEE_DIFF_CARCHES (default x86_64,aarch64) picks the architectures.
 * Bounded: RBEE_DIFF_RUNS generated files (default 6: makepkg needs several CPU-seconds per file).
 * Larger runs: `node scripts/differential.mjs --runs 500`. FAST_CHECK_SEED reproduces a run.
 * Skipped, with a message, where makepkg is not installed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lintPkgbuild, parsePkgbuild, toSrcinfo } from '../src/index.js';
import { makepkgAvailable, runOracle } from './oracle.js';
import { pkgbuildArbitrary } from './pkgbuild-arbitrary.js';

const runs = Number(process.env.RBEE_DIFF_RUNS ?? 6);
const seed = Number(process.env.FAST_CHECK_SEED ?? Date.now() % 2 ** 31);
const carches = (process.env.RBEE_DIFF_CARCHES ?? 'x86_64,aarch64').split(',');
const available = makepkgAvailable();

describe('differential: generated PKGBUILDs vs makepkg', () => {
  it.skipIf(!available)(
    `${runs} generated PKGBUILDs (seed ${seed}) agree with makepkg --printsrcinfo` +
      (available ? '' : ' (skipped: makepkg 6.0.2 is not installed)'),
    () => {
      const samples = fc.sample(pkgbuildArbitrary, { numRuns: runs, seed });
      const verdicts = runOracle(samples, carches, { timeoutMs: runs * carches.length * 300_000 });
      const disagreements: string[] = [];
      let accepted = 0;
      samples.forEach((s, i) => {
        carches.forEach((carch, j) => {
          const v = verdicts[i]![j]!;
          const label = `sample ${i} (${carch})`;
          if (v.ok) {
            accepted++;
            const r = parsePkgbuild(s.text, { carch });
            if (!r.isStatic) {
              disagreements.push(`${label}: reported non-static, but only static constructs were generated`);
            } else {
              const ours = toSrcinfo(r.pkgbuild);
              if (ours !== v.srcinfo) disagreements.push(`${label}: .SRCINFO differs\n--- makepkg\n${v.srcinfo}--- ours\n${ours}`);
            }
          } else {
            const errors = lintPkgbuild(s.text, { carch }).filter((d) => d.severity === 'error');
            if (errors.length === 0) disagreements.push(`${label}: makepkg exited ${v.exitCode} (${v.stderr.trim()}) but lintPkgbuild found no error`);
          }
          if (disagreements.length && disagreements.at(-1)!.startsWith(label)) {
            disagreements[disagreements.length - 1] += `\n--- PKGBUILD\n${s.text}`;
            saveDisagreement(i, carch, s.text, v.ok ? v.srcinfo : `exit ${v.exitCode}\n${v.stderr}`);
          }
        });
      });
      console.log(
        `differential (seed ${seed}): ${samples.length} PKGBUILDs × ${carches.join('+')}: ` +
          `${accepted} accepted by makepkg, ${samples.length * carches.length - accepted} rejected, ` +
          `${disagreements.length} disagreements`,
      );
      // the grammar is meant to produce mostly accepted files; if makepkg rejects nearly all of
      // them the test would prove little
      expect(accepted).toBeGreaterThan(0);
      expect(disagreements, `seed ${seed}: ${disagreements.length} disagreements\n${disagreements.join('\n\n')}`).toEqual([]);
    },
    runs * carches.length * 300_000 + 60_000,
  );
});

/** With RBEE_DIFF_OUT set (scripts/differential.mjs does), each disagreement is kept for triage. */
function saveDisagreement(i: number, carch: string, text: string, expected: string): void {
  const out = process.env.RBEE_DIFF_OUT;
  if (!out) return;
  const dir = join(out, `seed${seed}-${i}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'PKGBUILD'), text);
  writeFileSync(join(dir, `makepkg.${carch}.txt`), expected);
}
