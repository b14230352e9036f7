// The command tree itself: version, help, usage errors → exit 2.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanup, cliEnv, pkgDir, runCli, tempDir } from './cli-harness.js';

/**
 * The built CLI's `run()` (dist/index.js) in this process, with captured output: the same code
 * as the binary, without a Node start-up per case. The binary itself is exercised below.
 */
async function runBuilt(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const { run } = (await import(join(pkgDir, 'dist', 'index.js'))) as typeof import('../src/index.js');
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    io: { stdout: { write: (s: string) => ((stdout += s), true) }, stderr: { write: (s: string) => ((stderr += s), true) }, env: cliEnv(env), cwd: pkgDir },
  });
  return { code, stdout, stderr };
}

beforeAll(assertBuilt);

describe('rbee-worker (command tree)', () => {
  it('--version prints the package version on stdout and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it('--help lists every command of the contract, on stdout, exit 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['install', 'list|ls', 'info', 'remove|rm', 'catalog', 'build', 'pkgbuild']) expect(r.stdout).toContain(cmd);
    expect(r.stdout).toContain('Exit codes: 0 ok, 1 failure, 2 usage error, 130 cancelled');
  });

  it.each([
    [['install', '--help'], ['--backend <backend>', '--from-source', '--force', '--no-sandbox', '--catalog <url|dir>', '--home <dir>', '--json']],
    [['catalog', 'serve', '--help'], ['--port <port>', '--host <host>', '(default: "8787")', '(default: "127.0.0.1")']],
    [['pkgbuild', 'srcinfo', '--help'], ['--eval', '--carch <arch>']],
    [['pkgbuild', 'lint', '--help'], ['<file...>', '--json']],
    [['remove', '--help'], ['--version <version>']],
  ])('%j shows its options', async (args, expected) => {
    const r = await runBuilt(args);
    expect(r.code).toBe(0);
    for (const e of expected) expect(r.stdout).toContain(e);
  });

  it.each([
    [['instal', 'x'], "unknown command 'instal'"],
    [['install'], "missing required argument 'id[@version]'"],
    [['install', 'x', '--backend', 'tpu'], "argument 'tpu' is invalid"],
    [['list', '--frobnicate'], "unknown option '--frobnicate'"],
    [['pkgbuild', 'lint'], "missing required argument 'file'"],
    [['catalog'], 'Usage: rbee-worker catalog'],
    [[], 'Usage: rbee-worker'],
  ])('usage error %j → exit 2 with a message on stderr and nothing on stdout', async (args, message) => {
    const r = await runBuilt(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('the binary exits 2 on a usage error, with the message on stderr', async () => {
    const r = await runCli(['instal', 'demo-worker-rbee']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: unknown command 'instal'\n(Did you mean install?)");
    expect(r.stdout).toBe('');
  });

  it('a bad --port is a usage error too', async () => {
    const r = await runBuilt(['catalog', 'serve', '.', '--port', 'http']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('E_USAGE --port http: not a port number');
  });

  it('a command option named like a program option belongs to the command (`rm x --version 1`)', async () => {
    const home = tempDir('rm');
    try {
      const r = await runCli(['rm', 'nothing-here', '--version', '1.0', '--home', home, '--json']);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'E_NOT_INSTALLED' } });
      expect(r.stderr).toContain('E_NOT_INSTALLED worker nothing-here@1.0 is not installed');
    } finally {
      cleanup(home);
    }
  });
});

describe('colour', () => {
  const lint = ['pkgbuild', 'lint', 'test/fixtures/pkgbuild/lint-errors/PKGBUILD'];
  it('FORCE_COLOR colours output that is not a terminal; NO_COLOR wins over it; the default off a terminal is none', async () => {
    const forced = await runBuilt(lint, { NO_COLOR: undefined, FORCE_COLOR: '1' });
    expect(forced.stdout).toContain('\u001b[31m');
    const both = await runBuilt(lint, { NO_COLOR: '1', FORCE_COLOR: '1' });
    expect(both.stdout + both.stderr).not.toContain('\u001b');
    const plain = await runBuilt(lint, { NO_COLOR: undefined });
    expect(plain.stdout + plain.stderr).not.toContain('\u001b');
    expect(stripColours(forced.stdout)).toBe(plain.stdout);
  });
});

function stripColours(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '');
}
