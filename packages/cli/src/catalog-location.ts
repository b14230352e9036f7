import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from './cli-error.js';
import type { CommandContext } from './context.js';

/** Where the catalog is: an HTTP base URL or a directory. */
export type CatalogLocation = { kind: 'url'; url: string; origin: string } | { kind: 'dir'; dir: string; origin: string };

/**
 * The example catalog shipped in the repository, relative to the built `dist/*.js` files
 * (`packages/cli/dist` → `examples/catalog`). Undefined when the CLI runs outside the repository.
 */
export function exampleCatalogDir(): string | undefined {
  const dir = fileURLToPath(new URL('../../../examples/catalog/', import.meta.url));
  return existsSync(dir) ? dir.replace(/\/$/, '') : undefined;
}

/**
 * The catalog to use: `--catalog`, else `WORKER_CATALOG_URL`, else the repository's example
 * catalog (so a fresh checkout installs the demo worker offline).
 */
export function resolveCatalog(ctx: CommandContext): CatalogLocation {
  const given = ctx.globals.catalog ?? (ctx.io.env.WORKER_CATALOG_URL || undefined);
  const origin = ctx.globals.catalog !== undefined ? '--catalog' : given !== undefined ? 'WORKER_CATALOG_URL' : 'example catalog';
  if (given === undefined) {
    const dir = exampleCatalogDir();
    if (!dir) {
      throw new CliError('E_NO_CATALOG', 'no catalog given, and the example catalog is not next to this CLI', {
        hint: 'pass --catalog <url|dir> or set WORKER_CATALOG_URL',
      });
    }
    return { kind: 'dir', dir, origin };
  }
  if (/^https?:\/\//i.test(given)) return { kind: 'url', url: given, origin };
  const dir = given.startsWith('file:') ? fileURLToPath(given) : resolve(ctx.io.cwd, given);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    throw new CliError('E_CATALOG_NOT_FOUND', `catalog ${given} (from ${origin}) is neither an http(s) URL nor a directory`, {
      hint: 'pass --catalog http://host:port or --catalog path/to/catalog-dir',
    });
  }
  return { kind: 'dir', dir, origin };
}

/** The workers home: `--home`, else the provisioner's default (`RBEE_HOME`, XDG cache). */
export function resolveHome(ctx: CommandContext): string | undefined {
  return ctx.globals.home !== undefined ? resolve(ctx.io.cwd, ctx.globals.home) : undefined;
}
