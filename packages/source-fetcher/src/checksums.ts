/**
 * Digests for every algorithm makepkg knows, computed in one pass, optionally on a worker thread
 * so hashing overlaps the download's I/O.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { FetchError, abortError, throwIfAborted } from './errors.js';
import { KNOWN_HASH_ALGOS, type HashAlgorithm } from './source-list.js';

/** Digest per algorithm, lowercase hex (`ck`: the decimal CRC, as `cksum` prints it). */
export type Digests = Partial<Record<HashAlgorithm, string>>;

/**
 * Builds a multi-algorithm hasher. Self-contained on purpose: its source text is also run inside
 * the hashing worker, so it must not refer to anything outside its own body.
 */
function makeMultiHasher(algs: readonly string[], hashFactory: (name: string) => { update(b: Uint8Array): unknown; digest(enc: 'hex'): string }) {
  const nodeName: Record<string, string> = { md5: 'md5', sha1: 'sha1', sha224: 'sha224', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512', b2: 'blake2b512' };
  const hashes: { alg: string; h: { update(b: Uint8Array): unknown; digest(enc: 'hex'): string } }[] = [];
  let crcTables: Int32Array[] | undefined;
  let crc = 0;
  let length = 0;
  const wantCk = algs.includes('ck');
  if (wantCk) {
    // POSIX cksum: CRC-32, polynomial 0x04C11DB7, MSB first, no reflection; slicing-by-8 tables.
    const t0 = new Int32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i << 24;
      for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
      t0[i] = c;
    }
    crcTables = [t0];
    for (let k = 1; k < 8; k++) {
      const prev = crcTables[k - 1] as Int32Array;
      const t = new Int32Array(256);
      for (let i = 0; i < 256; i++) t[i] = (prev[i]! << 8) ^ t0[(prev[i]! >>> 24) & 0xff]!;
      crcTables.push(t);
    }
  }
  for (const a of algs) {
    if (a === 'ck') continue;
    const n = nodeName[a];
    if (!n) throw new Error(`unknown checksum algorithm ${a}`);
    hashes.push({ alg: a, h: hashFactory(n) });
  }
  function updateCrc(b: Uint8Array): void {
    const T = crcTables as Int32Array[];
    const t0 = T[0]!, t1 = T[1]!, t2 = T[2]!, t3 = T[3]!, t4 = T[4]!, t5 = T[5]!, t6 = T[6]!, t7 = T[7]!;
    let c = crc;
    let i = 0;
    const n = b.length;
    const end8 = n - (n % 8);
    for (; i < end8; i += 8) {
      c ^= (b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!;
      c = t7[c >>> 24]! ^ t6[(c >>> 16) & 0xff]! ^ t5[(c >>> 8) & 0xff]! ^ t4[c & 0xff]! ^ t3[b[i + 4]!]! ^ t2[b[i + 5]!]! ^ t1[b[i + 6]!]! ^ t0[b[i + 7]!]!;
    }
    for (; i < n; i++) c = (c << 8) ^ t0[((c >>> 24) ^ b[i]!) & 0xff]!;
    crc = c;
  }
  return {
    update(b: Uint8Array): void {
      for (const x of hashes) x.h.update(b);
      if (wantCk) updateCrc(b);
      length += b.length;
    },
    digest(): Record<string, string> {
      const out: Record<string, string> = {};
      for (const x of hashes) out[x.alg] = x.h.digest('hex');
      if (wantCk) {
        const t0 = (crcTables as Int32Array[])[0]!;
        let c = crc;
        let len = length;
        while (len > 0) {
          c = (c << 8) ^ t0[((c >>> 24) ^ (len & 0xff)) & 0xff]!;
          len = Math.floor(len / 256);
        }
        out.ck = String(~c >>> 0);
      }
      return out;
    },
  };
}

/** A sink that digests bytes fed in order. */
export interface HashSink {
  /** Feed the next bytes; the buffer may be reused by the caller after the call returns. */
  update(chunk: Uint8Array): void;
  /** Resolves when the sink has room for more (backpressure for the worker variant). */
  ready(): Promise<void>;
  /** All digests once every byte fed so far is hashed. The sink is closed afterwards. */
  digest(): Promise<Digests>;
  /** Release resources without a result. */
  close(): void;
}

function checkAlgs(algs: readonly string[]): void {
  for (const a of algs) {
    if (!(KNOWN_HASH_ALGOS as readonly string[]).includes(a)) {
      throw new FetchError('E_CHECKSUM_ALGORITHM', `Unknown checksum algorithm "${a}": makepkg knows ${KNOWN_HASH_ALGOS.join(', ')}`, { algorithm: a });
    }
  }
}

class InlineHashSink implements HashSink {
  private h: ReturnType<typeof makeMultiHasher>;
  constructor(algs: readonly string[]) {
    this.h = makeMultiHasher(algs, (n) => createHash(n));
  }
  update(chunk: Uint8Array): void {
    this.h.update(chunk);
  }
  ready(): Promise<void> {
    return Promise.resolve();
  }
  digest(): Promise<Digests> {
    return Promise.resolve(this.h.digest() as Digests);
  }
  close(): void {}
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const makeMultiHasher = ${makeMultiHasher.toString()};
const h = makeMultiHasher(workerData.algs, (n) => createHash(n));
const ring = workerData.ring;
parentPort.on('message', (m) => {
  if (m.type === 'slot') { h.update(new Uint8Array(ring, m.offset, m.length)); parentPort.postMessage({ type: 'ack', slot: m.slot }); }
  else if (m.type === 'end') { parentPort.postMessage({ type: 'digest', digests: h.digest() }); }
});
`;

/** Ring of shared slots the workers read from: no per-chunk allocation or structured clone. */
const SLOT_SIZE = 1024 * 1024;
const SLOTS = 24;

/**
 * Hashing on worker threads: one worker per algorithm (sha256 and b2 then run on two cores in
 * parallel with the download's I/O on the main thread). Bytes go through a SharedArrayBuffer
 * ring, so the only copy is into the ring; `ready()` waits for a free slot (backpressure).
 */
class WorkerHashSink implements HashSink {
  private workers: Worker[];
  private ring = new SharedArrayBuffer(SLOTS * SLOT_SIZE);
  private free: number[] = Array.from({ length: SLOTS }, (_, i) => i);
  private refs = new Int32Array(SLOTS);
  private waiters: (() => void)[] = [];
  private failed?: unknown;
  private results: Digests[] = [];
  private done?: { resolve: (d: Digests) => void; reject: (e: unknown) => void };
  constructor(algs: readonly string[]) {
    const groups = algs.length > 0 ? algs.map((a) => [a]) : [[]];
    this.workers = groups.map((g) => {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { algs: g, ring: this.ring } });
      w.unref();
      w.on('message', (m: { type: string; slot?: number; digests?: Digests }) => {
        if (m.type === 'ack') {
          const slot = m.slot as number;
          this.refs[slot] = (this.refs[slot] as number) - 1;
          if (this.refs[slot] === 0) {
            this.free.push(slot);
            this.wake();
          }
        } else if (m.type === 'digest') {
          this.results.push(m.digests ?? {});
          if (this.results.length === this.workers.length) this.done?.resolve(Object.assign({}, ...this.results) as Digests);
          void w.terminate();
        }
      });
      w.on('error', (e) => {
        this.failed = e;
        this.done?.reject(e);
        this.wake();
      });
      return w;
    });
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  update(chunk: Uint8Array): void {
    if (this.failed) throw this.failed;
    for (let off = 0; off < chunk.byteLength; off += SLOT_SIZE) {
      const part = chunk.subarray(off, Math.min(chunk.byteLength, off + SLOT_SIZE));
      const slot = this.free.pop();
      if (slot === undefined) {
        // Only when a caller feeds without awaiting ready() in between (a bug in this package).
        throw new Error('hash sink overrun: await ready() between updates');
      }
      new Uint8Array(this.ring, slot * SLOT_SIZE, part.byteLength).set(part);
      this.refs[slot] = this.workers.length;
      for (const w of this.workers) {
        // oxlint-disable-next-line unicorn/require-post-message-target-origin -- a worker, not a window
        w.postMessage({ type: 'slot', slot, offset: slot * SLOT_SIZE, length: part.byteLength });
      }
    }
  }
  ready(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    // Room for one more maximal update (a batch never exceeds 2 slots in this package).
    if (this.free.length >= 2) return Promise.resolve();
    return new Promise((r) => {
      const check = (): void => {
        if (this.failed || this.free.length >= 2) r();
        else this.waiters.push(check);
      };
      check();
    });
  }
  digest(): Promise<Digests> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.done = { resolve, reject };
      // oxlint-disable-next-line unicorn/require-post-message-target-origin -- a worker, not a window
      for (const w of this.workers) w.postMessage({ type: 'end' });
    });
  }
  close(): void {
    for (const w of this.workers) void w.terminate();
  }
}

/** Size above which hashing moves to a worker thread. */
export const WORKER_THRESHOLD = 8 * 1024 * 1024;

/**
 * A sink digesting with every algorithm in `algs`; on a worker thread when `expectedSize` is
 * unknown or at least {@link WORKER_THRESHOLD} bytes (and `worker` is not `false`).
 */
export function createHashSink(algs: readonly string[], expectedSize?: number, worker?: boolean): HashSink {
  checkAlgs(algs);
  const useWorker = worker ?? (algs.length > 0 && (expectedSize === undefined || expectedSize >= WORKER_THRESHOLD));
  return useWorker ? new WorkerHashSink(algs) : new InlineHashSink(algs);
}

/** Feeds a file region into a sink in 1 MiB reads. */
export async function hashFileInto(path: string, sink: HashSink, signal?: AbortSignal, end?: number): Promise<number> {
  const fh = await open(path, 'r');
  try {
    let pos = 0;
    const limit = end ?? Infinity;
    // One buffer for every read: the sink copies (worker ring) or consumes (inline) each chunk.
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      throwIfAborted(signal);
      const want = Math.min(buf.length, limit - pos);
      if (want <= 0) break;
      const { bytesRead } = await fh.read(buf, 0, want, pos);
      if (bytesRead === 0) break;
      sink.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
      await sink.ready();
    }
    return pos;
  } finally {
    await fh.close();
  }
}

/**
 * Digests a file with each algorithm in `algs` in one pass.
 *
 * @example
 * ```ts
 * const d = await hashFile('foo.tar.gz', ['sha256', 'b2']) // { sha256: '…', b2: '…' }
 * ```
 */
export async function hashFile(path: string, algs: readonly HashAlgorithm[], signal?: AbortSignal): Promise<Digests> {
  let size: number | undefined;
  try {
    size = (await import('node:fs')).statSync(path).size;
  } catch {
    size = undefined;
  }
  const sink = createHashSink(algs, size);
  try {
    await hashFileInto(path, sink, signal);
    if (signal?.aborted) throw abortError(signal);
    return await sink.digest();
  } finally {
    sink.close();
  }
}

/** The expected checksums of one file: algorithm → expected value (or `SKIP`). */
export type ExpectedChecksums = Partial<Record<HashAlgorithm, string | undefined>>;

/** Algorithms whose expected value is set and not `SKIP`. */
export function algorithmsToCompute(expected: ExpectedChecksums): HashAlgorithm[] {
  return KNOWN_HASH_ALGOS.filter((a) => {
    const v = expected[a];
    return v !== undefined && v !== 'SKIP';
  });
}

/**
 * Compares computed digests with the expected ones (case-insensitively, `SKIP` passes), throwing
 * `E_CHECKSUM_MISMATCH` with `expected`, `actual` and `algorithm` on the first difference.
 */
export function compareChecksums(name: string, expected: ExpectedChecksums, actual: Digests, extra: { url?: string; source?: string; path?: string } = {}): void {
  for (const alg of algorithmsToCompute(expected)) {
    const want = (expected[alg] as string).toLowerCase();
    const got = actual[alg];
    if (got === undefined || got.toLowerCase() !== want) {
      throw new FetchError(
        'E_CHECKSUM_MISMATCH',
        `${alg} mismatch for ${name} (expected ${want}, got ${got ?? 'nothing'}): the download is corrupt or the PKGBUILD checksum is stale`,
        { ...extra, algorithm: alg, expected: want, actual: got ?? '' },
      );
    }
  }
}

/**
 * Verifies a file against expected checksums (every algorithm given, `SKIP` skipped) in one read
 * of the file. Resolves with the computed digests; rejects with `E_CHECKSUM_MISMATCH`.
 *
 * @example
 * ```ts
 * await verifyChecksums('/srv/src/foo.tar.gz', { sha256: 'ab12…', b2: 'SKIP' })
 * ```
 */
export async function verifyChecksums(path: string, expected: ExpectedChecksums, options: { signal?: AbortSignal } = {}): Promise<Digests> {
  const algs = algorithmsToCompute(expected);
  const digests = algs.length > 0 ? await hashFile(path, algs, options.signal) : {};
  compareChecksums(path.slice(path.lastIndexOf('/') + 1), expected, digests, { path });
  return digests;
}
