import { resolve } from 'node:path';
import type { CommandContext } from '../context.js';
import { runJob } from '../job-runner.js';
import { createProvisioner } from '../provisioner-factory.js';

interface BuildOptions {
  sandbox: boolean;
  force?: boolean;
  carch?: string;
}

/** `rbee-worker build <dir>`: build a local PKGBUILD directory and install it (like `makepkg -i`). */
export async function buildCommand(ctx: CommandContext, dir: string, opts: BuildOptions): Promise<number> {
  const abs = resolve(ctx.io.cwd, dir);
  return runJob(ctx, {
    title: `Building ${ctx.err.bold(dir)}`,
    verb: 'built and installed',
    async start({ jobId, signal, onEvent }) {
      const provisioner = await createProvisioner(ctx, { withCatalog: false, sandbox: opts.sandbox, ...(opts.carch ? { carch: opts.carch } : {}) });
      try {
        return await provisioner.installFromDirectory(abs, { jobId, signal, onEvent, force: opts.force === true });
      } finally {
        await provisioner.close();
      }
    },
  });
}
