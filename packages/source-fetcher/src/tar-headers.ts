/**
 * Everything that checks a plain (uncompressed) tar stream before its bytes reach the extractor:
 * a streaming walker that reads only the headers — ustar, GNU long names (`L`/`K`) and pax
 * extended headers (`x`) — and skips member data by counting; the per-member safety and size
 * checks; and the pump that the extraction worker runs (read the lister's stream, check each
 * member, pass accepted bytes on to `bsdtar -xf -`).
 *
 * All of it lives in ONE self-contained function, {@link tarCheckRuntime}, so the worker runs the
 * very same code: its source is that function's text (see `extract-pump.ts`), not a second copy.
 * The function must therefore not refer to anything outside itself (imports, module constants).
 */
/* oxlint-disable unicorn/consistent-function-scoping -- tarCheckRuntime's helpers stay inside it: its text is the worker's source */

/** One member as the walker saw it. */
export interface TarHeaderInfo {
  /** Type flag as node-tar names it (`File`, `Directory`, `SymbolicLink`, `Link`, …). */
  type: string;
  path: string;
  linkpath?: string;
  size: number;
}

/** The caps a {@link MemberChecker} enforces (see `ExtractLimits`). */
export interface CheckLimits {
  maxBytes: number;
  maxRatio: number;
  maxEntries: number;
  /** Expanded size below which `maxRatio` is not enforced. */
  ratioFloor: number;
}

/** Why a member (or the stream) was refused; turned into a `FetchError` by the caller. */
export interface Refusal {
  code: 'E_UNSAFE_ARCHIVE_ENTRY' | 'E_ARCHIVE_TOO_LARGE' | 'E_EXTRACT_FAILED';
  message: string;
  entry?: string;
  expected?: number;
  actual?: number;
}

/** One extraction job for the pump (file descriptors are the process's, shared with the worker). */
export interface PumpJob {
  /** Blocking read end of the lister's stream. */
  inFd: number;
  /** Blocking write end of the extractor's stdin, or -1 to check only (`check: 'parallel'`). */
  outFd: number;
  /** File name used in messages. */
  label: string;
  archiveSize: number;
  limits: CheckLimits;
}

/** The synchronous I/O the pump needs (node:fs's, in the worker). */
export interface PumpIo {
  readSync(fd: number, buffer: Buffer, offset: number, length: number, position: null): number;
  writeSync(fd: number, buffer: Buffer, offset: number, length: number): number;
}

/** What the pump reports when the whole stream was checked (and passed on). */
export interface PumpResult {
  entries: number;
  bytes: number;
}

/** The streaming header walker's public face (see `tarCheckRuntime`). */
export interface TarHeaderWalkerApi {
  /** True once the end-of-archive marker went through. */
  ended: boolean;
  /** Members seen so far. */
  members: number;
  /** Processes one chunk. */
  write(chunk: Buffer): void;
  /** Call at the end of input; throws if the stream stopped inside a member or before the end marker. */
  end(): void;
}

/** The per-member checker's public face. */
export interface MemberCheckerApi {
  entries: number;
  bytes: number;
  /** Throws a refusal when the member may not be extracted. */
  check(m: TarHeaderInfo): void;
}

/** What {@link tarCheckRuntime} builds. */
export interface TarCheckRuntime {
  TarFormatError: new (message?: string) => Error;
  TarRefusal: new (refusal: Refusal) => Error & { readonly refusal: Refusal };
  TarHeaderWalker: new (onMember: (m: TarHeaderInfo) => void, forward: (b: Buffer) => void) => TarHeaderWalkerApi;
  MemberChecker: new (label: string, archiveSize: number, limits: CheckLimits) => MemberCheckerApi;
  limitRefusal(label: string, archiveSize: number, limits: CheckLimits, entries: number, bytes: number): Refusal | undefined;
  pump(job: PumpJob, io: PumpIo): PumpResult;
  prefixHeader(): Buffer;
}

/**
 * Builds the walker, the checker and the pump. Self-contained (see the module comment).
 *
 * @example
 * ```ts
 * const { TarHeaderWalker } = tarCheckRuntime()
 * ```
 */
