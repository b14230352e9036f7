export { createCatalogServer } from './catalog-server.js';
export type { CatalogRequestLog, CatalogServer, CatalogServerOptions } from './catalog-server.js';
