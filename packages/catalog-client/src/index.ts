export { CatalogClient } from './catalog-client.js';
export type { CallOptions, CatalogClientOptions, CatalogPkgbuild, CatalogWarning, GetFileOptions, ResolveOptions, ResolvedWorker } from './catalog-client.js';
export { CatalogError } from './errors.js';
export type { AvailableVariant, CatalogErrorCode, CatalogErrorDetails, CatalogResponseIssue } from './errors.js';
export { ARCHES, BACKENDS, PLATFORMS, WORKER_ID_PATTERN, WorkerSchema, WorkerVariantSchema } from './schema.js';
export type { Arch, Backend, Platform, Worker, WorkerCapabilities, WorkerSource, WorkerVariant } from './schema.js';
export type { Flavor } from './variant-selection.js';
export { defaultCacheDir } from './response-cache.js';
