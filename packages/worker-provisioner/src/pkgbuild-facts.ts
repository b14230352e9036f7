import type { Pkgbuild } from '@rbee/pkgbuild-parser';
import type { ProvisionPhase } from './events.js';
import { fullVersion } from './workers-home.js';

/** A scalar variable's value (an array's first element), unless it is unknown or unset. */
export function scalar(pkgbuild: Pkgbuild, name: string): string | undefined {
  if (pkgbuild.unknown.includes(name)) return undefined;
  const v = pkgbuild.vars[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v[0] : v;
}

export function arrayVar(pkgbuild: Pkgbuild, name: string): string[] {
  const v = pkgbuild.vars[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** The version the PKGBUILD declares (before any `pkgver()`), when statically known. */
export function declaredVersion(pkgbuild: Pkgbuild): string | undefined {
  const pkgver = scalar(pkgbuild, 'pkgver');
  const pkgrel = scalar(pkgbuild, 'pkgrel');
  if (!pkgver || !pkgrel || pkgbuild.unknown.includes('epoch')) return undefined;
  return fullVersion(pkgver, pkgrel, scalar(pkgbuild, 'epoch'));
}

/** Local files the PKGBUILD names (plain file names in `source`/`source_<carch>`, install, changelog). */
export function localFiles(pkgbuild: Pkgbuild, carch: string): { sources: string[]; extras: string[]; remote: string[] } {
  const sources: string[] = [];
  const remote: string[] = [];
  for (const raw of [...arrayVar(pkgbuild, 'source'), ...arrayVar(pkgbuild, `source_${carch}`)]) {
    const sep = raw.indexOf('::');
    const url = sep >= 0 ? raw.slice(sep + 2) : raw;
    if (url.includes('://') || url.includes('lp:')) {
      remote.push(url);
      continue;
    }
    const name = sep >= 0 ? raw.slice(0, sep) : raw.slice(raw.lastIndexOf('/') + 1);
    if (name) sources.push(name);
  }
  const extras: string[] = [];
  for (const key of ['install', 'changelog']) {
    const v = scalar(pkgbuild, key);
    if (v) extras.push(v);
  }
  return { sources: [...new Set(sources)], extras: [...new Set(extras)], remote };
}

export function functionNames(pkgbuild: Pkgbuild): Set<string> {
  return new Set(pkgbuild.functions.map((f) => f.name));
}

export function phaseOfFunction(name: string | undefined): ProvisionPhase {
  if (name === 'prepare' || name === 'pkgver' || name === 'build' || name === 'check') return name;
  return 'package';
}
