/**
 * A streaming walker over a plain (uncompressed) tar stream that reads only the headers — ustar,
 * GNU long names (`L`/`K`) and pax extended headers (`x`) — and skips member data by counting.
 * Used to check every member before its bytes are passed on to the extractor.
 */

/** One member as the walker saw it. */
export interface TarHeaderInfo {
  /** Type flag as node-tar names it (`File`, `Directory`, `SymbolicLink`, `Link`, …). */
  type: string;
  path: string;
  linkpath?: string;
  size: number;
}

const TYPES: Record<string, string> = {
  '0': 'File',
  '\0': 'OldFile',
  '7': 'ContiguousFile',
  '1': 'Link',
  '2': 'SymbolicLink',
  '3': 'CharacterDevice',
  '4': 'BlockDevice',
  '5': 'Directory',
  '6': 'FIFO',
  D: 'GNUDumpDir',
};

function cstr(b: Buffer, start: number, len: number): string {
  const end = b.indexOf(0, start);
  return b.toString('utf8', start, end === -1 || end > start + len ? start + len : end);
}

function num(b: Buffer, start: number, len: number): number {
  if ((b[start] as number) & 0x80) {
    // base-256 (GNU) for large values
    let v = 0;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + (b[i] as number);
    return v;
  }
  const s = cstr(b, start, len).trim();
  return s === '' ? 0 : Number.parseInt(s, 8);
}

function validChecksum(h: Buffer): boolean {
  const stored = num(h, 148, 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] as number);
  return sum === stored;
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    if (sp === -1) break;
    const len = Number.parseInt(data.toString('latin1', pos, sp), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = data.toString('utf8', sp + 1, pos + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    pos += len;
  }
  return out;
}

/** Thrown when the stream is not a well-formed tar. */
export class TarFormatError extends Error {}

/**
 * Feeds chunks through; `onMember` is called for each real member (after its meta headers) and
 * may throw to stop. `forward` receives every byte of the stream, in order, but the bytes of a
 * member (its meta headers, header and data) only after `onMember` accepted it.
 */
export class TarHeaderWalker {
  private head = Buffer.alloc(512);
  private headFill = 0;
  /** Bytes of data (padded) still to pass through for the current member. */
  private skip = 0;
  /** Meta entry data being collected (pax `x`, GNU `L`/`K`). */
  private meta: { kind: string; need: number; pad: number; parts: Buffer[]; got: number } | undefined;
  private pending: Buffer[] = [];
  private pax: Record<string, string> = {};
  private longName: string | undefined;
  private longLink: string | undefined;
  private ended = false;
  members = 0;

  constructor(
    private readonly onMember: (m: TarHeaderInfo) => void,
    private readonly forward: (b: Buffer) => void,
  ) {}

  /** Processes one chunk. */
  write(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.ended) {
        this.forward(chunk.subarray(pos));
        return;
      }
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - pos);
        this.forward(chunk.subarray(pos, pos + n));
        this.skip -= n;
        pos += n;
        continue;
      }
      if (this.meta) {
        const m = this.meta;
        const n = Math.min(m.need + m.pad - m.got, chunk.length - pos);
        const piece = chunk.subarray(pos, pos + n);
        this.pending.push(Buffer.from(piece));
        if (m.got < m.need) m.parts.push(piece.subarray(0, Math.min(piece.length, m.need - m.got)));
        m.got += n;
        pos += n;
        if (m.got === m.need + m.pad) this.finishMeta();
        continue;
      }
      const n = Math.min(512 - this.headFill, chunk.length - pos);
      chunk.copy(this.head, this.headFill, pos, pos + n);
      this.headFill += n;
      pos += n;
      if (this.headFill === 512) {
        this.headFill = 0;
        this.header(Buffer.from(this.head));
      }
    }
  }

  /** Call at the end of input; throws if the stream stopped inside a member. */
  end(): void {
    if (this.ended) return;
    if (this.skip > 0 || this.meta || this.headFill > 0 || this.pending.length > 0) throw new TarFormatError('truncated tar stream');
    if (this.members === 0) throw new TarFormatError('no tar members');
  }

  private finishMeta(): void {
    const m = this.meta as NonNullable<TarHeaderWalker['meta']>;
    this.meta = undefined;
    const data = Buffer.concat(m.parts);
    if (m.kind === 'x') Object.assign(this.pax, parsePax(data));
    else if (m.kind === 'L') this.longName = cstr(data, 0, data.length);
    else if (m.kind === 'K') this.longLink = cstr(data, 0, data.length);
    // 'g' (global pax): collected and passed through; bsdtar's writer does not emit path/linkpath there.
  }

  private header(h: Buffer): void {
    if (h.every((b) => b === 0)) {
      // End-of-archive marker: pass the rest through untouched.
      if (this.pending.length > 0) throw new TarFormatError('meta header without a member');
      this.ended = true;
      this.forward(h);
      return;
    }
    if (!validChecksum(h)) throw new TarFormatError('bad tar header checksum');
    const flag = String.fromCharCode(h[156] as number);
    const size = num(h, 124, 12);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      this.pending.push(h);
      this.meta = { kind: flag, need: size, pad: (512 - (size % 512)) % 512, parts: [], got: 0 };
      if (size === 0) this.finishMeta();
      return;
    }
    const ustar = h.toString('latin1', 257, 262) === 'ustar';
    const prefix = ustar ? cstr(h, 345, 155) : '';
    let path = this.pax.path ?? this.longName ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100));
    const linkpath = this.pax.linkpath ?? this.longLink ?? cstr(h, 157, 100);
    const realSize = this.pax.size !== undefined ? Number(this.pax.size) : size;
    const type = TYPES[flag] ?? `Unknown(${flag})`;
    if (type === 'Directory' && path.endsWith('/')) path = path.replace(/\/+$/, '');
    const info: TarHeaderInfo = { type, path, size: type === 'File' || type === 'OldFile' || type === 'ContiguousFile' ? realSize : 0 };
    if (linkpath) info.linkpath = linkpath;
    this.onMember(info);
    this.members++;
    for (const p of this.pending) this.forward(p);
    this.pending = [];
    this.forward(h);
    this.pax = {};
    this.longName = undefined;
    this.longLink = undefined;
    // Data follows for every type whose header carries a size (hard links and dirs carry 0 in practice).
    const dataSize = flag === '1' || flag === '2' || flag === '3' || flag === '4' || flag === '5' || flag === '6' ? 0 : realSize;
    this.skip = dataSize + ((512 - (dataSize % 512)) % 512);
  }
}
