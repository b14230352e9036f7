/**
 * Archive and compression detection by content (magic bytes), as makepkg intends with `file -bizL`
 * but without depending on how libmagic was built.
 */
import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { constants as zlibConstants, createGunzip, createZstdDecompress, gunzipSync } from 'node:zlib';
import type { Readable } from 'node:stream';

/** A compression wrapper recognised by its magic bytes. */
export type Compression = 'gzip' | 'bzip2' | 'xz' | 'zstd';

/** What a file is, by content. */
export interface DetectedType {
  /** `tar` (possibly compressed), `zip`, `cpio`, `compressed` (a single compressed file), or `none`. */
  kind: 'tar' | 'zip' | 'cpio' | 'compressed' | 'none';
  /** The compression around the tar/cpio stream or the single file. */
  compression?: Compression;
}

function compressionOf(b: Buffer): Compression | undefined {
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 3 && b[0] === 0x42 && b[1] === 0x5a && b[2] === 0x68) return 'bzip2';
  if (b.length >= 6 && b[0] === 0xfd && b.subarray(1, 6).toString('latin1') === '7zXZ\0') return 'xz';
  if (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return undefined;
}

/** True when `b` starts with a tar header (ustar/gnu magic, or a v7 header whose checksum holds). */
export function isTarHeader(b: Buffer): boolean {
  if (b.length < 512) return false;
  const magic = b.subarray(257, 262).toString('latin1');
  if (magic === 'ustar') return true;
  const field = b.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (b[i] as number);
  return sum === Number.parseInt(field, 8) && b[0] !== 0;
}

function isCpio(b: Buffer): boolean {
  const s = b.subarray(0, 6).toString('latin1');
  return s === '070701' || s === '070702' || s === '070707';
}

function isZip(b: Buffer): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && ((b[2] === 3 && b[3] === 4) || (b[2] === 5 && b[3] === 6) || (b[2] === 7 && b[3] === 8));
}

/** A decompressing stream over `path` (zlib for gzip/zstd, `bzip2 -dc`/`xz -dc` otherwise). */
export function decompressStream(path: string, compression: Compression, input: Readable, onChild?: (kill: () => void) => void): Readable {
  if (compression === 'gzip') return input.pipe(createGunzip());
  if (compression === 'zstd') return input.pipe(createZstdDecompress());
  const tool = compression === 'xz' ? 'xz' : 'bzip2';
  const child = spawn(tool, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  input.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const out = child.stdout;
  child.on('error', (e) => out.destroy(e));
  child.on('close', (code) => {
    if (code !== 0 && code !== null) out.destroy(new Error(`${tool} -dc failed for ${path} (exit ${code}): ${stderr.trim()}`));
  });
  onChild?.(() => child.kill('SIGKILL'));
  return out;
}

async function firstDecompressed(path: string, compression: Compression): Promise<Buffer> {
  const { createReadStream } = await import('node:fs');
  const input = createReadStream(path, { start: 0, end: 1024 * 1024 - 1 });
  let kill: (() => void) | undefined;
  const out = decompressStream(path, compression, input, (k) => {
    kill = k;
  });
  const chunks: Buffer[] = [];
  let have = 0;
  try {
    await new Promise<void>((resolve) => {
      out.on('data', (d: Buffer) => {
        chunks.push(d);
        have += d.length;
        if (have >= 512) resolve();
      });
      out.on('end', () => resolve());
      out.on('error', () => resolve());
      out.on('close', () => resolve());
    });
  } finally {
    out.destroy();
    input.destroy();
    kill?.();
  }
  return Buffer.concat(chunks);
}

/** Bytes read to sniff a file: a header block, and enough gzip input for the first 512 bytes out. */
const GZIP_PEEK = 2048;

/**
 * The first bytes inside a gzip file from its first {@link GZIP_PEEK} bytes, synchronously (no
 * stream machinery: the stream path costs tens of milliseconds on first use in a process), or
 * undefined when they do not give 512 bytes (a long file name in the gzip header, say). 2 KiB of
 * deflate input expands to at most ~2 MiB.
 */
function gunzipHead(head: Buffer): Buffer | undefined {
  try {
    const out = gunzipSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    return out.length >= 512 ? out : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sniffs `path`: tar, tar inside gzip/bzip2/xz/zstd, zip, cpio, a single compressed file, or none.
 *
 * @example
 * ```ts
 * await detectArchive('foo.tar.zst') // { kind: 'tar', compression: 'zstd' }
 * ```
 */
export async function detectArchive(path: string): Promise<DetectedType> {
  const fh = await open(path, 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(GZIP_PEEK);
    const { bytesRead } = await fh.read(buf, 0, GZIP_PEEK, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  if (isZip(head)) return { kind: 'zip' };
  if (isTarHeader(head)) return { kind: 'tar' };
  if (isCpio(head)) return { kind: 'cpio' };
  const compression = compressionOf(head);
  if (!compression) return { kind: 'none' };
  const inner = (compression === 'gzip' ? gunzipHead(head) : undefined) ?? (await firstDecompressed(path, compression));
  if (isTarHeader(inner)) return { kind: 'tar', compression };
  if (isCpio(inner)) return { kind: 'cpio', compression };
  return { kind: 'compressed', compression };
}
