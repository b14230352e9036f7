import type { CommandContext } from './context.js';
import { resolveCatalog, resolveHome, type CatalogLocation } from './catalog-location.js';

/** Options that change how PKGBUILD code runs. */
export interface ProvisionerFlags {
  /** `false` runs PKGBUILD code without bubblewrap (`--no-sandbox`). */
  sandbox?: boolean;
  /** Target architecture. */
  carch?: string;
  /** Whether a catalog is needed at all (`list`/`remove`/`build` work on the home alone). */
  withCatalog?: boolean;
}

function catalogUrl(location: CatalogLocation): string {
  return location.kind === 'url' ? location.url : location.dir;
}

/** Opens the catalog the user chose (URL or directory). */
export async function openCatalog(location: CatalogLocation) {
  const { CatalogClient } = await import('@rbee/catalog-client');
  return new CatalogClient({ url: catalogUrl(location) });
}

/** A `WorkerProvisioner` for the home and catalog the user chose. */
export async function createProvisioner(ctx: CommandContext, flags: ProvisionerFlags = {}) {
  const { WorkerProvisioner } = await import('@rbee/worker-provisioner');
  const home = resolveHome(ctx);
  return new WorkerProvisioner({
    ...(home !== undefined ? { home } : {}),
    // The provisioner builds its own CatalogClient from the options (a CatalogClient instance is
    // not assignable to its CatalogLike type: `resolve`'s option types differ).
    ...(flags.withCatalog === false ? {} : { catalog: { url: catalogUrl(resolveCatalog(ctx)) } }),
    ...(flags.sandbox === false ? { sandbox: false } : {}),
    ...(flags.carch !== undefined ? { carch: flags.carch } : {}),
  });
}
