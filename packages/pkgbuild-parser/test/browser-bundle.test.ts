/**
 * The parser must run in browsers: zero runtime dependencies and no Node built-ins. Bundle
 * src/index.ts for esbuild's browser platform (which refuses to resolve `node:*` and bare
 * built-in imports) and inspect every input and import in the metafile.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

describe('browser bundle', () => {
  it('bundles src/index.ts for the browser with no Node built-in anywhere in the graph', async () => {
    const result = await build({
      absWorkingDir: pkgDir,
      entryPoints: ['src/index.ts'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.length).toBeGreaterThan(1);
    // every module comes from this package's own sources
    expect(inputs.filter((p) => !p.startsWith('src/'))).toEqual([]);
    const imports = Object.values(result.metafile.inputs).flatMap((i) => i.imports.map((x) => x.path));
    expect(imports.filter((p) => p.startsWith('node:') || builtins.has(p))).toEqual([]);
    const code = result.outputFiles[0]?.text ?? '';
    expect(code).not.toMatch(/\bfrom\s*["']node:|\brequire\(\s*["']node:/);
    expect(code).toContain('parsePkgbuild');
  });

  it('fails loudly when a Node built-in sneaks in (the check can fail)', async () => {
    await expect(
      build({
        stdin: { contents: "import { readFileSync } from 'node:fs'; export const x = readFileSync;", loader: 'ts' },
        bundle: true,
        platform: 'browser',
        write: false,
        logLevel: 'silent',
      }),
    ).rejects.toThrow(/node:fs/);
  });

  it('declares no runtime dependencies', () => {
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.peerDependencies ?? {}).toEqual({});
    expect(pkg.optionalDependencies ?? {}).toEqual({});
  });
});
