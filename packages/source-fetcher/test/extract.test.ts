import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, linkSync, writeFileSync, writeSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { detectArchive, extractArchive, FetchError, hasBsdtar, SCAN_VERSION } from '../src/index.js';
import { pipelineTuning } from '../src/extract.js';
import { closeFd, startBsdtarPipeline } from '../src/extract-pump.js';
import { pumpTar, TarFormatError } from '../src/tar-headers.js';
import { buildTar, buildZip, tarHeader, type TarMember } from './archive-builder.js';
import { cleanupTempDirs, rejectionOf, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

/** A small tree with what node-tar used to get wrong: symlink chains and absolute symlinks. */
async function makeTree(root?: string): Promise<string> {
  root ??= await tempDir('rbee-tree-');
  const t = join(root, 'pkg-1.0');
  mkdirSync(join(t, 'bin'), { recursive: true });
  mkdirSync(join(t, 'share/doc'), { recursive: true });
  writeFileSync(join(t, 'bin/tool'), '#!/bin/sh\necho hi\n');
  chmodSync(join(t, 'bin/tool'), 0o755);
  writeFileSync(join(t, 'share/doc/README'), 'readme\n');
  chmodSync(join(t, 'share/doc/README'), 0o640);
  // chain: c -> b -> a -> README (in an order where the chain precedes its target)
  symlinkSync('b', join(t, 'share/doc/c'));
  symlinkSync('a', join(t, 'share/doc/b'));
  symlinkSync('README', join(t, 'share/doc/a'));
  symlinkSync('/etc/localtime', join(t, 'share/localtime'));
  linkSync(join(t, 'share/doc/README'), join(t, 'share/doc/README.hard'));
  return root;
}

/** The tree of {@link makeTree} archived by tar as `name` (`flag` picks the compression) in a fresh temp dir. */
async function treeArchive(name: string, flag: '-cf' | '-czf' | '-cJf'): Promise<{ d: string; file: string }> {
  const root = await makeTree();
  const d = await tempDir();
  const file = join(d, name);
  execFileSync('tar', [flag, file, '-C', root, 'pkg-1.0']);
  return { d, file };
}

/** Writes a tar with one plain member and one '../up' member to `path`. */
function writeDotdotTar(path: string): string {
  writeFileSync(path, buildTar([{ name: 'ok', data: 'ok' }, { name: '../up', data: 'x' }]));
  return path;
}

function expectTree(dest: string): void {
  const t = join(dest, 'pkg-1.0');
  expect(readFileSync(join(t, 'bin/tool'), 'utf8')).toContain('echo hi');
  expect(statSync(join(t, 'bin/tool')).mode & 0o777).toBe(0o755);
  expect(statSync(join(t, 'share/doc/README')).mode & 0o777).toBe(0o640);
  expect(readlinkSync(join(t, 'share/doc/c'))).toBe('b');
  expect(readlinkSync(join(t, 'share/doc/b'))).toBe('a');
  expect(readFileSync(join(t, 'share/doc/c'), 'utf8')).toBe('readme\n');
  expect(readlinkSync(join(t, 'share/localtime'))).toBe('/etc/localtime');
  expect(readFileSync(join(t, 'share/doc/README.hard'), 'utf8')).toBe('readme\n');
  expect(readdirSync(dest).filter((n) => n.startsWith('.rbee-'))).toEqual([]);
}

const DEFAULT_INLINE_BELOW = pipelineTuning.inlineBelow;

let big: Promise<string> | undefined;
const bigDir = mkdtempSync(join(tmpdir(), 'rbee-big-'));
afterAll(() => rmSync(bigDir, { recursive: true, force: true }));

/** 24 MiB of random data in three files, tar.gz: slow enough to cancel half-way. Made once. */
function bigArchive(): Promise<string> {
  big ??= (async () => {
    const file = join(bigDir, 'big.tar.gz');
    execFileSync('bash', ['-c', `cd ${bigDir} && mkdir t && for i in 1 2 3; do head -c 8388608 /dev/urandom > t/f$i; done && tar -czf ${file} t && rm -r t`]);
    return file;
  })();
  return big;
}

// The stream check runs through the worker pump for large archives and inline on the main
// thread for small ones: `inlineBelow` forces one or the other for every archive here.
const configs = ([
  { label: 'bsdtar (stream check, worker pump)', extractor: 'bsdtar', check: 'stream', inlineBelow: 0 },
  { label: 'bsdtar (stream check, inline)', extractor: 'bsdtar', check: 'stream', inlineBelow: Number.POSITIVE_INFINITY },
  { label: 'bsdtar (parallel check)', extractor: 'bsdtar', check: 'parallel', inlineBelow: 0 },
  { label: 'node-tar fallback', extractor: 'node-tar', inlineBelow: 0 },
] as const).filter((c) => c.extractor === 'node-tar' || hasBsdtar());

describe('detectArchive', () => {
  it('detects by content, not by name', async () => {
    const { d } = await treeArchive('x.bin', '-cJf');
    expect(await detectArchive(join(d, 'x.bin'))).toEqual({ kind: 'tar', compression: 'xz' });
    writeFileSync(join(d, 'notes.tar.gz'), 'just text');
    expect(await detectArchive(join(d, 'notes.tar.gz'))).toEqual({ kind: 'none' });
    writeFileSync(join(d, 'plain.gz'), gzipSync('hello'));
    expect(await detectArchive(join(d, 'plain.gz'))).toEqual({ kind: 'compressed', compression: 'gzip' });
  });

  it('sees a tar inside gzip also behind a gzip header longer than the first read (FNAME of 3000 bytes)', async () => {
    const d = await tempDir();
    const tar = buildTar([{ name: 'a.txt', data: 'a' }]);
    const plain = gzipSync(tar);
    // the same deflate data behind a header with FLG.FNAME set and a long zero-terminated name
    const header = Buffer.from([0x1f, 0x8b, 0x08, 0x08, 0, 0, 0, 0, 0, 0x03]);
    const named = Buffer.concat([header, Buffer.alloc(3000, 0x61), Buffer.from([0]), plain.subarray(10)]);
    writeFileSync(join(d, 'named.tar.gz'), named);
    expect(await detectArchive(join(d, 'named.tar.gz'))).toEqual({ kind: 'tar', compression: 'gzip' });
  });
});

describe.each(configs)('extractArchive with $label', ({ label: _label, inlineBelow, ...cfg }) => {
  const { extractor } = cfg;
  beforeAll(() => {
    pipelineTuning.inlineBelow = inlineBelow;
  });
  afterAll(() => {
    pipelineTuning.inlineBelow = DEFAULT_INLINE_BELOW;
  });
  let root: string;
  let archives: Record<string, string>;
  let d: string;
  afterAll(() => rmSync(d, { recursive: true, force: true }));
  beforeAll(async () => {
    d = mkdtempSync(join(tmpdir(), 'rbee-arch-'));
    root = await makeTree(join(d, 'tree'));
    archives = {
      tar: join(d, 'a.tar'),
      'tar.gz': join(d, 'a.tar.gz'),
      'tar.bz2': join(d, 'a.tar.bz2'),
      'tar.xz': join(d, 'a.tar.xz'),
      'tar.zst': join(d, 'a.tar.zst'),
      'misnamed.zip': join(d, 'misnamed.zip'),
    };
    execFileSync('tar', ['-cf', archives.tar as string, '-C', root, 'pkg-1.0']);
    execFileSync('tar', ['-czf', archives['tar.gz'] as string, '-C', root, 'pkg-1.0']);
    execFileSync('tar', ['-cjf', archives['tar.bz2'] as string, '-C', root, 'pkg-1.0']);
    execFileSync('tar', ['-cJf', archives['tar.xz'] as string, '-C', root, 'pkg-1.0']);
    execFileSync('tar', ['--zstd', '-cf', archives['tar.zst'] as string, '-C', root, 'pkg-1.0']);
    execFileSync('tar', ['-czf', archives['misnamed.zip'] as string, '-C', root, 'pkg-1.0']);
  });

  for (const kind of ['tar', 'tar.gz', 'tar.bz2', 'tar.xz', 'tar.zst', 'misnamed.zip']) {
    it(`extracts ${kind} keeping modes, symlink chains and absolute symlink targets`, async () => {
      const dest = await tempDir('rbee-src-');
      const r = await extractArchive({ file: archives[kind] as string, dest, ...cfg });
      expect(r.extracted).toBe(true);
      expect(r.extractor).toBe(extractor);
      expect(r.outputs).toEqual(['pkg-1.0']);
      expectTree(dest);
    });
  }

  it('decompresses a single .gz file next to it, and leaves a mismatching extension alone (as makepkg)', async () => {
    const d = await tempDir();
    writeFileSync(join(d, 'notes.txt.gz'), gzipSync('hello\n'));
    writeFileSync(join(d, 'notes.dat'), gzipSync('hello\n'));
    const dest = await tempDir();
    const r = await extractArchive({ file: join(d, 'notes.txt.gz'), dest, ...cfg });
    expect(r.outputs).toEqual(['notes.txt']);
    expect(readFileSync(join(dest, 'notes.txt'), 'utf8')).toBe('hello\n');
    const r2 = await extractArchive({ file: join(d, 'notes.dat'), dest, ...cfg });
    expect(r2.extracted).toBe(false);
  });

  const hostile: [string, TarMember[], string][] = [
    ['a ../ member', [{ name: 'ok.txt', data: 'ok' }, { name: '../escape.txt', data: 'pwned' }], '../escape.txt'],
    ['an absolute member', [{ name: 'ok.txt', data: 'ok' }, { name: '@OUT@/abs.txt', data: 'pwned' }], '@OUT@/abs.txt'],
    ['a write through a symlink', [{ name: 'lnk', type: '2', linkname: '@OUT@' }, { name: 'lnk/through.txt', data: 'pwned' }], 'lnk/through.txt'],
    ['a hard link out of the tree', [{ name: 'ok.txt', data: 'ok' }, { name: 'hl', type: '1', linkname: '../../../../../@OUTREL@/victim.txt' }], 'hl'],
    ['a hard link to an absolute path', [{ name: 'hl', type: '1', linkname: '@OUT@/victim.txt' }], 'hl'],
    ['a hard link through a symlink', [{ name: 's', type: '2', linkname: '@OUT@' }, { name: 'hl', type: '1', linkname: 's/victim.txt' }], 'hl'],
    ['a device node', [{ name: 'null', type: '3' }], 'null'],
    ['a FIFO', [{ name: 'fifo', type: '6' }], 'fifo'],
  ];
  for (const [what, members, bad] of hostile) {
    it(`E_UNSAFE_ARCHIVE_ENTRY for ${what}, and nothing is written anywhere`, async () => {
      const out = await tempDir('rbee-outside-');
      writeFileSync(join(out, 'victim.txt'), 'original');
      const sub = (s: string): string => s.replace('@OUT@', out).replace('@OUTREL@', out.slice(1));
      const d = await tempDir();
      const file = join(d, 'evil.tar.gz');
      writeFileSync(file, gzipSync(buildTar(members.map((m) => ({ ...m, name: sub(m.name), linkname: m.linkname && sub(m.linkname) })))));
      const dest = await tempDir('rbee-src-');
      writeFileSync(join(dest, 'existing'), 'kept');
      const e = await rejectionOf(extractArchive({ file, dest, ...cfg }));
      expect(FetchError.isInstance(e)).toBe(true);
      expect(e.code).toBe('E_UNSAFE_ARCHIVE_ENTRY');
      expect(e.entry).toBe(sub(bad));
      expect(readdirSync(dest)).toEqual(['existing']);
      expect(readdirSync(out).sort()).toEqual(['victim.txt']);
      expect(readFileSync(join(out, 'victim.txt'), 'utf8')).toBe('original');
      expect(existsSync(join(d, '..', 'escape.txt'))).toBe(false);
    });
  }

  it('E_EXTRACT_FAILED for a truncated tar.gz, leaving srcdir untouched', async () => {
    const full = readFileSync(archives['tar.gz'] as string);
    const d = await tempDir();
    const file = join(d, 'cut.tar.gz');
    writeFileSync(file, full.subarray(0, Math.floor(full.length / 2)));
    const dest = await tempDir();
    const e = await rejectionOf(extractArchive({ file, dest, ...cfg }));
    expect(e.code).toBe('E_EXTRACT_FAILED');
    expect(readdirSync(dest)).toEqual([]);
  });

  it('E_EXTRACT_FAILED for a tar whose second header is corrupt', async () => {
    const tar = buildTar([{ name: 'a.txt', data: 'a'.repeat(600) }, { name: 'b.txt', data: 'b' }]);
    tar.fill(0x41, 1536 + 100, 1536 + 160); // scribble over the mode/size/checksum fields of member 2
    const d = await tempDir();
    const file = join(d, 'bad.tar');
    writeFileSync(file, tar);
    const dest = await tempDir();
    const e = await rejectionOf(extractArchive({ file, dest, ...cfg }));
    expect(e.code).toBe('E_EXTRACT_FAILED');
    expect(readdirSync(dest)).toEqual([]);
  });

  it('E_ARCHIVE_TOO_LARGE past maxBytes', async () => {
    const dest = await tempDir();
    const e = await rejectionOf(extractArchive({ file: archives['tar.gz'] as string, dest, ...cfg, limits: { maxBytes: 10 } }));
    expect(e.code).toBe('E_ARCHIVE_TOO_LARGE');
    expect(readdirSync(dest)).toEqual([]);
  });

  it('E_ARCHIVE_TOO_LARGE past maxRatio (a decompression bomb)', async () => {
    const d = await tempDir();
    const file = join(d, 'bomb.tar.gz');
    writeFileSync(file, gzipSync(buildTar([{ name: 'zeros', data: Buffer.alloc(80 * 1024 * 1024) }]), { level: 1 }));
    const dest = await tempDir();
    const e = await rejectionOf(extractArchive({ file, dest, ...cfg, limits: { maxRatio: 100 } }));
    expect(e.code).toBe('E_ARCHIVE_TOO_LARGE');
    expect(readdirSync(dest)).toEqual([]);
  });

  it('rejects with an AbortError when cancelled mid-extraction, srcdir as it was', async () => {
    const file = await bigArchive();
    const dest = await tempDir();
    writeFileSync(join(dest, 'existing'), 'kept');
    const ctrl = new AbortController();
    const p = extractArchive({ file, dest, ...cfg, signal: ctrl.signal });
    setTimeout(() => ctrl.abort(), 20);
    const e = await rejectionOf(p);
    expect(e.name).toBe('AbortError');
    expect(readdirSync(dest)).toEqual(['existing']);
  });

  it('rejects with an AbortError when cancelled and leaves nothing behind', async () => {
    const dest = await tempDir();
    const ctrl = new AbortController();
    ctrl.abort();
    const e = await rejectionOf(extractArchive({ file: archives['tar.xz'] as string, dest, ...cfg, signal: ctrl.signal }));
    expect(e.name).toBe('AbortError');
    expect(readdirSync(dest)).toEqual([]);
  });
});

describe.skipIf(!hasBsdtar())('zip through bsdtar', () => {
  it('extracts a zip', async () => {
    const d = await tempDir();
    const file = join(d, 'a.zip');
    writeFileSync(file, buildZip([{ name: 'dir/hello.txt', data: 'hello zip\n' }]));
    const dest = await tempDir();
    const r = await extractArchive({ file, dest });
    expect(r.type.kind).toBe('zip');
    expect(readFileSync(join(dest, 'dir/hello.txt'), 'utf8')).toBe('hello zip\n');
  });

  it('E_UNSAFE_ARCHIVE_ENTRY for zip-slip names', async () => {
    const d = await tempDir();
    const file = join(d, 'slip.zip');
    writeFileSync(file, buildZip([{ name: 'fine.txt', data: 'ok' }, { name: '../../slip.txt', data: 'pwned' }]));
    const dest = await tempDir();
    const e = await rejectionOf(extractArchive({ file, dest }));
    expect(e.code).toBe('E_UNSAFE_ARCHIVE_ENTRY');
    expect(e.entry).toBe('../../slip.txt');
    expect(readdirSync(dest)).toEqual([]);
    expect(existsSync(join(dest, '../../slip.txt'))).toBe(false);
  });

  it('the node-tar fallback refuses zip with E_EXTRACT_FAILED (zip needs bsdtar)', async () => {
    const d = await tempDir();
    const file = join(d, 'a.zip');
    writeFileSync(file, buildZip([{ name: 'x', data: 'x' }]));
    const e = await rejectionOf(extractArchive({ file, dest: await tempDir(), extractor: 'node-tar' }));
    expect(e.code).toBe('E_EXTRACT_FAILED');
  });

  it('keeps long names (pax/GNU long-name headers) through the checked pipeline', async () => {
    const root = await tempDir();
    const long = `${'d'.repeat(120)}/${'f'.repeat(150)}.txt`;
    mkdirSync(join(root, 'd'.repeat(120)));
    writeFileSync(join(root, long), 'long\n');
    symlinkSync(`${'t'.repeat(130)}`, join(root, 'longlink'));
    const d = await tempDir();
    execFileSync('tar', ['--format=gnu', '-czf', join(d, 'gnu.tgz'), '-C', root, '.']);
    execFileSync('tar', ['--format=pax', '-cJf', join(d, 'pax.txz'), '-C', root, '.']);
    for (const f of ['gnu.tgz', 'pax.txz']) {
      const dest = await tempDir();
      await extractArchive({ file: join(d, f), dest });
      expect(readFileSync(join(dest, long), 'utf8')).toBe('long\n');
      expect(readlinkSync(join(dest, 'longlink'))).toBe('t'.repeat(130));
      expect(lstatSync(join(dest, 'longlink')).isSymbolicLink()).toBe(true);
    }
  });
});

/** A tar whose first header is also a gzip header (FEXTRA skips the rest of it) wrapping `inner`. */
function gzipPolyglot(inner: Buffer): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(inner), 0);
  trailer.writeUInt32LE(inner.length, 4);
  const body = Buffer.concat([deflateRawSync(inner), trailer]);
  const h = tarHeader({ name: 'x' }, body.length);
  Buffer.from([0x1f, 0x8b, 0x08, 0x04, 1, 1, 1, 1, 2, 3, 0xf4, 0x01]).copy(h, 0); // XLEN 500: up to the data
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return Buffer.concat([h, body, Buffer.alloc((512 - (body.length % 512)) % 512), Buffer.alloc(1024)]);
}

