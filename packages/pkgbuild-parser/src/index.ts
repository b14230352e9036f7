export type { Diagnostic, PackageInfo, Pkgbuild, PkgbuildFunction, Position, Range, Severity, Value } from './model.js';
