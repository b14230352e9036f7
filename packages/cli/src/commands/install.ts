import type { CommandContext } from '../context.js';
import { resolveCatalog } from '../catalog-location.js';
import { runJob } from '../job-runner.js';
import { createProvisioner } from '../provisioner-factory.js';

interface InstallOptions {
  backend: 'auto' | 'cpu' | 'cuda' | 'metal' | 'rocm';
  fromSource?: boolean;
  force?: boolean;
  sandbox: boolean;
  carch?: string;
}

/** `rbee-worker install <id>[@version]`: resolve, fetch, verify, build if needed, install. */
export async function installCommand(ctx: CommandContext, id: string, opts: InstallOptions): Promise<number> {
  // A bad catalog is reported through the job like any other failure, so `--json` still ends
  // with a schema-valid `error` event.
  let where: string | undefined;
  let locationError: unknown;
  try {
    const location = resolveCatalog(ctx);
    where = location.kind === 'url' ? location.url : location.dir;
  } catch (e) {
    locationError = e;
  }
  return runJob(ctx, {
    title: `Installing ${ctx.err.bold(id)}${where ? ` ${ctx.err.dim(`from ${where}`)}` : ''}`,
    async start({ jobId, signal, onEvent }) {
      if (locationError !== undefined) throw locationError;
      const provisioner = await createProvisioner(ctx, { sandbox: opts.sandbox, ...(opts.carch ? { carch: opts.carch } : {}) });
      try {
        return await provisioner.provision(id, {
          jobId,
          signal,
          onEvent,
          backend: opts.backend,
          fromSource: opts.fromSource === true,
          force: opts.force === true,
        });
      } finally {
        // finishes background clean-up (a version replaced by --force) before the process exits
        await provisioner.close();
      }
    },
  });
}