/**
 * Pipes of which this process holds one end only (`pipe:[inode]` once in /proc/self/fd): the
 * pump's ends are such, the other end being a bsdtar's. Pipes with both ends here (a worker
 * thread's own) come and go with the pool and are left out.
 */
function pipeFds(): Set<string> {
  const seen = new Map<string, number>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith('pipe:')) seen.set(target, (seen.get(target) ?? 0) + 1);
    } catch {
      // closed meanwhile (readdir's own descriptor)
    }
  }
  return new Set([...seen].filter(([, n]) => n === 1).map(([t]) => t));
}

/** Processes on the machine whose command line mentions `text`. */
function processesMentioning(text: string): string[] {
  return execFileSync('ps', ['-eo', 'args=']).toString().split('\n').filter((l) => l.includes(text) && !l.includes('ps -eo'));
}

/** One pax record ("<len> key=value\\n", the length counting itself). */
function paxRecord(k: string, v: string): string {
  const body = ` ${k}=${v}\n`;
  let n = body.length + 1;
  while (String(n).length + body.length !== n) n++;
  return `${n}${body}`;
}

function pad512(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
}

/** A GNU sparse 1.0 member (pax) named `name`: a hole, then 5 bytes at the end of `realsize`. */
function sparseTar(name: string, realsize: number): Buffer {
  const pax = Buffer.from(paxRecord('GNU.sparse.major', '1') + paxRecord('GNU.sparse.minor', '0') + paxRecord('GNU.sparse.name', name) + paxRecord('GNU.sparse.realsize', String(realsize)));
  const map = Buffer.alloc(512);
  map.write(`1\n${realsize - 5}\n5\n`);
  const data = Buffer.concat([map, Buffer.from('hello')]);
  return Buffer.concat([tarHeader({ name: 'PaxHeader/x', type: 'x' as TarMember['type'] }, pax.length), pad512(pax), tarHeader({ name: 'GNUSparseFile.0/x' }, data.length), pad512(data), Buffer.alloc(1024)]);
}

