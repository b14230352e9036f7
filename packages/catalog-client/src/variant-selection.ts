/**
 * Picks the variant of a worker that fits a platform/arch/backend/flavor, shared by the client's
 * `resolve` and the reference server's `GET /workers/:id/PKGBUILD`.
 */
import { CatalogError, type AvailableVariant } from './errors.js';
import type { Backend, Worker, WorkerVariant } from './schema.js';

/** Which PKGBUILD of a variant: `bin` is `pkgbuildUrl` (prebuilt first), `git` is `pkgbuildUrlGit` (build from source). */
export type Flavor = 'bin' | 'git';

/** What the caller runs on and wants. Unset fields match anything. */
export interface VariantQuery {
  /** `linux`, `macos`, `windows` (or an unknown platform, which matches nothing). */
  platform?: string | undefined;
  /** `x86_64`, `aarch64` (or an unknown arch, which matches nothing). */
  arch?: string | undefined;
  /** Required backend. */
  backend?: Backend | undefined;
  /** Required PKGBUILD flavor. Default: `bin` (the variant's `pkgbuildUrl`). */
  flavor?: Flavor | undefined;
}

/** The chosen variant and PKGBUILD URL as written in the catalog (not yet resolved). */
export interface VariantChoice {
  variant: WorkerVariant;
  flavor: Flavor;
  pkgbuildUrl: string;
}

/** What a worker offers, for error messages and `E_NO_COMPATIBLE_VARIANT.available`. */
export function describeVariants(worker: Worker): AvailableVariant[] {
  return worker.variants.map((v) => ({
    backend: v.backend,
    platforms: v.platforms,
    architectures: v.architectures,
    flavors: v.pkgbuildUrlGit === undefined ? ['bin'] : ['bin', 'git'],
  }));
}

/**
 * The first variant (in catalog order) that matches `query`, or throws `E_NO_COMPATIBLE_VARIANT`
 * listing what exists and what was asked.
 */
export function selectVariant(worker: Worker, query: VariantQuery): VariantChoice {
  for (const variant of worker.variants) {
    if (query.backend !== undefined && variant.backend !== query.backend) continue;
    if (query.platform !== undefined && !(variant.platforms as readonly string[]).includes(query.platform)) continue;
    if (query.arch !== undefined && !(variant.architectures as readonly string[]).includes(query.arch)) continue;
    if (query.flavor === 'git') {
      if (variant.pkgbuildUrlGit === undefined) continue;
      return { variant, flavor: 'git', pkgbuildUrl: variant.pkgbuildUrlGit };
    }
    return { variant, flavor: 'bin', pkgbuildUrl: variant.pkgbuildUrl };
  }
  const available = describeVariants(worker);
  const asked = [
    query.platform !== undefined || query.arch !== undefined ? `${query.platform ?? 'any platform'}/${query.arch ?? 'any arch'}` : undefined,
    query.backend !== undefined ? `backend ${query.backend}` : undefined,
    query.flavor !== undefined ? `flavor ${query.flavor}` : undefined,
  ]
    .filter((s) => s !== undefined)
    .join(', ');
  const has = available
    .map((a) => `${a.backend} (${a.platforms.join('/')}; ${a.architectures.join('/')}; ${a.flavors.join('+')})`)
    .join(', ');
  throw new CatalogError(
    'E_NO_COMPATIBLE_VARIANT',
    `${worker.id} has no variant for ${asked || 'this request'}; it has: ${has}. Pick one of those backends/flavors, or a worker built for this machine`,
    {
      workerId: worker.id,
      requested: { platform: query.platform, arch: query.arch, backend: query.backend, flavor: query.flavor },
      available,
    },
  );
}
