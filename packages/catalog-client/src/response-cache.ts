/**
 * The on-disk cache of catalog answers (JSON documents and PKGBUILDs): one file per URL holding
 * the body, its ETag and when the catalog last confirmed it. Written atomically (temp + rename),
 * so a crash or a concurrent client never leaves half an entry.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** One cached answer. */
export interface CacheEntry {
  /** The URL it came from (without credentials). */
  url: string;
  /** 200, or 404 for a remembered "not found" (so offline lookups of unknown ids still answer). */
  status: 200 | 404;
  etag: string | undefined;
  /** When the body was first stored (ms since epoch). */
  storedAt: number;
  /** When the catalog last confirmed it (200 or 304), ms since epoch. */
  validatedAt: number;
  body: Buffer;
}

interface CacheFile {
  v: 1;
  url: string;
  status?: 404;
  etag?: string;
  storedAt: number;
  validatedAt: number;
  body: string;
}

/** `$RBEE_HOME/catalog`, else `$XDG_CACHE_HOME/rbee/catalog`, else `~/.cache/rbee/catalog`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RBEE_HOME) return join(env.RBEE_HOME, 'catalog');
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'rbee', 'catalog');
}

/** How stale the on-disk `validatedAt` may get before a 304 rewrites the entry. */
const TOUCH_INTERVAL_MS = 30_000;

/**
 * A directory of cached answers keyed by URL (and by which token, if any, fetched them), with an
 * in-memory copy of the entries this process has seen, so a revalidated (304) answer costs no
 * disk I/O.
 */
export class ResponseCache {
  readonly #memory = new Map<string, { entry: CacheEntry; persistedValidatedAt: number }>();

  constructor(
    readonly dir: string,
    private readonly scope: string,
  ) {}

  /** Records that the catalog confirmed `entry` again (a 304); persisted at most every 30 s. */
  async touch(entry: CacheEntry, validatedAt: number): Promise<void> {
    const mem = this.#memory.get(entry.url);
    const updated = { ...entry, validatedAt };
    if (mem !== undefined && validatedAt - mem.persistedValidatedAt < TOUCH_INTERVAL_MS) {
      mem.entry = updated;
      return;
    }
    await this.put(updated);
  }

  private file(url: string): string {
    const key = createHash('sha256').update(this.scope).update('\n').update(url).digest('hex');
    return join(this.dir, `${key}.json`);
  }

  /** The entry for `url`, or undefined when missing or unreadable (a corrupt entry is a miss). */
  async get(url: string): Promise<CacheEntry | undefined> {
    const mem = this.#memory.get(url);
    if (mem !== undefined) return mem.entry;
    let raw: string;
    try {
      raw = await readFile(this.file(url), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const f = JSON.parse(raw) as CacheFile;
      if (f.v !== 1 || f.url !== url || typeof f.body !== 'string' || typeof f.validatedAt !== 'number') return undefined;
      const entry: CacheEntry = { url: f.url, status: f.status === 404 ? 404 : 200, etag: f.etag, storedAt: f.storedAt, validatedAt: f.validatedAt, body: Buffer.from(f.body, 'base64') };
      this.#memory.set(url, { entry, persistedValidatedAt: f.validatedAt });
      return entry;
    } catch {
      return undefined;
    }
  }

  /** Stores (or replaces) the entry for `entry.url`. Failures are ignored: the cache is an optimisation. */
  async put(entry: CacheEntry): Promise<void> {
    this.#memory.set(entry.url, { entry, persistedValidatedAt: entry.validatedAt });
    const file = this.file(entry.url);
    const data: CacheFile = {
      v: 1,
      url: entry.url,
      ...(entry.status === 404 ? { status: 404 as const } : {}),
      ...(entry.etag === undefined ? {} : { etag: entry.etag }),
      storedAt: entry.storedAt,
      validatedAt: entry.validatedAt,
      body: entry.body.toString('base64'),
    };
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await writeFile(tmp, JSON.stringify(data), { mode: 0o600 });
      await rename(tmp, file);
    } catch {
      await rm(tmp, { force: true }).catch(() => undefined);
    }
  }
}

/** "3 s", "5 min", "2 h 10 min", "4 days" — how old a cached answer is, for warnings. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} days`;
}