const pumpLimits = { maxBytes: 1e12, maxRatio: 1e9, maxEntries: 1e6, ratioFloor: 0 };

describe.skipIf(!hasBsdtar())('the checked pipeline (worker pump between two supervised bsdtars)', () => {
  beforeAll(() => {
    pipelineTuning.inlineBelow = 0;
  });
  afterAll(() => {
    pipelineTuning.inlineBelow = DEFAULT_INLINE_BELOW;
  });
  it('puts a pax header in front, so bsdtar reads exactly the checked tar and never guesses a compression filter', async () => {
    const d = await tempDir();
    const raw = join(d, 'poly.tar');
    writeFileSync(raw, gzipPolyglot(buildTar([{ name: 'evil.txt', data: 'unchecked' }])));
    // The hazard: fed the raw bytes, bsdtar un-gzips them and extracts a member nobody checked.
    const naive = await tempDir();
    execFileSync('bsdtar', ['-xf', '-', '-C', naive], { input: readFileSync(raw) });
    expect(readdirSync(naive)).toEqual(['evil.txt']);
    // Through the pump, the walker sees one member ('\x1f\x8b…') and bsdtar extracts that one.
    const out = join(d, 'checked.tar');
    const seen: string[] = [];
    const inFd = openSync(raw, 'r');
    const outFd = openSync(out, 'w');
    try {
      const r = pumpTar({ inFd, outFd, label: 'poly.tar', archiveSize: statSync(raw).size, limits: pumpLimits }, { readSync, writeSync });
      expect(r.entries).toBe(1);
    } finally {
      closeSync(inFd);
      closeSync(outFd);
    }
    execFileSync('bsdtar', ['-tf', out]).toString().split('\n').filter(Boolean).forEach((n) => seen.push(n));
    expect(seen).toHaveLength(1);
    expect(seen).not.toContain('evil.txt');
    const dest = await tempDir();
    execFileSync('bsdtar', ['-xf', out, '-C', dest]);
    expect(readdirSync(dest)).toHaveLength(1);
    expect(existsSync(join(dest, 'evil.txt'))).toBe(false);
  });

  it('checks a sparse member by the name bsdtar uses (GNU.sparse.name), and counts its real size', async () => {
    const out = await tempDir('rbee-outside-');
    const d = await tempDir();
    const evil = join(d, 'evil.tar');
    writeFileSync(evil, sparseTar(join(out, 'victim.txt'), 1024 * 1024));
    const dest = await tempDir();
    const e = await rejectionOf(extractArchive({ file: evil, dest }));
    expect(e.code).toBe('E_UNSAFE_ARCHIVE_ENTRY');
    expect(e.entry).toBe(join(out, 'victim.txt'));
    expect(readdirSync(out)).toEqual([]);
    expect(readdirSync(dest)).toEqual([]);
    const bomb = join(d, 'bomb.tar');
    writeFileSync(bomb, sparseTar('holes', 2 ** 40));
    expect((await rejectionOf(extractArchive({ file: bomb, dest }))).code).toBe('E_ARCHIVE_TOO_LARGE');
    const fine = join(d, 'fine.tar');
    writeFileSync(fine, sparseTar('dir/fine', 1024 * 1024));
    const r = await extractArchive({ file: fine, dest });
    expect(r.outputs).toEqual(['dir']);
    expect(r.bytes).toBe(1024 * 1024);
    const content = readFileSync(join(dest, 'dir/fine'));
    expect(content.length).toBe(1024 * 1024);
    expect(content.subarray(-5).toString()).toBe('hello');
  });

  it('refuses a pax header larger than 1 MiB (libarchive\'s own bound) instead of buffering it', async () => {
    const d = await tempDir();
    const meta = Buffer.alloc(2 * 1024 * 1024, 0x61);
    const raw = join(d, 'bigpax.tar');
    writeFileSync(raw, Buffer.concat([tarHeader({ name: 'PaxHeader/x', type: 'x' as TarMember['type'] }, meta.length), meta, buildTar([{ name: 'x', data: 'x' }])]));
    const inFd = openSync(raw, 'r');
    try {
      expect(() => pumpTar({ inFd, outFd: -1, label: 'bigpax.tar', archiveSize: 1, limits: pumpLimits }, { readSync, writeSync })).toThrow(TarFormatError);
    } finally {
      closeSync(inFd);
    }
  });

  it('stops a bomb at its header: nothing of it reaches the extractor (E_ARCHIVE_TOO_LARGE, srcdir untouched)', async () => {
    const d = await tempDir();
    const file = join(d, 'bomb.tar.zst');
    // 200 MiB of zeros in one member, zstd-compressed to a few KiB; maxBytes well below it.
    execFileSync('bash', ['-c', `cd ${d} && head -c ${200 * 1024 * 1024} /dev/zero > zeros && tar --zstd -cf ${file} zeros && rm zeros`]);
    const dest = await tempDir();
    const e = await rejectionOf(extractArchive({ file, dest, limits: { maxBytes: 100 * 1024 * 1024 } }));
    expect(e.code).toBe('E_ARCHIVE_TOO_LARGE');
    expect(e.expected).toBe(100 * 1024 * 1024);
    expect(readdirSync(dest)).toEqual([]);
  });

  it('cancels mid-extraction: AbortError, srcdir as it was, no descriptor or process left', async () => {
    const file = await bigArchive();
    // an extraction first, so the pooled worker thread (and its own descriptors) exists already
    await extractArchive({ file: (await treeArchive('small.tar', '-cf')).file, dest: await tempDir() });
    const pipesBefore = pipeFds();
    const dest = await tempDir();
    writeFileSync(join(dest, 'existing'), 'kept');
    const ctrl = new AbortController();
    const p = extractArchive({ file, dest, signal: ctrl.signal });
    setTimeout(() => ctrl.abort(), 30);
    const e = await rejectionOf(p);
    expect(e.name).toBe('AbortError');
    expect(readdirSync(dest)).toEqual(['existing']);
    expect(pipeFds()).toEqual(pipesBefore);
    expect(processesMentioning(file)).toEqual([]);
    // and the next extraction (same pooled worker) works
    const r = await extractArchive({ file, dest });
    expect(r.entries).toBe(4);
  });

  it('runs several extractions at once, and leaks no descriptor on success, refusal or corruption', async () => {
    const { d, file: good } = await treeArchive('a.tar.xz', '-cJf');
    const evil = writeDotdotTar(join(d, 'evil.tar'));
    const cut = join(d, 'cut.tar.xz');
    writeFileSync(cut, readFileSync(good).subarray(0, 300));
    // a first round grows the worker pool (each worker thread has descriptors of its own)
    await Promise.all([1, 2, 3, 4].map(async () => extractArchive({ file: good, dest: await tempDir() })));
    const pipesBefore = pipeFds();
    const dests = await Promise.all([1, 2, 3, 4].map(() => tempDir()));
    await Promise.all(dests.map((dest) => extractArchive({ file: good, dest })));
    for (const dest of dests) expectTree(dest);
    expect((await rejectionOf(extractArchive({ file: evil, dest: await tempDir() }))).code).toBe('E_UNSAFE_ARCHIVE_ENTRY');
    expect((await rejectionOf(extractArchive({ file: cut, dest: await tempDir() }))).code).toBe('E_EXTRACT_FAILED');
    expect(pipeFds()).toEqual(pipesBefore);
  });
});

