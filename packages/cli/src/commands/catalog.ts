import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { resolveCatalog } from '../catalog-location.js';
import { openCatalog } from '../provisioner-factory.js';
import { formatTable } from '../table.js';

/** `rbee-worker catalog list`: what the catalog offers. */
export async function catalogListCommand(ctx: CommandContext): Promise<number> {
  const catalog = await openCatalog(resolveCatalog(ctx));
  const workers = await catalog.listWorkers({ signal: ctx.signal });
  if (ctx.globals.json) {
    ctx.io.stdout.write(`${JSON.stringify(workers, null, 2)}\n`);
    return ExitCode.Ok;
  }
  const c = ctx.out;
  const rows = workers.map((w) => [
    c.bold(w.id),
    w.version,
    [...new Set(w.variants.map((v) => v.backend))].join(','),
    w.description ?? '',
  ]);
  ctx.io.stdout.write(`${formatTable(['ID', 'VERSION', 'BACKENDS', 'DESCRIPTION'], rows, ctx.io.stdout.isTTY ? (ctx.io.stdout.columns ?? 100) - 1 : undefined)}\n`);
  return ExitCode.Ok;
}

/** `rbee-worker catalog serve <dir>`: the reference catalog server, until Ctrl-C. */
export async function catalogServeCommand(ctx: CommandContext, dir: string, opts: { port: string; host: string }): Promise<number> {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError('E_USAGE', `--port ${opts.port}: not a port number (0-65535)`, { exitCode: ExitCode.Usage });
  }
  const abs = resolve(ctx.io.cwd, dir);
  if (!isDirectory(abs)) {
    throw new CliError('E_CATALOG_NOT_FOUND', `${dir}: no such directory`, { hint: 'give the catalog directory (the one holding workers.json or workers/)' });
  }
  if (!existsSync(join(abs, 'workers.json')) && !isDirectory(join(abs, 'workers'))) {
    throw new CliError('E_NOT_A_CATALOG', `${dir} is not a catalog: it has neither workers.json nor workers/`, {
      hint: 'see the catalog-client README for the directory layout (examples/catalog is one)',
    });
  }
  const { createCatalogServer } = await import('@rbee/catalog-client/server');
  const server = createCatalogServer({ dir: abs });
  const url = await server.listen(port, opts.host);
  ctx.io.stdout.write(`${ctx.globals.json ? JSON.stringify({ url, dir: abs }) : `serving ${dir} at ${url}`}\n`);
  ctx.io.stderr.write(ctx.err.dim('press Ctrl-C to stop\n'));
  await new Promise<void>((done) => {
    ctx.cancellable(() => done());
  });
  await server.close();
  return ctx.interruptCode();
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
