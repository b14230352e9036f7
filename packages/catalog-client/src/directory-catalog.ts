/**
 * Reading a directory catalog (the static layout documented in the README), shared by the
 * client's directory mode and the reference server:
 *
 * ```
 * workers.json                       { "workers": [Worker, …] }  (GET /workers)
 * workers/<id>.json                  Worker                      (GET /workers/<id>)
 * workers/<id>/<variant>/PKGBUILD    a variant's PKGBUILD (its pkgbuildUrl, relative to the root)
 * workers/<id>/<variant>/<file>      local sources next to it
 * ```
 */
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { CatalogError } from './errors.js';

/** A file read from the catalog directory. */
export interface CatalogFile {
  path: string;
  body: Buffer;
}

/**
 * Maps a catalog URL (`workers/x/cpu/PKGBUILD` or `/workers/x/cpu/PKGBUILD`) to a path inside
 * `dir`, or undefined when it is absolute (http…), has `..`/`.`/empty segments, encoded
 * slashes, backslashes or NUL.
 */
export function catalogPath(dir: string, url: string): string | undefined {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(url)) return undefined;
  const path = url.split(/[?#]/, 1)[0] ?? '';
  const segs = path.replace(/^\/+/, '').split('/');
  const out: string[] = [];
  for (const raw of segs) {
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (seg === '' || seg === '.' || seg === '..' || /[/\\\0]/.test(seg)) return undefined;
    out.push(seg);
  }
  if (out.length === 0) return undefined;
  return join(dir, ...out);
}

const rootRealpaths = new Map<string, string>();

/** realpath of a catalog root, remembered (roots do not move while served). */
async function rootRealpath(dir: string): Promise<string> {
  let rd = rootRealpaths.get(dir);
  if (rd === undefined) {
    rd = await realpath(dir);
    if (rootRealpaths.size > 64) rootRealpaths.clear();
    rootRealpaths.set(dir, rd);
  }
  return rd;
}

/** True when the real path of `path` (symlinks resolved) is inside the real path of `dir`. */
export async function isInside(dir: string, path: string): Promise<boolean> {
  try {
    const [rd, rp] = await Promise.all([rootRealpath(dir), realpath(path)]);
    return rp === rd || rp.startsWith(rd.endsWith(sep) ? rd : rd + sep);
  } catch {
    return false;
  }
}

/**
 * Reads a regular file of the catalog, refusing anything whose real path leaves `dir`.
 * Returns undefined when it does not exist (or is not a regular file). Throws
 * `E_RESPONSE_TOO_LARGE` beyond `maxBytes` without reading it.
 */
export async function readCatalogFile(dir: string, path: string, maxBytes: number): Promise<CatalogFile | undefined> {
  if (!(await isInside(dir, path))) return undefined;
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) return undefined;
    if (st.size > maxBytes) {
      throw new CatalogError('E_RESPONSE_TOO_LARGE', `${path} is ${st.size} bytes, over the ${maxBytes}-byte limit for this kind of file`, {
        url: path,
        limit: maxBytes,
      });
    }
    const body = await handle.readFile();
    if (body.length > maxBytes) {
      throw new CatalogError('E_RESPONSE_TOO_LARGE', `${path} grew over the ${maxBytes}-byte limit while being read`, { url: path, limit: maxBytes });
    }
    return { path, body };
  } finally {
    await handle.close();
  }
}

/** `workers.json` of the catalog, if it has one. */
export function readIndexFile(dir: string, maxBytes: number): Promise<CatalogFile | undefined> {
  return readCatalogFile(dir, join(dir, 'workers.json'), maxBytes);
}

/** `workers/<id>.json` (the id must already be validated). */
export function readWorkerFile(dir: string, id: string, maxBytes: number): Promise<CatalogFile | undefined> {
  return readCatalogFile(dir, join(dir, 'workers', `${id}.json`), maxBytes);
}

/** The `workers/*.json` files, sorted by name (used when a catalog has no `workers.json`). */
export async function listWorkerFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(join(dir, 'workers'));
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
    .sort()
    .map((n) => join(dir, 'workers', n));
}

/** Throws `E_INVALID_OPTIONS` unless `dir` is an existing directory. */
export async function assertCatalogDir(dir: string): Promise<void> {
  let ok = false;
  try {
    ok = (await stat(dir)).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new CatalogError('E_INVALID_OPTIONS', `catalog directory ${dir} does not exist or is not a directory`, { url: dir });
  }
}
