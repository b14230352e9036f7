import type { Pkgbuild, Value } from './model.js';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from './schema.js';

/** The VCS protocols makepkg 6.0.2 downloads with a VCS tool (`source/*.sh`). */
export type VcsProtocol = 'bzr' | 'fossil' | 'git' | 'hg' | 'svn';

const VCS = new Set<string>(['bzr', 'fossil', 'git', 'hg', 'svn']);

/**
 * One `source` entry, decoded with makepkg 6.0.2's rules (`util/source.sh`: `get_filename`,
 * `get_protocol`, `get_url`, `get_uri_fragment`, `get_uri_query`, and the VCS handlers in
 * `source/*.sh`).
 */
export interface SourceEntry {
  /** The entry as written in the PKGBUILD. */
  raw: string;
  /**
   * The name the download gets in `$SRCDEST`/`$srcdir` (`get_filename`): the part before the first
   * `::` if present; for `bzr fossil git hg svn` the last path component without fragment, query
   * and trailing `/` (`git`: cut at the first `.git`; `fossil`: `.fossil` appended; `bzr`: after
   * `lp:`); otherwise everything after the last `/` (so a URL ending in `/` gives `''`).
   */
  filename: string;
  /** `get_url`: the entry with a leading `name::` removed (everything up to the first `::`). */
  url: string;
  /**
   * `get_protocol`: `'local'` for plain file names; otherwise the scheme before `://` with any
   * `vcs+` prefix kept as the protocol (`git+https://…` → `'git'`, `https://…` → `'https'`),
   * or for `…lp:…` entries the text before `+lp:` (`bzr+lp:foo` → `'bzr'`). Any scheme is
   * returned as written (`'ftp'`, `'file'`, `'scp'`, `'rsync'`, …): makepkg then looks for a
   * matching `DLAGENTS` entry.
   */
  protocol: string;
  /** Set when `protocol` is a VCS makepkg clones with its own tool. */
  vcs?: VcsProtocol;
  /**
   * What the download tool is given, as makepkg's handler computes it: for VCS sources the URL
   * without the `vcs+` prefix (kept for `svn+ssh`/`bzr+ssh`), the `#fragment` and, for git and
   * fossil, the `?query`; for `scp` the URL without `scp://`; otherwise `url` unchanged (an
   * `https://…#x` entry downloads `https://…#x` verbatim).
   */
  remote: string;
  /**
   * VCS only: the `#type=value` reference (`commit`, `tag`, `branch`, `revision`, …). `type` is
   * the text before the first `=`, `value` the text after the last `=` (`bzr`: after the first),
   * as makepkg's handlers split it; without `=` both are the whole fragment. For git and fossil
   * the fragment ends before the last `?`.
   */
  fragment?: { type: string; value: string };
  /** The `?query` part (`get_uri_query`: after the first `?`, up to the last `#`). */
  query?: string;
  /** `query === 'signed'`: makepkg verifies the VCS object's signature (git/fossil). */
  signed: boolean;
}

/**
 * Decode a `source` entry: `name::proto+url#fragment?query` or a plain local file name.
 *
 * @example
 * parseSourceEntry('llm-worker::git+https://example.org/llm.git#tag=v1.2?signed')
 * // → { filename: 'llm-worker', protocol: 'git', vcs: 'git', url: 'git+https://example.org/llm.git#tag=v1.2?signed',
 * //     remote: 'https://example.org/llm.git', fragment: { type: 'tag', value: 'v1.2' }, query: 'signed', signed: true, … }
 */
export function parseSourceEntry(str: string): SourceEntry {
  const protocol = getProtocol(str);
  const url = afterFirst(str, '::');
  const entry: SourceEntry = { raw: str, filename: getFilename(str, protocol), url, protocol, remote: url, signed: false };

  const q = str.indexOf('?');
  if (q !== -1) {
    let query = str.slice(q + 1);
    const h = query.lastIndexOf('#');
    if (h !== -1) query = query.slice(0, h);
    entry.query = query;
    entry.signed = query === 'signed';
  }

  if (VCS.has(protocol)) {
    const vcs = protocol as VcsProtocol;
    entry.vcs = vcs;
    entry.remote = vcsRemote(vcs, url);
    const h = str.indexOf('#');
    if (h !== -1) {
      let fragment = str.slice(h + 1);
      if (vcs === 'git' || vcs === 'fossil') {
        // get_uri_fragment: ${fragment%\?*}
        const qq = fragment.lastIndexOf('?');
        if (qq !== -1) fragment = fragment.slice(0, qq);
      }
      const eq = fragment.indexOf('=');
      const type = eq === -1 ? fragment : fragment.slice(0, eq);
      const value = eq === -1 ? fragment : vcs === 'bzr' ? fragment.slice(eq + 1) : fragment.slice(fragment.lastIndexOf('=') + 1);
      entry.fragment = { type, value };
    }
  } else if (protocol === 'scp') {
    const i = url.lastIndexOf('://');
    entry.remote = i === -1 ? url : url.slice(i + 3);
  }
  return entry;
}

/** `${s#*sep}`: drop everything up to and including the first `sep`. */
function afterFirst(s: string, sep: string): string {
  const i = s.indexOf(sep);
  return i === -1 ? s : s.slice(i + sep.length);
}