/** A pipe's capacity: F_GETPIPE_SZ (1032) through perl, on a descriptor it inherits as stdin. */
function pipeSize(fd: number): string {
  return spawnSync('perl', ['-e', 'print fcntl(STDIN, 1032, 0)'], { stdio: [fd, 'pipe', 'inherit'] }).stdout.toString();
}

describe.skipIf(process.platform !== 'linux' || !hasBsdtar() || spawnSync('perl', ['-e', '1']).status !== 0)('the supervised pipeline', () => {
  it('opens 1 MiB pipes (F_SETPIPE_SZ), reports each bsdtar\'s exit and stderr apart, and leaves nothing running', async () => {
    const { d, file: good } = await treeArchive('a.tar.gz', '-czf');
    const stage = join(d, 'stage');
    mkdirSync(stage);
    const pl = await startBsdtarPipeline(good, stage, true);
    try {
      expect(pipeSize(pl.pumpIn)).toBe(String(1024 * 1024));
      expect(pipeSize(pl.pumpOut)).toBe(String(1024 * 1024));
      // copy the lister's stream straight to the extractor (no check: this is the plumbing alone)
      const buf = Buffer.alloc(65536);
      for (let n = readSync(pl.pumpIn, buf); n > 0; n = readSync(pl.pumpIn, buf)) writeSync(pl.pumpOut, buf, 0, n);
    } finally {
      closeFd(pl.pumpIn);
      closeFd(pl.pumpOut);
    }
    const ended = await pl.ended;
    expect(ended.lister.code).toBe(0);
    expect(ended.extractor.code).toBe(0);
    expectTree(stage);
    // a missing archive: the lister fails with its own message, the extractor sees an empty stream
    const missing = join(d, 'missing.tar');
    const bad = await startBsdtarPipeline(missing, stage, false);
    closeFd(bad.pumpIn);
    const badEnd = await bad.ended;
    expect(badEnd.lister.code).not.toBe(0);
    expect(badEnd.lister.stderr).toContain('missing.tar');
    expect(badEnd.extractor.code).not.toBe(0);
    expect(badEnd.extractor.stderr).toContain('missing.tar');
    expect(processesMentioning(d)).toEqual([]);
  });

  it('kill() stops the supervisor and both bsdtars at once', async () => {
    const file = await bigArchive();
    const stage = await tempDir();
    const pl = await startBsdtarPipeline(file, stage, true);
    pl.kill();
    const ended = await pl.ended;
    closeFd(pl.pumpIn);
    closeFd(pl.pumpOut);
    expect(ended.lister.code).toBeNull();
    expect(processesMentioning(file)).toEqual([]);
  });
});

