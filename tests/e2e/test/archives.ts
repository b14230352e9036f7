/**
 * Hand-written hostile archives (ustar and zip), so each attack entry is exactly what the test
 * says — no archiver in between that would normalise it away.
 */
import { gzipSync } from 'node:zlib';
import { crc32 } from 'node:zlib';

export interface TarEntry {
  name: string;
  /** '0' file, '1' hardlink, '2' symlink, '3' char device, '5' directory, '6' FIFO. */
  type?: '0' | '1' | '2' | '3' | '5' | '6';
  data?: string | Buffer;
  linkname?: string;
  mode?: number;
}

function field(buf: Buffer, offset: number, width: number, value: string): void {
  buf.write(value.slice(0, width), offset, 'utf8');
}
function octal(buf: Buffer, offset: number, width: number, n: number): void {
  field(buf, offset, width, `${n.toString(8).padStart(width - 1, '0')}\0`);
}

/** An uncompressed ustar archive of `entries` (names may be anything: `../x`, `/abs`, …). */
export function tar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
    const type = e.type ?? '0';
    const h = Buffer.alloc(512);
    field(h, 0, 100, e.name);
    octal(h, 100, 8, e.mode ?? (type === '5' ? 0o755 : 0o644));
    octal(h, 108, 8, 0);
    octal(h, 116, 8, 0);
    octal(h, 124, 12, type === '0' ? data.length : 0);
    octal(h, 136, 12, 1767225600);
    h.fill(' ', 148, 156);
    field(h, 156, 1, type);
    field(h, 157, 100, e.linkname ?? '');
    field(h, 257, 6, 'ustar\0');
    field(h, 263, 2, '00');
    field(h, 265, 32, 'root');
    field(h, 297, 32, 'root');
    if (type === '3') {
      octal(h, 329, 8, 1); // /dev/mem-like major 1
      octal(h, 337, 8, 1);
    }
    let sum = 0;
    for (const b of h) sum += b;
    field(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    parts.push(h);
    if (type === '0' && data.length) {
      parts.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export const tarGz = (entries: TarEntry[]): Buffer => gzipSync(tar(entries));

/** A stored (uncompressed) zip whose member names are taken as given (zip-slip). */
export function zip(files: { name: string; data: string | Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name);
    const data = Buffer.from(f.data);
    const crc = crc32(data) >>> 0;
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(data.length, 18);
    lh.writeUInt32LE(data.length, 22);
    lh.writeUInt16LE(name.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(data.length, 20);
    ch.writeUInt32LE(data.length, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(offset, 42);
    locals.push(lh, name, data);
    centrals.push(ch, name);
    offset += lh.length + name.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
