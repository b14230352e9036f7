/**
 * Digests for every algorithm makepkg knows, computed in one pass, optionally on a worker thread
 * so hashing overlaps the download's I/O.
 */
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
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

/**
 * A sink that digests bytes fed in order. Two ways to feed it:
 * - `update(chunk)`, with `await ready()` between calls (the sink copies what it cannot hash at once);
 * - without a copy: fill the buffer {@link HashSink.trySlot} hands out, then {@link HashSink.commit}
 *   it. The buffer is handed out again only once it is hashed and the `hold` given with it (e.g. the
 *   write of the same bytes to disk) has settled, so one copy of each byte serves both.
 */
export interface HashSink {
  /** Feed the next bytes; the buffer may be reused by the caller after the call returns. */
  update(chunk: Uint8Array): void;
  /** Resolves when the sink has room for more: one `update` of up to 1 MiB, or a free slot. */
  ready(): Promise<void>;
  /**
   * A free buffer to fill in place, or `undefined` while none is free (then `await ready()`).
   * Fill it with `slot.fill(bytes, at, at + bytes.length)`: a native memcpy, where `set()` into
   * shared memory is a relaxed-atomic copy measured 2.4× slower.
   */
  trySlot(): Buffer | undefined;
  /** Hashes the first `length` bytes of the buffer the last `trySlot()` returned. */
  commit(length: number, hold?: Promise<unknown>): void;
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

/**
 * Size of one slot: the unit of disk writes and of hand-offs to the hashing threads. A small ring
 * (16 × 256 KiB) stays in the CPU caches between the copy into it, the hashing and the write;
 * 1 MiB slots measured ~10 % more CPU per byte here.
 */
const SLOT_SIZE = 256 * 1024;
/** Slots of the shared ring (the read-ahead the hashing threads may fall behind by). */
const RING_SLOTS = 16;
/** Slots of the inline sink (its writes in flight). */
const INLINE_SLOTS = 4;

/** Hashes on the calling thread; its slots are plain buffers, busy until their `hold` settles. */
class InlineHashSink implements HashSink {
  private h: ReturnType<typeof makeMultiHasher>;
  private slots: Buffer[] = [];
  private holds: (Promise<void> | undefined)[] = [];
  private next = 0;
  constructor(
    algs: readonly string[],
    private readonly slotSize: number,
  ) {
    this.h = makeMultiHasher(algs, (n) => createHash(n));
  }
  update(chunk: Uint8Array): void {
    this.h.update(chunk);
  }
  async ready(): Promise<void> {
    for (;;) {
      const hold = this.holds[this.next % INLINE_SLOTS];
      if (!hold) return;
      await hold;
    }
  }
  trySlot(): Buffer | undefined {
    const i = this.next % INLINE_SLOTS;
    if (this.holds[i]) return undefined;
    return (this.slots[i] ??= Buffer.allocUnsafeSlow(this.slotSize));
  }
  commit(length: number, hold?: Promise<unknown>): void {
    const i = this.next % INLINE_SLOTS;
    this.h.update((this.slots[i] as Buffer).subarray(0, length));
    this.next++;
    if (hold) {
      const settled = (): void => {
        this.holds[i] = undefined;
      };
      this.holds[i] = hold.then(settled, settled);
    }
  }
  digest(): Promise<Digests> {
    return Promise.resolve(this.h.digest() as Digests);
  }
  close(): void {}
}

// Control words of a ring (an Int32Array on a SharedArrayBuffer), so a slot costs no message:
// EVENTS is bumped (and notified) after every change the hashers must see; PUBLISHED counts the
// slots handed to them; FINAL is 1 once every slot is published, 2 to abandon the job; then one
// length per slot, then one "slots consumed" counter per hasher (notified after each slot).
const EVENTS = 0;
const PUBLISHED = 1;
const FINAL = 2;
const LENGTHS = 4;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const makeMultiHasher = ${makeMultiHasher.toString()};
const { openSync, readSync, closeSync } = require('node:fs');
let fileBuf;
function hashWholeFile(job) {
  const cancel = new Int32Array(job.cancel);
  const h = makeMultiHasher(job.algs, (n) => createHash(n));
  fileBuf ??= Buffer.allocUnsafe(1024 * 1024);
  let fd;
  try {
    fd = openSync(job.file, 'r');
    for (;;) {
      if (Atomics.load(cancel, 0) !== 0) { parentPort.postMessage({ type: 'aborted' }); return; }
      const n = readSync(fd, fileBuf, 0, fileBuf.length, null);
      if (n === 0) break;
      h.update(fileBuf.subarray(0, n));
    }
    parentPort.postMessage({ type: 'digest', digests: h.digest() });
  } catch (e) {
    parentPort.postMessage({ type: 'failed', message: String(e && e.message), code: e && e.code });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
parentPort.on('message', (job) => {
  if (job.file !== undefined) { hashWholeFile(job); return; }
  const ctl = new Int32Array(job.ctl);
  const { ring, slotSize, slots } = job;
  const consumed = ${LENGTHS} + slots + job.index;
  const h = makeMultiHasher(job.algs, (n) => createHash(n));
  let seq = 0;
  for (;;) {
    const ev = Atomics.load(ctl, ${EVENTS});
    const published = Atomics.load(ctl, ${PUBLISHED});
    while (seq < published) {
      const slot = seq % slots;
      h.update(new Uint8Array(ring, slot * slotSize, Atomics.load(ctl, ${LENGTHS} + slot)));
      seq++;
      Atomics.store(ctl, consumed, seq);
      Atomics.notify(ctl, consumed);
    }
    const fin = Atomics.load(ctl, ${FINAL});
    if (fin === 2) { parentPort.postMessage({ type: 'aborted' }); return; }
    if (fin === 1 && seq >= Atomics.load(ctl, ${PUBLISHED})) { parentPort.postMessage({ type: 'digest', digests: h.digest() }); return; }
    Atomics.wait(ctl, ${EVENTS}, ev);
  }
});
`;

/** `Atomics.waitAsync` (ES2024; Node ≥ 16), typed here as the configured lib predates it. */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, index: number, value: number, timeout?: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

/** Hashing threads one download may use. */
const MAX_HASHERS = 4;
interface Ring {
  data: SharedArrayBuffer;
  /** One Buffer view per slot. */
  views: Buffer[];
  ctl: Int32Array;
}
/** Rings kept between jobs, so their pages are not faulted in again for every download. */
const idleRings: Ring[] = [];
const MAX_IDLE_RINGS = 2;
/** Hashing threads kept between jobs (unref'd: they never keep the process alive). */
const idleHashers: Worker[] = [];
const MAX_IDLE_HASHERS = 2;
/** An idle hashing thread (and the idle rings) are let go after this long unused, in ms. */
const IDLE_TIMEOUT = 30_000;
let idleTimer: ReturnType<typeof setTimeout> | undefined;

/** Parks a hashing thread for the next download; the pool empties itself after {@link IDLE_TIMEOUT}. */
function parkHasher(w: Worker): void {
  w.unref();
  if (idleHashers.length >= MAX_IDLE_HASHERS) {
    void w.terminate();
    return;
  }
  idleHashers.push(w);
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    idleTimer = undefined;
    for (const x of idleHashers.splice(0)) void x.terminate();
    idleRings.splice(0);
  }, IDLE_TIMEOUT);
  idleTimer.unref();
}

function takeHasher(): Worker {
  const idle = idleHashers.pop();
  if (idle) return idle;
  const w = new Worker(WORKER_SOURCE, { eval: true });
  w.unref();
  // Keeps an idle worker's failure from becoming an uncaught error; a busy one has its own listener.
  w.on('error', () => undefined);
  // A thread that died while parked is never handed out again.
  w.on('exit', () => {
    const i = idleHashers.indexOf(w);
    if (i >= 0) idleHashers.splice(i, 1);
  });
  return w;
}

/**
 * Starts a hashing thread for the pool when none is idle, so one is ready by the time a large
 * download's body arrives (a cold start costs tens of milliseconds). Unused, it is let go with the
 * idle pool.
 */
export function prewarmHasher(): void {
  if (idleHashers.length === 0) parkHasher(takeHasher());
}

function takeRing(hashers: number): Ring {
  let r = idleRings.pop();
  if (!r) {
    const data = new SharedArrayBuffer(RING_SLOTS * SLOT_SIZE);
    const views = Array.from({ length: RING_SLOTS }, (_, i) => Buffer.from(data, i * SLOT_SIZE, SLOT_SIZE));
    r = { data, views, ctl: new Int32Array(new SharedArrayBuffer(4 * (LENGTHS + RING_SLOTS + MAX_HASHERS))) };
  }
  r.ctl.fill(0);
  if (hashers > MAX_HASHERS) throw new Error('too many hashing threads');
  return r;
}

/** Rough cost of each algorithm here, in ms per MiB (Node's crypto; `ck` is JavaScript). */
const HASH_COST: Record<string, number> = { ck: 2, md5: 1.4, sha1: 0.6, sha224: 0.7, sha256: 0.65, sha384: 1.1, sha512: 1.1, b2: 0.9 };
/**
 * The most hashing one thread takes on, in ms per MiB: below what the download itself costs the
 * main thread (~2.5 ms/MiB), so hashing never sets the pace. sha256 + b2 (the usual pair) share
 * one thread: measured ~9 % less CPU than a thread each, at the same speed.
 */
const HASHER_BUDGET = 1.6;

/** Packs the algorithms into as few threads as keep each under {@link HASHER_BUDGET}. */
function hasherGroups(algs: readonly string[]): string[][] {
  const groups: { algs: string[]; cost: number }[] = [];
  for (const a of algs) {
    const w = HASH_COST[a] ?? 1;
    let g = groups.find((x) => x.cost + w <= HASHER_BUDGET);
    if (!g && groups.length >= MAX_HASHERS) g = groups.reduce((x, y) => (y.cost < x.cost ? y : x));
    if (!g) groups.push((g = { algs: [], cost: 0 }));
    g.algs.push(a);
    g.cost += w;
  }
  return groups.length > 0 ? groups.map((g) => g.algs) : [[]];
}

/**
 * Hashing on worker threads (algorithms packed by cost, up to {@link MAX_HASHERS}) reading a shared ring
 * of slots: the caller fills a slot once, in place, and the same bytes are written to disk and
 * hashed on other cores. Slots are signalled with atomics on shared control words, not messages.
 */
class WorkerHashSink implements HashSink {
  private readonly hashers: Worker[];
  private readonly ring: Ring;
  private readonly holds: (Promise<void> | undefined)[] = [];
  private next = 0;
  private failed?: unknown;
  private failure: Promise<never>;
  private fail!: (e: unknown) => void;
  private replies = 0;
  private results: Digests[] = [];
  private finished = false;
  private done?: { resolve: (d: Digests) => void; reject: (e: unknown) => void };
  private cleanups: (() => void)[] = [];
  constructor(algs: readonly string[]) {
    const groups = hasherGroups(algs);
    this.ring = takeRing(groups.length);
    this.failure = new Promise<never>((_, reject) => {
      this.fail = (e) => {
        if (this.failed !== undefined) return;
        this.failed = e;
        reject(e);
        this.done?.reject(e);
        // A thread failed: none of this job's threads or its ring is reused.
        for (const c of this.cleanups) c();
        this.cleanups = [];
        for (const w of this.hashers) void w.terminate();
      };
    });
    this.failure.catch(() => undefined);
    this.hashers = groups.map((g, index) => {
      const w = takeHasher();
      // Busy threads keep the process alive until their digest arrives; idle ones do not.
      w.ref();
      const onMessage = (m: { type: string; digests?: Digests }): void => {
        if (m.type === 'digest') this.results.push(m.digests ?? {});
        this.replies++;
        if (this.replies === this.hashers.length) this.settle();
      };
      const onError = (e: unknown): void => {
        this.fail(e);
      };
      const onExit = (): void => {
        this.fail(new Error('hashing thread exited'));
      };
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      this.cleanups.push(() => {
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
      });
      // oxlint-disable-next-line unicorn/require-post-message-target-origin -- a worker, not a window
      w.postMessage({ ring: this.ring.data, ctl: this.ring.ctl.buffer, slotSize: SLOT_SIZE, slots: RING_SLOTS, algs: g, index });
      return w;
    });
  }
  /** Every hasher replied (digest or aborted): hand the threads and the ring back for reuse. */
  private settle(): void {
    for (const c of this.cleanups) c();
    this.cleanups = [];
    if (this.failed === undefined) {
      for (const w of this.hashers) parkHasher(w);
      if (idleRings.length < MAX_IDLE_RINGS) idleRings.push(this.ring);
      if (this.finished) this.done?.resolve(Object.assign({}, ...this.results) as Digests);
    }
  }
  private signal(): void {
    Atomics.add(this.ring.ctl, EVENTS, 1);
    Atomics.notify(this.ring.ctl, EVENTS);
  }
  /** Tells the hashers to drop the job (they reply `aborted` and return to the pool). */
  private abandon(): void {
    if (Atomics.load(this.ring.ctl, FINAL) !== 0) return;
    Atomics.store(this.ring.ctl, FINAL, 2);
    this.signal();
  }
  /** The hasher lagging behind for slot sequence `seq` to be reusable, or -1 when none does. */
  private laggard(seq: number): number {
    if (seq < RING_SLOTS) return -1;
    const need = seq - RING_SLOTS + 1;
    for (let i = 0; i < this.hashers.length; i++) {
      if (Atomics.load(this.ring.ctl, LENGTHS + RING_SLOTS + i) < need) return i;
    }
    return -1;
  }
  private isFree(seq: number): boolean {
    return this.holds[seq % RING_SLOTS] === undefined && this.laggard(seq) < 0;
  }
  private async waitFree(seq: number): Promise<void> {
    for (;;) {
      if (this.failed !== undefined) throw this.failed;
      const hold = this.holds[seq % RING_SLOTS];
      if (hold) {
        await hold;
        continue;
      }
      const lag = this.laggard(seq);
      if (lag < 0) return;
      const word = LENGTHS + RING_SLOTS + lag;
      const w = waitAsync(this.ring.ctl, word, Atomics.load(this.ring.ctl, word), 1000);
      if (w.async) await Promise.race([w.value, this.failure]);
    }
  }
  update(chunk: Uint8Array): void {
    if (this.failed !== undefined) throw this.failed;
    for (let off = 0; off < chunk.byteLength; off += SLOT_SIZE) {
      const part = chunk.subarray(off, Math.min(chunk.byteLength, off + SLOT_SIZE));
      const slot = this.trySlot();
      // Only when a caller feeds without awaiting ready() in between (a bug in this package).
      if (!slot) throw new Error('hash sink overrun: await ready() between updates');
      if (part.byteLength > 0) slot.fill(part, 0, part.byteLength);
      this.commit(part.byteLength);
    }
  }
  async ready(): Promise<void> {
    // Room for one update of up to 1 MiB (the largest chunk fed in this package).
    const need = Math.ceil((1024 * 1024) / SLOT_SIZE);
    for (let i = 0; i < need; i++) await this.waitFree(this.next + i);
  }
  trySlot(): Buffer | undefined {
    if (this.failed !== undefined) throw this.failed;
    if (!this.isFree(this.next)) return undefined;
    return this.ring.views[this.next % RING_SLOTS];
  }
  commit(length: number, hold?: Promise<unknown>): void {
    const slot = this.next % RING_SLOTS;
    const ctl = this.ring.ctl;
    Atomics.store(ctl, LENGTHS + slot, length);
    this.next++;
    Atomics.store(ctl, PUBLISHED, this.next);
    this.signal();
    if (hold) {
      const settled = (): void => {
        this.holds[slot] = undefined;
      };
      this.holds[slot] = hold.then(settled, settled);
    }
  }
  digest(): Promise<Digests> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.done = { resolve, reject };
      this.finished = true;
      Atomics.store(this.ring.ctl, FINAL, 1);
      this.signal();
    });
  }
  close(): void {
    if (!this.finished) this.abandon();
  }
}

/** Size above which hashing moves to worker threads. */
export const WORKER_THRESHOLD = 8 * 1024 * 1024;

/**
 * A sink digesting with every algorithm in `algs`; on worker threads when `expectedSize` is
 * unknown or at least {@link WORKER_THRESHOLD} bytes (and `worker` is not `false`).
 */
export function createHashSink(algs: readonly string[], expectedSize?: number, worker?: boolean): HashSink {
  checkAlgs(algs);
  const useWorker = worker ?? (algs.length > 0 && (expectedSize === undefined || expectedSize >= WORKER_THRESHOLD));
  if (useWorker) return new WorkerHashSink(algs);
  // Small files get small slots: no MiB buffers for a 2 KiB download.
  const slot = expectedSize === undefined ? SLOT_SIZE : Math.min(SLOT_SIZE, Math.max(64 * 1024, expectedSize));
  return new InlineHashSink(algs, slot);
}

/** Feeds a file region into a sink, reading straight into the sink's slots. */
export async function hashFileInto(path: string, sink: HashSink, signal?: AbortSignal, end?: number): Promise<number> {
  const fh = await open(path, 'r');
  try {
    let pos = 0;
    const limit = end ?? Infinity;
    for (;;) {
      throwIfAborted(signal);
      await sink.ready();
      const slot = sink.trySlot() as Buffer;
      const want = Math.min(slot.byteLength, limit - pos);
      if (want <= 0) break;
      const { bytesRead } = await fh.read(slot, 0, want, pos);
      if (bytesRead === 0) break;
      sink.commit(bytesRead);
      pos += bytesRead;
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
  checkAlgs(algs);
  throwIfAborted(signal);
  let size: number | undefined;
  try {
    size = (await stat(path)).size;
  } catch {
    size = undefined;
  }
  throwIfAborted(signal);
  if (size !== undefined && size >= WORKER_THRESHOLD && algs.length > 0) return hashFileOnThreads(path, algs, signal);
  const sink = createHashSink(algs, size);
  try {
    await hashFileInto(path, sink, signal);
    if (signal?.aborted) throw abortError(signal);
    return await sink.digest();
  } finally {
    sink.close();
  }
}

/**
 * A large file hashed by pooled threads that read it themselves, with blocking reads into a
 * buffer of their own: no slot hand-off, no event-loop round trip per block. Reading pages just
 * written (a build's output) this way costs ~45 ms for 50 MiB here, against ~75 ms through the
 * ring. Each algorithm group (see {@link hasherGroups}) reads the file on its own thread.
 */
function hashFileOnThreads(path: string, algs: readonly string[], signal?: AbortSignal): Promise<Digests> {
  const cancel = new Int32Array(new SharedArrayBuffer(4));
  const onAbort = (): void => {
    Atomics.store(cancel, 0, 1);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const jobs = hasherGroups(algs).map(
    (g) =>
      new Promise<Digests>((resolve, reject) => {
        const w = takeHasher();
        w.ref();
        let done = false;
        const finish = (park: boolean): void => {
          done = true;
          w.off('message', onMessage);
          w.off('exit', onExit);
          if (park) parkHasher(w);
        };
        const onMessage = (m: { type: string; digests?: Digests; message?: string; code?: string }): void => {
          finish(true);
          if (m.type === 'digest') resolve(m.digests ?? {});
          else if (m.type === 'aborted') reject(abortError(signal));
          else reject(Object.assign(new Error(m.message ?? 'hashing failed'), m.code ? { code: m.code } : {}));
        };
        const onExit = (): void => {
          if (!done) {
            finish(false);
            reject(new Error('hashing thread exited'));
          }
        };
        w.on('message', onMessage);
        w.on('exit', onExit);
        // oxlint-disable-next-line unicorn/require-post-message-target-origin -- a worker, not a window
        w.postMessage({ file: path, algs: g, cancel: cancel.buffer });
      }),
  );
  return Promise.all(jobs).then(
    (parts) => {
      signal?.removeEventListener('abort', onAbort);
      return Object.assign({}, ...parts) as Digests;
    },
    (e: unknown) => {
      // the other groups stop at their next block and go back to the pool
      Atomics.store(cancel, 0, 1);
      signal?.removeEventListener('abort', onAbort);
      throw e;
    },
  );
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