describe.skipIf(!hasBsdtar())('extracting with an earlier scan', () => {
  it('skips the checking pass but keeps bsdtar\'s secure defaults and the caps', async () => {
    const { d, file: good } = await treeArchive('a.tar.gz', '-czf');
    const first = await extractArchive({ file: good, dest: await tempDir() });
    expect(first.scan).toEqual({ version: SCAN_VERSION, entries: first.entries, bytes: first.bytes });
    const dest = await tempDir();
    const again = await extractArchive({ file: good, dest, scanned: first.scan });
    expectTree(dest);
    expect(again.scan).toEqual(first.scan);
    // caps apply to the recorded totals: refused before anything is written
    const capped = await tempDir();
    const e = await rejectionOf(extractArchive({ file: good, dest: capped, scanned: first.scan, limits: { maxEntries: first.entries - 1 } }));
    expect(e.code).toBe('E_ARCHIVE_TOO_LARGE');
    expect(readdirSync(capped)).toEqual([]);
    // a scan is trusted as said: handed one for a hostile archive, no check of ours refuses it,
    // but bsdtar (not -P) still refuses the '..' member and the staged rest is discarded
    const evil = writeDotdotTar(join(d, 'evil.tar'));
    const inner = join(await tempDir(), 'in');
    mkdirSync(inner);
    const trusted = await rejectionOf(extractArchive({ file: evil, dest: inner, scanned: { version: SCAN_VERSION, entries: 2, bytes: 3 } }));
    expect(trusted.code).toBe('E_EXTRACT_FAILED');
    expect(readdirSync(join(inner, '..'))).toEqual(['in']);
    expect(readdirSync(inner)).toEqual([]);
    // a scan made by other checks is ignored: the archive is checked again
    const old = await rejectionOf(extractArchive({ file: evil, dest: inner, scanned: { version: SCAN_VERSION + 1, entries: 2, bytes: 3 } }));
    expect(old.code).toBe('E_UNSAFE_ARCHIVE_ENTRY');
  });
});

