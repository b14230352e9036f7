import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Pkgbuild } from './model.js';
import { parseSourceEntry, sourcesFor } from './source-entry.js';

const ENTRIES = [
  'foo.patch',
  'sub/dir/file.txt',
  'https://example.org/dl/llm-1.2.tar.gz',
  'http://example.org/a/b/',
  'ftp://ftp.example.org/pub/x.tar.xz',
  'file:///srv/files/model.bin',
  'renamed.tar.gz::https://example.org/download?id=3#frag',
  'git+https://github.com/rbee/llm-worker.git',
  'git+https://github.com/rbee/llm-worker.git#tag=v1.2.3?signed',
  'git+https://github.com/rbee/llm-worker.git?signed#commit=abc=def',
  'git+https://host/path/repo.github.io.git/',
  'git://host/repo',
  'mydir::git+ssh://git@host/x/y.git#branch=main',
  'hg+https://hg.example.org/repo#revision=42',
  'hg+https://hg.example.org/repo/?x#branch=default',
  'svn+https://svn.example.org/trunk/proj#revision=123',
  'svn+ssh://svn.example.org/trunk/proj',
  'bzr+lp:~user/project/branch#revision=7=8',
  'bzr+http://bzr.example.org/proj',
  'bzr+ssh://bzr.example.org/proj',
  'lp:foo',
  'fossil+https://fossil.example.org/home#commit=deadbeef',
  'scp://user@host/path/file.tar',
  'a::b::https://x/y',
  'weird+scheme+x://h/f.bin',
  'name-only::local.file',
  '',
  'https://example.org/a#b?c#d?e',
];

/** makepkg's own functions, run in real bash: one line per field, records separated by \0. */
function bashOracle(entries: readonly string[]): string[][] {
  const script = `
    source /usr/share/makepkg/util/source.sh
    for e in "$@"; do
      get_filename "$e"; get_url "$e"; get_protocol "$e"; get_uri_fragment "$e"; get_uri_query "$e"
      f=\${e#*#}; [[ $f = "$e" ]] && f=; printf '%s\\n' "$f"
      printf '\\0'
    done`;
  const r = spawnSync('bash', ['-c', script, 'oracle', ...entries], { encoding: 'utf8', env: { LC_ALL: 'C', PATH: '/usr/bin:/bin' } });
  expect(r.status).toBe(0);
  return r.stdout.split('\0').slice(0, -1).map((rec) => rec.split('\n').slice(0, 6));
}

const haveMakepkgLib = existsSync('/usr/share/makepkg/util/source.sh');