export function tarCheckRuntime(): TarCheckRuntime {
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
  const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
  /** libarchive refuses pax/GNU meta headers above 1 MiB ("Special header too large"). */
  const MAX_META = 1024 * 1024;

  function cstr(b: Buffer, start: number, len: number): string {
    const end = b.indexOf(0, start);
    return b.toString('utf8', start, end === -1 || end > start + len ? start + len : end);
  }

  function num(b: Buffer, start: number, len: number): number {
    if ((b[start] as number) & 0x80) {
      // base-256 (GNU) for large values; a negative one is refused rather than misread.
      if ((b[start] as number) & 0x40) throw new TarFormatError('negative base-256 number in a tar header');
      let v = (b[start] as number) & 0x3f;
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
  class TarFormatError extends Error {}

  /** Thrown when a member is refused; carries the {@link Refusal}. */
  class TarRefusal extends Error {
    readonly refusal: Refusal;
    constructor(refusal: Refusal) {
      super(refusal.message);
      this.refusal = refusal;
    }
  }

  /**
   * Feeds chunks through; `onMember` is called for each real member (after its meta headers) and
   * may throw to stop. `forward` receives every byte of the stream up to and including the
   * end-of-archive marker, in order, but the bytes of a member (its meta headers, header and
   * data) only after `onMember` accepted it. Nothing after the end marker is forwarded. Pieces
   * passed to `forward` may be views of the chunk given to `write`: use them before the next call.
   */
  class TarHeaderWalker {
    private readonly onMember: (m: TarHeaderInfo) => void;
    private readonly forward: (b: Buffer) => void;
    private head = Buffer.alloc(512);
    private headFill = 0;
    /** Bytes of data (padded) still to pass through for the current member. */
    private skip = 0;
    /** Meta entry data being collected (pax `x`, GNU `L`/`K`). */
    private meta: { kind: string; need: number; pad: number; parts: Buffer[]; got: number } | undefined;
    private pending: Buffer[] = [];
    private pendingBytes = 0;
    private pax: Record<string, string> = {};
    private longName: string | undefined;
    private longLink: string | undefined;
    /** True once the end-of-archive marker went through. */
    ended = false;
    members = 0;

    constructor(onMember: (m: TarHeaderInfo) => void, forward: (b: Buffer) => void) {
      this.onMember = onMember;
      this.forward = forward;
    }

    /** Processes one chunk. */
    write(chunk: Buffer): void {
      let pos = 0;
      while (pos < chunk.length && !this.ended) {
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
          const piece = Buffer.from(chunk.subarray(pos, pos + n));
          this.pending.push(piece);
          this.pendingBytes += n;
          if (m.got < m.need) m.parts.push(piece.subarray(0, Math.min(piece.length, m.need - m.got)));
          m.got += n;
          pos += n;
          if (m.got === m.need + m.pad) this.finishMeta();
          continue;
        }
        if (this.headFill === 0 && chunk.length - pos >= 512) {
          // The whole header is in this chunk: check it in place, so the forwarded pieces stay
          // contiguous views of the chunk (one write for many small members).
          const h = chunk.subarray(pos, pos + 512);
          pos += 512;
          this.header(h);
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

    /** Call at the end of input; throws if the stream stopped inside a member or before the end marker. */
    end(): void {
      if (this.ended) return;
      if (this.skip > 0 || this.meta || this.headFill > 0 || this.pending.length > 0) throw new TarFormatError('truncated tar stream');
      if (this.members === 0) throw new TarFormatError('no tar members');
      throw new TarFormatError('truncated tar stream (no end-of-archive marker)');
    }

    private finishMeta(): void {
      const m = this.meta as NonNullable<TarHeaderWalker['meta']>;
      this.meta = undefined;
      const data = Buffer.concat(m.parts);
      if (m.kind === 'x' || m.kind === 'X') Object.assign(this.pax, parsePax(data));
      else if (m.kind === 'L') this.longName = cstr(data, 0, data.length);
      else if (m.kind === 'K') this.longLink = cstr(data, 0, data.length);
      // 'g' (global pax): passed through; libarchive does not apply path/linkpath from it.
    }

    private header(h: Buffer): void {
      if (h.every((b) => b === 0)) {
        // End-of-archive marker: libarchive stops reading here, and so do we.
        if (this.pending.length > 0) throw new TarFormatError('meta header without a member');
        this.ended = true;
        this.forward(Buffer.alloc(1024));
        return;
      }
      if (!validChecksum(h)) throw new TarFormatError('bad tar header checksum');
      const flag = String.fromCharCode(h[156] as number);
      const size = num(h, 124, 12);
      if (flag === 'x' || flag === 'X' || flag === 'g' || flag === 'L' || flag === 'K') {
        if (size > MAX_META || this.pendingBytes + size > 8 * MAX_META) throw new TarFormatError(`a ${flag} meta header of ${size} bytes (more than 1 MiB)`);
        this.pending.push(Buffer.from(h));
        this.pendingBytes += 512;
        this.meta = { kind: flag, need: size, pad: (512 - (size % 512)) % 512, parts: [], got: 0 };
        if (size === 0) this.finishMeta();
        return;
      }
      // libarchive: "ustar  \0" is GNU (no prefix field), any other "ustar" is POSIX (prefix).
      const gnu = h.toString('latin1', 257, 265) === 'ustar  \0';
      const ustar = !gnu && h.toString('latin1', 257, 262) === 'ustar';
      const prefix = ustar ? cstr(h, 345, 155) : '';
      // A sparse file's real name is its GNU.sparse.name (the ustar name reads GNUSparseFile.0/…),
      // as libarchive reads it; two different names in one member are refused.
      const sparseName = this.pax['GNU.sparse.name'];
      if (sparseName !== undefined && this.pax.path !== undefined && this.pax.path !== sparseName) throw new TarFormatError(`member "${this.pax.path}" also names itself "${sparseName}" (GNU.sparse.name)`);
      let path = sparseName ?? this.pax.path ?? this.longName ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100));
      const linkpath = this.pax.linkpath ?? this.longLink ?? cstr(h, 157, 100);
      const realSize = this.pax.size !== undefined ? Number(this.pax.size) : size;
      if (!Number.isSafeInteger(realSize) || realSize < 0) throw new TarFormatError(`bad member size ${this.pax.size}`);
      const type = TYPES[flag] ?? `Unknown(${flag})`;
      if (type === 'Directory' && path.endsWith('/')) path = path.replace(/\/+$/, '');
      // Data follows for every type whose header carries a size (hard links, symlinks, devices and
      // dirs carry none in practice); every byte of data counts towards the caps.
      const dataSize = flag === '1' || flag === '2' || flag === '3' || flag === '4' || flag === '5' || flag === '6' ? 0 : realSize;
      // A sparse file expands to its real size (holes included): that is what the caps count.
      const sparseSize = Number(this.pax['GNU.sparse.realsize'] ?? this.pax['GNU.sparse.size'] ?? 0);
      const info: TarHeaderInfo = { type, path, size: Number.isFinite(sparseSize) && sparseSize > dataSize ? sparseSize : dataSize };
      if (linkpath) info.linkpath = linkpath;
      this.onMember(info);
      this.members++;
      for (const p of this.pending) this.forward(p);
      this.pending = [];
      this.pendingBytes = 0;
      this.forward(h);
      this.pax = {};
      this.longName = undefined;
      this.longLink = undefined;
      this.skip = dataSize + ((512 - (dataSize % 512)) % 512);
    }
  }

  function components(p: string): string[] {
    return p.split('/').filter((c) => c !== '' && c !== '.');
  }

  /**
   * Checks each member against the ones before it (order matters for symlinks) and against the
   * caps: absolute paths, `..`, writes through a symlink, hard links leaving the tree or going
   * through a symlink, device nodes and FIFOs are refused; expansion is counted from the headers,
   * before the member's bytes go anywhere.
   */
  class MemberChecker {
    private readonly label: string;
    private readonly archiveSize: number;
    private readonly limits: CheckLimits;
    private readonly types = new Map<string, 'dir' | 'file' | 'symlink' | 'other'>();
    entries = 0;
    bytes = 0;

    constructor(label: string, archiveSize: number, limits: CheckLimits) {
      this.label = label;
      this.archiveSize = archiveSize;
      this.limits = limits;
    }

    private unsafe(entry: string, why: string): TarRefusal {
      return new TarRefusal({ code: 'E_UNSAFE_ARCHIVE_ENTRY', message: `Refusing to extract ${this.label}: member "${entry}" ${why}; nothing was written to srcdir`, entry });
    }

    /** Throws a {@link TarRefusal} when the member may not be extracted. */
    check(m: TarHeaderInfo): void {
      const { type, path } = m;
      if (path.startsWith('/')) throw this.unsafe(path, 'has an absolute path');
      const parts = components(path);
      if (parts.includes('..')) throw this.unsafe(path, "contains '..'");
      for (let i = 1; i < parts.length; i++) {
        if (this.types.get(parts.slice(0, i).join('/')) === 'symlink') throw this.unsafe(path, `would be written through the symlink ${parts.slice(0, i).join('/')}`);
      }
      const key = parts.join('/');
      this.entries++;
      if (this.entries > this.limits.maxEntries) this.overLimits();
      this.bytes += m.size;
      if (type === 'Directory') {
        if (key !== '') this.types.set(key, 'dir');
      } else if (FILE_TYPES.has(type)) {
        this.types.set(key, 'file');
      } else if (type === 'SymbolicLink') {
        if (key === '') throw this.unsafe(path, 'replaces the extraction root with a symlink');
        this.types.set(key, 'symlink');
      } else if (type === 'Link') {
        const target = m.linkpath ?? '';
        if (target.startsWith('/')) throw this.unsafe(path, `is a hard link to the absolute path ${target}`);
        const tparts = components(target);
        if (tparts.includes('..') || tparts.length === 0) throw this.unsafe(path, `is a hard link pointing outside the archive (${target})`);
        for (let i = 1; i < tparts.length; i++) {
          if (this.types.get(tparts.slice(0, i).join('/')) === 'symlink') throw this.unsafe(path, `is a hard link through the symlink ${tparts.slice(0, i).join('/')}`);
        }
        this.types.set(key, 'file');
      } else if (type === 'CharacterDevice' || type === 'BlockDevice' || type === 'FIFO') {
        throw this.unsafe(path, `is a ${type === 'FIFO' ? 'FIFO' : 'device node'}`);
      } else {
        this.types.set(key, 'other');
      }
      this.overLimits();
    }

    private overLimits(): void {
      const r = limitRefusal(this.label, this.archiveSize, this.limits, this.entries, this.bytes);
      if (r) throw new TarRefusal(r);
    }
  }

  /** The refusal for an archive of `entries` members expanding to `bytes`, if that passes a cap. */
  function limitRefusal(label: string, archiveSize: number, limits: CheckLimits, entries: number, bytes: number): Refusal | undefined {
    if (entries > limits.maxEntries) return { code: 'E_ARCHIVE_TOO_LARGE', message: `${label} has more than ${limits.maxEntries} members (limits.maxEntries)` };
    if (bytes > limits.maxBytes) {
      return { code: 'E_ARCHIVE_TOO_LARGE', message: `${label} expands to more than ${limits.maxBytes} bytes (limits.maxBytes); raise the limit if the archive is trusted`, expected: limits.maxBytes, actual: bytes };
    }
    if (bytes > limits.ratioFloor && bytes / Math.max(1, archiveSize) > limits.maxRatio) {
      return { code: 'E_ARCHIVE_TOO_LARGE', message: `${label} expands more than ${limits.maxRatio}× its size (limits.maxRatio): a decompression bomb, or raise the limit if trusted`, expected: limits.maxRatio, actual: Math.round(bytes / Math.max(1, archiveSize)) };
    }
    return undefined;
  }

  /**
   * A zero-length pax global header put in front of the stream the extractor reads: libarchive
   * guesses a compression filter from the first bytes of its input, so without it a first member
   * whose name happens to look like a gzip (or other) header could make bsdtar decompress — and
   * extract — something other than what was checked. With it, bsdtar always reads plain tar.
   */
  function prefixHeader(): Buffer {
    const h = Buffer.alloc(512);
    h.write('pax_global_header', 0, 'latin1');
    h.write('0000644\0', 100, 'latin1');
    h.write('0000000\0', 108, 'latin1');
    h.write('0000000\0', 116, 'latin1');
    h.write('00000000000\0', 124, 'latin1');
    h.write('00000000000\0', 136, 'latin1');
    h.write('        ', 148, 'latin1');
    h.write('g', 156, 'latin1');
    h.write('ustar\0', 257, 'latin1');
    h.write('00', 263, 'latin1');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    return h;
  }

  /** Writes every piece, merging pieces that are adjacent views of one buffer into one write. */
  function writePieces(io: PumpIo, fd: number, pieces: Buffer[]): void {
    let i = 0;
    while (i < pieces.length) {
      const first = pieces[i] as Buffer;
      let len = first.length;
      let j = i + 1;
      for (; j < pieces.length; j++) {
        const p = pieces[j] as Buffer;
        if (p.buffer !== first.buffer || p.byteOffset !== first.byteOffset + len) break;
        len += p.length;
      }
      const whole = Buffer.from(first.buffer, first.byteOffset, len);
      let off = 0;
      while (off < len) off += io.writeSync(fd, whole, off, len - off);
      i = j;
    }
  }

  /**
   * Reads the lister's tar stream from `job.inFd` with blocking reads into one reused buffer,
   * checks every member, and writes the accepted bytes to `job.outFd` (after {@link prefixHeader}).
   * Stops forwarding at the end-of-archive marker but reads the lister's output to its end.
   * Throws a {@link TarRefusal}, a {@link TarFormatError} or the I/O error (EPIPE when the
   * extractor died).
   */
  function pump(job: PumpJob, io: PumpIo): PumpResult {
    const checker = new MemberChecker(job.label, job.archiveSize, job.limits);
    const forwarding = job.outFd >= 0;
    const pieces: Buffer[] = [];
    const walker = new TarHeaderWalker(
      (m) => checker.check(m),
      forwarding ? (b) => pieces.push(b) : () => undefined,
    );
    if (forwarding) writePieces(io, job.outFd, [prefixHeader()]);
    const buf = Buffer.allocUnsafe(1024 * 1024);
    let trailing = 0;
    for (;;) {
      const n = io.readSync(job.inFd, buf, 0, buf.length, null);
      if (n === 0) break;
      if (walker.ended) {
        // Only the lister's block padding follows its end marker.
        trailing += n;
        if (trailing > 4 * 1024 * 1024) throw new TarFormatError('data after the end-of-archive marker');
        continue;
      }
      walker.write(buf.subarray(0, n));
      if (forwarding && pieces.length > 0) {
        writePieces(io, job.outFd, pieces);
        pieces.length = 0;
      }
    }
    walker.end();
    return { entries: checker.entries, bytes: checker.bytes };
  }

  return { TarFormatError, TarRefusal, TarHeaderWalker, MemberChecker, limitRefusal, pump, prefixHeader };
}

const runtime = tarCheckRuntime();

/** Thrown by the walker when the stream is not a well-formed tar. */
export const TarFormatError = runtime.TarFormatError;
/** @see TarFormatError */
export type TarFormatError = Error;
/** Thrown by {@link MemberChecker} with the {@link Refusal}. */
export const TarRefusal = runtime.TarRefusal;
/** @see TarRefusal */
export type TarRefusal = Error & { readonly refusal: Refusal };
/** The streaming header walker. */
export const TarHeaderWalker = runtime.TarHeaderWalker;
/** @see TarHeaderWalker */
export type TarHeaderWalker = TarHeaderWalkerApi;
/** The per-member safety and size checks. */
export const MemberChecker = runtime.MemberChecker;
/** @see MemberChecker */
export type MemberChecker = MemberCheckerApi;
/** Runs one job synchronously (in the worker; exported for tests). */
export const pumpTar = runtime.pump;
/** The zero-length pax global header put in front of the extractor's input. */
export const prefixHeader = runtime.prefixHeader;
/** The refusal for an archive of `entries` members expanding to `bytes`, if that passes a cap. */
export const limitRefusal = runtime.limitRefusal;
