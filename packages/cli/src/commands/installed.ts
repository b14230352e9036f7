import { CliError, toErrorReport } from '../cli-error.js';
import type { CommandContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { createProvisioner, openCatalog } from '../provisioner-factory.js';
import { resolveCatalog } from '../catalog-location.js';
import { formatTable } from '../table.js';
import { formatBytes } from '../units.js';

/** `rbee-worker list`: the installed workers. */
export async function listCommand(ctx: CommandContext): Promise<number> {
  const provisioner = await createProvisioner(ctx, { withCatalog: false });
  const workers = await provisioner.list();
  if (ctx.globals.json) {
    ctx.io.stdout.write(`${JSON.stringify(workers, null, 2)}\n`);
    return ExitCode.Ok;
  }
  if (workers.length === 0) {
    ctx.io.stderr.write(`no workers installed ${ctx.err.dim('(try: rbee-worker install demo-worker-rbee)')}\n`);
    return ExitCode.Ok;
  }
  const c = ctx.out;
  const rows = workers.map((w) => [
    c.bold(w.id),
    `${w.version}${w.current ? '' : c.dim(' (not current)')}`,
    w.workerType,
    w.status === 'installed' ? c.green(w.status) : c.red(w.status),
    formatBytes(w.size),
    w.path,
  ]);
  ctx.io.stdout.write(`${formatTable(['ID', 'VERSION', 'BACKEND', 'STATUS', 'SIZE', 'PATH'], rows)}\n`);
  return ExitCode.Ok;
}

/** `rbee-worker info <id>`: the installed worker (if any) and its catalog entry (if any). */
export async function infoCommand(ctx: CommandContext, id: string): Promise<number> {
  const provisioner = await createProvisioner(ctx, { withCatalog: false });
  const worker = await provisioner.get(id);
  let entry: unknown;
  let catalogError: { code: string; message: string } | undefined;
  try {
    const catalog = await openCatalog(resolveCatalog(ctx));
    entry = await catalog.getWorker(id, { signal: ctx.signal });
  } catch (e) {
    const report = toErrorReport(e);
    // "not in the catalog" is an answer; anything else (unreachable, invalid) is worth saying
    if (report.code !== 'E_WORKER_NOT_FOUND') catalogError = { code: report.code, message: report.message };
    entry = undefined;
  }
  if (!worker && entry === undefined) {
    throw new CliError('E_WORKER_NOT_FOUND', `${id} is neither installed nor in the catalog${catalogError ? ` (catalog: ${catalogError.code} ${catalogError.message})` : ''}`, {
      hint: 'see `rbee-worker list` for installed workers and `rbee-worker catalog list` for the catalog',
    });
  }
  if (catalogError && !ctx.globals.json) {
    ctx.io.stderr.write(`${ctx.err.yellow('warning:')} could not read ${id} from the catalog: ${ctx.err.dim(catalogError.code)} ${catalogError.message}\n`);
  }
  if (ctx.globals.json) {
    const extra = catalogError ? { catalogError } : {};
    const doc = worker ? { ...worker, installed: true, catalog: entry ?? null, ...extra } : { id, installed: false, catalog: entry ?? null, ...extra };
    ctx.io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return ExitCode.Ok;
  }
  const c = ctx.out;
  const lines: string[] = [];
  if (worker) {
    lines.push(`${c.bold(worker.id)} ${worker.version} ${c.dim(`(${worker.workerType}, ${worker.platform}/${worker.arch})`)} ${worker.status === 'installed' ? c.green('installed') : c.red(worker.status)}`);
    const kv: Array<[string, string]> = [
      ['executable', worker.path],
      ['directory', worker.installDir],
      ['size', formatBytes(worker.size)],
      ['installed at', worker.addedAt],
      ['current', worker.current ? 'yes' : 'no'],
      ['formats', worker.supportedFormats.join(', ') || '-'],
      ['architectures', worker.supportedArchitectures.join(', ') || '-'],
      ['max context', worker.maxContextLength ? String(worker.maxContextLength) : '-'],
      ['streaming', worker.supportsStreaming ? 'yes' : 'no'],
      ['batching', worker.supportsBatching ? 'yes' : 'no'],
    ];
    if (worker.catalogId) kv.push(['catalog id', worker.catalogId]);
    for (const [k, v] of kv) lines.push(`  ${c.dim(k.padEnd(13))} ${v}`);
  } else {
    lines.push(`${c.bold(id)} ${c.yellow('not installed')} ${c.dim(`(install: rbee-worker install ${id})`)}`);
  }
  if (entry && typeof entry === 'object') {
    const e = entry as Record<string, unknown>;
    lines.push(`  ${c.dim('catalog'.padEnd(13))} ${String(e.version ?? '')}${e.description ? ` — ${String(e.description)}` : ''}`);
  }
  ctx.io.stdout.write(`${lines.join('\n')}\n`);
  return ExitCode.Ok;
}

/** `rbee-worker remove <id> [--version V]`. */
export async function removeCommand(ctx: CommandContext, id: string, opts: { version?: string }): Promise<number> {
  const provisioner = await createProvisioner(ctx, { withCatalog: false });
  const removed = await provisioner.remove(id, opts.version !== undefined ? { version: opts.version } : {});
  if (ctx.globals.json) {
    ctx.io.stdout.write(`${JSON.stringify({ id, removed }, null, 2)}\n`);
    return ExitCode.Ok;
  }
  for (const w of removed) ctx.io.stdout.write(`${ctx.out.green('✔')} removed ${ctx.out.bold(w.id)} ${w.version} ${ctx.out.dim(`(${w.installDir})`)}\n`);
  return ExitCode.Ok;
}