describe('parseSourceEntry', () => {
  it.runIf(haveMakepkgLib)('agrees with makepkg util/source.sh on filename, url, protocol, fragment and query', () => {
    const oracle = bashOracle(ENTRIES);
    ENTRIES.forEach((raw, i) => {
      const [filename, url, protocol, fragment, query, rawFragment] = oracle[i]!;
      const e = parseSourceEntry(raw);
      expect({ raw, filename: e.filename, url: e.url, protocol: e.protocol, query: e.query ?? '' }).toEqual({
        raw,
        filename,
        url,
        protocol,
        query,
      });
      // The handlers split the fragment: git/fossil take get_uri_fragment, hg/svn/bzr \${netfile#*#}.
      const f = e.vcs === 'git' || e.vcs === 'fossil' ? fragment! : rawFragment!;
      if (e.vcs === undefined || f === '') {
        expect(e.fragment).toBeUndefined();
      } else {
        const eq = f.indexOf('=');
        const value = eq === -1 ? f : e.vcs === 'bzr' ? f.slice(eq + 1) : f.slice(f.lastIndexOf('=') + 1);
        expect(e.fragment).toEqual({ type: eq === -1 ? f : f.slice(0, eq), value });
      }
    });
  });

  it('decodes a signed git tag', () => {
    expect(parseSourceEntry('llm::git+https://example.org/llm.git#tag=v1.2?signed')).toEqual({
      raw: 'llm::git+https://example.org/llm.git#tag=v1.2?signed',
      filename: 'llm',
      url: 'git+https://example.org/llm.git#tag=v1.2?signed',
      protocol: 'git',
      vcs: 'git',
      remote: 'https://example.org/llm.git',
      fragment: { type: 'tag', value: 'v1.2' },
      query: 'signed',
      signed: true,
    });
  });

  it('derives VCS names and remotes as the makepkg handlers do', () => {
    expect(parseSourceEntry('git+https://h/p/repo.github.io.git/')).toMatchObject({ filename: 'repo', remote: 'https://h/p/repo.github.io.git/' });
    expect(parseSourceEntry('fossil+https://f.org/home#commit=1')).toMatchObject({ filename: 'home.fossil', remote: 'https://f.org/home', fragment: { type: 'commit', value: '1' } });
    expect(parseSourceEntry('svn+ssh://s/trunk#revision=3')).toMatchObject({ vcs: 'svn', remote: 'svn+ssh://s/trunk', fragment: { type: 'revision', value: '3' } });
    expect(parseSourceEntry('svn+https://s/trunk')).toMatchObject({ filename: 'trunk', remote: 'https://s/trunk' });
    expect(parseSourceEntry('bzr+lp:~u/p/b#revision=7=8')).toMatchObject({ protocol: 'bzr', filename: 'b', fragment: { type: 'revision', value: '7=8' } });
    expect(parseSourceEntry('git+https://h/r.git#commit=a=b')).toMatchObject({ fragment: { type: 'commit', value: 'b' } });
    expect(parseSourceEntry('hg+https://h/r#branch=x?q')).toMatchObject({ remote: 'https://h/r', fragment: { type: 'branch', value: 'x?q' } });
    expect(parseSourceEntry('scp://user@host/path/file.tar')).toMatchObject({ protocol: 'scp', remote: 'user@host/path/file.tar', filename: 'file.tar' });
  });

  it('keeps the fragment of plain downloads in the URL and marks local files', () => {
    const e = parseSourceEntry('https://example.org/f.tar.gz#sha=1');
    expect(e).toMatchObject({ protocol: 'https', remote: 'https://example.org/f.tar.gz#sha=1', filename: 'f.tar.gz#sha=1', signed: false });
    expect(e.vcs).toBeUndefined();
    expect(e.fragment).toBeUndefined();
    expect(parseSourceEntry('llm.service')).toEqual({ raw: 'llm.service', filename: 'llm.service', url: 'llm.service', protocol: 'local', remote: 'llm.service', signed: false });
  });
});

const pb = (vars: Pkgbuild['vars']): Pkgbuild => ({ pkgbase: 'x', pkgname: ['x'], vars, packages: [], functions: [], unknown: [], carch: 'x86_64' });

describe('sourcesFor', () => {
  it('concatenates source + source_<carch> and <alg>sums + <alg>sums_<carch>, and keeps the pairs', () => {
    const r = sourcesFor(
      pb({
        arch: ['x86_64', 'aarch64'],
        source: ['a.tar', 'git+https://h/r.git'],
        source_x86_64: ['x.bin'],
        source_aarch64: ['arm.bin'],
        sha256sums: ['aa', 'SKIP'],
        sha256sums_x86_64: ['bb'],
        b2sums_x86_64: ['cc'],
        md5sums_aarch64: ['dd'],
      }),
      'x86_64',
    );
    expect(r.entries.map((e) => e.filename)).toEqual(['a.tar', 'r', 'x.bin']);
    expect(r.checksums.sha256).toEqual(['aa', 'SKIP', 'bb']);
    expect(r.checksums.b2).toEqual(['cc']);
    expect(r.checksums.md5).toBeUndefined();
    expect(Object.keys(r.checksums)).toEqual(['ck', 'md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'b2']);
    expect(r.groups.map((g) => g.variable)).toEqual(['source', 'source_x86_64']);
    expect(r.groups[1]!.checksums.sha256).toEqual(['bb']);
    expect(r.groups[1]!.checksums.b2).toEqual(['cc']);
    expect(r.groups[0]!.checksums.b2).toBeUndefined();
  });

  it('treats a scalar as a one-element array and omits empty groups', () => {
    const r = sourcesFor(pb({ source: 'one.tar', sha1sums: 'abc', source_aarch64: ['no'] }), 'x86_64');
    expect(r.entries.map((e) => e.raw)).toEqual(['one.tar']);
    expect(r.checksums.sha1).toEqual(['abc']);
    expect(r.groups).toHaveLength(1);
    expect(sourcesFor(pb({}), 'x86_64')).toMatchObject({ entries: [], groups: [] });
  });
});
