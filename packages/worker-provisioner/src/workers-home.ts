import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The default workers home: `$RBEE_HOME`, else `$XDG_CACHE_HOME/rbee`, else `~/.cache/rbee`.
 */
export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RBEE_HOME) return resolve(env.RBEE_HOME);
  if (env.XDG_CACHE_HOME) return resolve(env.XDG_CACHE_HOME, 'rbee');
  return join(homedir(), '.cache', 'rbee');
}

/** Package names as makepkg allows them (lint_pkgname), also safe as a directory name. */
const PKGNAME_RE = /^[a-z0-9@_+][a-z0-9@._+-]*$/;

export function isSafePkgname(name: string): boolean {
  return name.length > 0 && name.length <= 128 && PKGNAME_RE.test(name) && name !== '.' && name !== '..';
}

/** `[epoch:]pkgver-pkgrel` as makepkg writes it. */
export function fullVersion(pkgver: string, pkgrel: string, epoch?: string): string {
  const e = epoch && epoch !== '0' ? `${epoch}:` : '';
  return `${e}${pkgver}-${pkgrel}`;
}

/**
 * The directory name of a full version: `:` (the epoch separator, not portable to Windows or
 * macOS Finder) is written `%3A`, `%` itself `%25`; other characters makepkg allows in a
 * version are kept.
 */
export function versionDirName(fullver: string): string {
  return fullver.replace(/%/g, '%25').replace(/:/g, '%3A').replace(/\//g, '%2F');
}

/** Inverse of {@link versionDirName}. */
export function versionFromDirName(dir: string): string {
  return dir.replace(/%2F/gi, '/').replace(/%3A/gi, ':').replace(/%25/g, '%');
}

/** Name of the manifest file in an installed version directory. */
export const MANIFEST_NAME = '.rbee-worker.json';
/** Name of the build log kept in an installed version directory. */
export const BUILD_LOG_NAME = '.rbee-build.log';

/** The fixed layout of a workers home. */
export class WorkersHome {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }
  get workersDir(): string {
    return join(this.root, 'workers');
  }
  get sourcesDir(): string {
    return join(this.root, 'sources');
  }
  get buildsDir(): string {
    return join(this.root, 'builds');
  }
  get locksDir(): string {
    return join(this.root, 'locks');
  }
  workerDir(pkgname: string): string {
    return join(this.workersDir, pkgname);
  }
  versionDir(pkgname: string, fullver: string): string {
    return join(this.workersDir, pkgname, versionDirName(fullver));
  }
  currentLink(pkgname: string): string {
    return join(this.workersDir, pkgname, 'current');
  }
  buildDir(jobId: string): string {
    return join(this.buildsDir, jobId);
  }
  lockFile(pkgname: string): string {
    return join(this.locksDir, `${pkgname}.lock`);
  }
}
