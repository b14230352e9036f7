export type { Diagnostic, PackageInfo, Pkgbuild, PkgbuildFunction, Position, Range, Severity, Value } from './model.js';
export { toSrcinfo } from './srcinfo-writer.js';
export type { SrcinfoOptions } from './srcinfo-writer.js';
export { parseSrcinfo, SrcinfoParseError } from './srcinfo-reader.js';
export { parseSourceEntry, sourcesFor } from './source-entry.js';
export type { ArchSources, SourceEntry, SourceGroup, VcsProtocol } from './source-entry.js';
export { CHECKSUM_ALGORITHMS } from './schema.js';
export type { ChecksumAlgorithm } from './schema.js';