/** `${s%%sep*}`: keep what precedes the first `sep`. */
function beforeFirst(s: string, sep: string): string {
  const i = s.indexOf(sep);
  return i === -1 ? s : s.slice(0, i);
}

function getProtocol(s: string): string {
  if (s.includes('://')) {
    return beforeFirst(beforeFirst(afterFirst(s, '::'), '://'), '+');
  }
  if (s.includes('lp:')) {
    return beforeFirst(afterFirst(s, '::'), '+lp:');
  }
  return 'local';
}

function getFilename(s: string, protocol: string): string {
  if (s.includes('::')) return beforeFirst(s, '::');
  if (VCS.has(protocol)) {
    let f = beforeFirst(s, '#');
    f = beforeFirst(f, '?');
    if (f.endsWith('/')) f = f.slice(0, -1);
    f = f.slice(f.lastIndexOf('/') + 1);
    if (protocol === 'bzr') f = afterFirst(f, 'lp:');
    if (protocol === 'fossil') f = `${f}.fossil`;
    if (protocol === 'git') f = beforeFirst(f, '.git');
    return f;
  }
  return s.slice(s.lastIndexOf('/') + 1);
}

function vcsRemote(vcs: VcsProtocol, url: string): string {
  let u = url;
  if (vcs === 'git' || vcs === 'hg' || vcs === 'fossil') {
    if (u.startsWith(`${vcs}+`)) u = u.slice(vcs.length + 1);
  } else if (!u.startsWith(`${vcs}+ssh`) && u.startsWith(`${vcs}+`)) {
    u = u.slice(vcs.length + 1);
  }
  u = beforeFirst(u, '#');
  if (vcs === 'git' || vcs === 'fossil') u = beforeFirst(u, '?');
  return u;
}

/** The source list and checksums makepkg uses for one architecture; see {@link sourcesFor}. */
export interface ArchSources {
  /** `source` then `source_<carch>` (makepkg's `get_all_sources_for_arch`), decoded. */
  entries: SourceEntry[];
  /**
   * Per algorithm, `<alg>sums` then `<alg>sums_<carch>` concatenated; `undefined` when neither
   * array is set (or both are empty). Lines up with `entries` only when each part has as many
   * sums as its source array: see `groups` for the exact pairs makepkg verifies.
   */
  checksums: Record<ChecksumAlgorithm, string[] | undefined>;
  /**
   * The (source array, sums arrays) pairs makepkg's `check_checksums` verifies separately:
   * `source` with `<alg>sums`, then `source_<carch>` with `<alg>sums_<carch>`. A group appears
   * when its source array or one of its sums arrays is non-empty. makepkg requires each non-empty
   * `entries` to be covered by at least one algorithm ("Integrity checks are missing for: source"),
   * and every non-empty sums array to have exactly as many entries as its source array ("Integrity
   * checks (sha256) differ in size from the source array").
   */
  groups: SourceGroup[];
}

/** One source array and its checksum arrays, as makepkg pairs them for verification. */
export interface SourceGroup {
  /** `'source'` or `'source_<carch>'`. */
  variable: string;
  entries: SourceEntry[];
  /** `<alg>sums` (or `<alg>sums_<carch>`) per algorithm; `undefined` when unset or empty. */
  checksums: Record<ChecksumAlgorithm, string[] | undefined>;
}

function arrayOf(v: Value | undefined): string[] {
  if (v === undefined) return [];
  return typeof v === 'string' ? [v] : v;
}

/**
 * The sources and checksums makepkg downloads and verifies for `carch`: `source` followed by
 * `source_<carch>` (as `get_all_sources_for_arch` concatenates them), and per algorithm
 * `<alg>sums` followed by `<alg>sums_<carch>`.
 *
 * Checksums are compared case-insensitively by makepkg (`${expectedsum,,}`) and `SKIP` skips one
 * entry. A scalar variable counts as a one-element array, as in bash.
 *
 * @param carch The architecture (`CARCH`), e.g. `'x86_64'`.
 * @example
 * const { entries, checksums } = sourcesFor(pkgbuild, 'x86_64');
 * entries.forEach((e, i) => console.log(e.filename, checksums.sha256?.[i]));
 */
export function sourcesFor(pkgbuild: Pkgbuild, carch: string): ArchSources {
  const groups: SourceGroup[] = [];
  const checksums = {} as Record<ChecksumAlgorithm, string[] | undefined>;
  const entries: SourceEntry[] = [];
  for (const alg of CHECKSUM_ALGORITHMS) checksums[alg] = undefined;

  for (const suffix of ['', `_${carch}`]) {
    const variable = `source${suffix}`;
    const list = arrayOf(pkgbuild.vars[variable]).map(parseSourceEntry);
    entries.push(...list);
    const groupSums = {} as Record<ChecksumAlgorithm, string[] | undefined>;
    for (const alg of CHECKSUM_ALGORITHMS) {
      const sums = arrayOf(pkgbuild.vars[`${alg}sums${suffix}`]);
      groupSums[alg] = sums.length > 0 ? sums : undefined;
      if (sums.length > 0) checksums[alg] = [...(checksums[alg] ?? []), ...sums];
    }
    const anySums = CHECKSUM_ALGORITHMS.some((alg) => groupSums[alg] !== undefined);
    if (list.length > 0 || anySums) groups.push({ variable, entries: list, checksums: groupSums });
  }
  return { entries, checksums, groups };
}
