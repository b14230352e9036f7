import type { CommandContext } from './context.js';
import { resolveCatalog, resolveHome, type CatalogLocation } from './catalog-location.js';

/** Options that change how PKGBUILD code runs. */
export interface ProvisionerFlags {
  sandbox?: boolean;
  carch?: string;
  /** Whether a catalog is needed at all (`list`/`remove` work on the home alone). */
  withCatalog?: boolean;
}

/** Opens the catalog the user chose (URL or directory). */
export async function openCatalog(location: CatalogLocation) {
  const { CatalogClient } = await import('@rbee/catalog-client');
  return location.kind === 'url' ? new CatalogClient({ baseUrl: location.url }) : new CatalogClient({ dir: location.dir });
}

/** A `WorkerProvisioner` for the home and catalog the user chose. */
export async function createProvisioner(ctx: CommandContext, flags: ProvisionerFlags = {}) {
  const { WorkerProvisioner } = await import('@rbee/worker-provisioner');
  const home = resolveHome(ctx);
  const catalog = flags.withCatalog === false ? undefined : await openCatalog(resolveCatalog(ctx));
  return new WorkerProvisioner({
    ...(home !== undefined ? { home } : {}),
    ...(catalog !== undefined ? { catalog } : {}),
    ...(flags.sandbox === false ? { sandbox: false } : {}),
    ...(flags.carch !== undefined ? { carch: flags.carch } : {}),
  });
}
