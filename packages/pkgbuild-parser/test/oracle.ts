/**
 * Test-side access to the makepkg oracle (`scripts/srcinfo-oracle.sh`): one bash process that
 * loads libmakepkg once and evaluates many PKGBUILD directories the way `makepkg --printsrcinfo`
 * does, writing `expected.<carch>.srcinfo` or `expected.<carch>.error` beside each PKGBUILD.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (holds `scripts/srcinfo-oracle.sh`). */
export const repoRoot = resolve(here, '../../..');
export const oracleScript = join(repoRoot, 'scripts/srcinfo-oracle.sh');
export const conformanceDir = join(here, 'fixtures/conformance');

/** Whether makepkg's library (and so the oracle) is usable on this machine. */
export function makepkgAvailable(): boolean {
  return existsSync('/usr/bin/makepkg') && existsSync('/usr/share/makepkg/srcinfo.sh') && existsSync(oracleScript);
}

/** What makepkg said for one PKGBUILD and one CARCH. */
export type OracleVerdict =
  | { ok: true; srcinfo: string }
  | { ok: false; exitCode: number; stderr: string };

/** Reads a stored verdict (`expected.<carch>.srcinfo|error`) from a fixture directory, if any. */
export function readVerdict(dir: string, carch: string): OracleVerdict | undefined {
  const ok = join(dir, `expected.${carch}.srcinfo`);
  if (existsSync(ok)) return { ok: true, srcinfo: readFileSync(ok, 'utf8') };
  const err = join(dir, `expected.${carch}.error`);
  if (existsSync(err)) {
    const text = readFileSync(err, 'utf8');
    const nl = text.indexOf('\n');
    const first = nl < 0 ? text : text.slice(0, nl);
    return { ok: false, exitCode: Number(first.replace(/^exit /, '')), stderr: nl < 0 ? '' : text.slice(nl + 1) };
  }
  return undefined;
}

/** The architectures a fixture directory has stored verdicts for. */
export function storedCarches(dir: string): string[] {
  const set = new Set<string>();
  for (const f of readdirSync(dir)) {
    const m = /^expected\.([^.]+)\.(srcinfo|error)$/.exec(f);
    if (m?.[1]) set.add(m[1]);
  }
  return [...set].sort();
}

/**
 * Runs the one-process oracle on PKGBUILD texts (each written to its own temp dir, with optional
 * extra files) for the given architectures and returns the verdicts, in input order.
 */
export function runOracle(
  inputs: { text: string; files?: Record<string, string> }[],
  carches: string[] = ['x86_64'],
  opts: { timeoutMs?: number } = {},
): OracleVerdict[][] {
  const root = mkdtempSync(join(tmpdir(), 'rbee-oracle-'));
  try {
    const dirs = inputs.map((input, i) => {
      const d = join(root, String(i));
      mkdirSync(d);
      writeFileSync(join(d, 'PKGBUILD'), input.text);
      for (const [name, content] of Object.entries(input.files ?? {})) writeFileSync(join(d, name), content);
      return d;
    });
    const args = [oracleScript, ...carches.flatMap((c) => ['--carch', c]), '--stdin'];
    const r = spawnSync('bash', args, {
      input: dirs.join('\n') + '\n',
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 600_000,
      env: { ...process.env, LC_ALL: 'C' },
    });
    if (r.status !== 0) throw new Error(`srcinfo-oracle.sh failed (${r.status ?? r.signal}): ${r.stderr}`);
    return dirs.map((d) =>
      carches.map((c) => {
        const v = readVerdict(d, c);
        if (!v) throw new Error(`oracle produced nothing for ${d} (${c})`);
        return v;
      }),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The conformance fixtures: name, directory, PKGBUILD text. */
export function conformanceFixtures(): { name: string; dir: string; text: string }[] {
  return readdirSync(conformanceDir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const dir = join(conformanceDir, name);
      return { name, dir, text: readFileSync(join(dir, 'PKGBUILD'), 'utf8') };
    });
}