describe.skipIf(!hasBsdtar())('without the supervisor', () => {
  let savedPath: string | undefined;
  beforeAll(() => {
    pipelineTuning.inlineBelow = 0;
    savedPath = process.env.PATH;
  });
  afterAll(() => {
    pipelineTuning.inlineBelow = DEFAULT_INLINE_BELOW;
    process.env.PATH = savedPath;
  });

  it('falls back to the inline check when perl cannot run, with the same refusals', async () => {
    // A PATH with bsdtar but no perl.
    const bin = await tempDir();
    symlinkSync(execFileSync('bash', ['-c', 'command -v bsdtar']).toString().trim(), join(bin, 'bsdtar'));
    const { d, file: good } = await treeArchive('a.tar.gz', '-czf');
    const evil = writeDotdotTar(join(d, 'evil.tar'));
    process.env.PATH = bin;
    try {
      const dest = await tempDir();
      const r = await extractArchive({ file: good, dest });
      expect(r.extractor).toBe('bsdtar');
      expectTree(dest);
      const dest2 = await tempDir();
      const e = await rejectionOf(extractArchive({ file: evil, dest: dest2 }));
      expect(e.code).toBe('E_UNSAFE_ARCHIVE_ENTRY');
      expect(readdirSync(dest2)).toEqual([]);
    } finally {
      process.env.PATH = savedPath;
    }
  });
});
