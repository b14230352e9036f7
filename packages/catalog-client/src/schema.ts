/**
 * valibot schemas of the catalog API's JSON, the types inferred from them, and the reader that
 * turns a response body into validated `Worker`s (older flat entries included).
 */
import * as v from 'valibot';
import { CatalogError, type CatalogResponseIssue } from './errors.js';

/** The pattern every worker id must match before it is put into a URL or a path. */
export const WORKER_ID_PATTERN = /^[a-z0-9][a-z0-9._+-]*$/;

/** Backends a variant can be built for. */
export const BACKENDS = ['cpu', 'cuda', 'metal', 'rocm'] as const;
/** Operating systems a variant can run on. */
export const PLATFORMS = ['linux', 'macos', 'windows'] as const;
/** CPU architectures a variant can run on (makepkg's `CARCH` names). */
export const ARCHES = ['x86_64', 'aarch64'] as const;

const workerId = v.pipe(
  v.string(),
  v.maxLength(128),
  v.regex(WORKER_ID_PATTERN, 'must match ^[a-z0-9][a-z0-9._+-]*$'),
);

/** A catalog-relative or absolute http(s) URL with no traversal: no `..` segment, backslash or NUL. */
const catalogUrl = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(2048),
  v.check((s) => isSafeCatalogUrl(s), 'must be a path inside the catalog or an http(s) URL, without ".." segments, backslashes or NUL'),
);

/** A plain file name (what `binaryName` must be). */
const fileName = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_+][A-Za-z0-9._+-]*$/, 'must be a plain file name'),
);

const stringList = v.optional(v.array(v.string()), () => []);

const BackendSchema = v.picklist(BACKENDS);
const PlatformSchema = v.picklist(PLATFORMS);
const ArchSchema = v.picklist(ARCHES);

const BuildSchema = v.object({
  features: v.optional(v.array(v.string()), () => []),
  profile: v.optional(v.string()),
});

/** Schema of one variant of a worker (unknown fields are dropped). */
export const WorkerVariantSchema = v.object({
  backend: BackendSchema,
  platforms: v.pipe(v.array(PlatformSchema), v.minLength(1)),
  architectures: v.pipe(v.array(ArchSchema), v.minLength(1)),
  pkgbuildUrl: catalogUrl,
  pkgbuildUrlGit: v.optional(catalogUrl),
  build: v.optional(BuildSchema),
  depends: stringList,
  makedepends: stringList,
  binaryName: v.optional(fileName),
  installPath: v.optional(v.string()),
});

/** Schema of a worker's capabilities. */
export const CapabilitiesSchema = v.object({
  supportedFormats: v.array(v.string()),
  maxContextLength: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  supportsStreaming: v.boolean(),
  supportsBatching: v.boolean(),
});

/** Schema of where a worker's code lives. */
export const WorkerSourceSchema = v.object({
  type: v.string(),
  url: v.string(),
  branch: v.optional(v.string()),
  path: v.optional(v.string()),
});

/** Schema of a catalog entry (`GET /workers/:id`). Unknown fields are ignored. */
export const WorkerSchema = v.object({
  id: workerId,
  name: v.string(),
  version: v.pipe(v.string(), v.minLength(1)),
  description: v.optional(v.string(), ''),
  license: v.optional(v.string()),
  implementation: v.optional(v.string()),
  buildSystem: v.optional(v.string()),
  source: v.optional(WorkerSourceSchema),
  variants: v.pipe(v.array(WorkerVariantSchema), v.minLength(1)),
  capabilities: v.optional(CapabilitiesSchema),
  coverImage: v.optional(v.string()),
  readmeUrl: v.optional(v.string()),
  homepage: v.optional(v.string()),
});

/** Schema of an older, flat catalog entry: one backend per entry, `id` like `llm-worker-rbee-cpu`. */
const FlatWorkerSchema = v.object({
  id: workerId,
  name: v.optional(v.string()),
  version: v.pipe(v.string(), v.minLength(1)),
  description: v.optional(v.string(), ''),
  license: v.optional(v.string()),
  implementation: v.optional(v.string()),
  buildSystem: v.optional(v.string()),
  source: v.optional(WorkerSourceSchema),
  // the variant's fields, flattened into the entry; the backend may come as `workerType` instead
  ...WorkerVariantSchema.entries,
  workerType: v.optional(BackendSchema),
  backend: v.optional(BackendSchema),
  capabilities: v.optional(CapabilitiesSchema),
});

/** A backend: `cpu`, `cuda`, `metal` or `rocm`. */
export type Backend = v.InferOutput<typeof BackendSchema>;
/** A platform: `linux`, `macos` or `windows`. */
export type Platform = v.InferOutput<typeof PlatformSchema>;
/** A CPU architecture: `x86_64` or `aarch64`. */
export type Arch = v.InferOutput<typeof ArchSchema>;
/** One buildable variant of a worker (a backend for some platforms/architectures and its PKGBUILD(s)). */
export type WorkerVariant = v.InferOutput<typeof WorkerVariantSchema>;
/** What a worker can do. */
export type WorkerCapabilities = v.InferOutput<typeof CapabilitiesSchema>;
/** Where a worker's code lives. */
export type WorkerSource = v.InferOutput<typeof WorkerSourceSchema>;
/** A validated catalog entry. Older flat entries are returned in this shape with one variant. */
export type Worker = v.InferOutput<typeof WorkerSchema>;

/** True when `url` is a catalog-relative path or an http(s) URL with no `..`, backslash or NUL. */
export function isSafeCatalogUrl(url: string): boolean {
  if (url.includes('\0') || url.includes('\\')) return false;
  let pathPart = url;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url);
  if (scheme) {
    const proto = scheme[1]!.toLowerCase();
    if (proto !== 'http' && proto !== 'https') return false;
    try {
      pathPart = new URL(url).pathname;
    } catch {
      return false;
    }
    // URL parsing already collapsed dot segments; check the raw text too.
    if (/(^|\/)(\.|%2e){2}(\/|$|\?|#)/i.test(url.slice(scheme[0].length + 2))) return false;
  }
  const path = pathPart.split(/[?#]/, 1)[0] ?? '';
  for (const seg of path.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(seg);
    } catch {
      return false;
    }
    if (decoded === '..' || decoded.includes('/') || decoded.includes('\\') || decoded.includes('\0')) return false;
  }
  return true;
}

/** Formats a valibot issue path as `a.b[0].c`. */
function issuePath(prefix: string, issue: v.BaseIssue<unknown>): string {
  let out = prefix;
  for (const item of issue.path ?? []) {
    const key = (item as { key: unknown }).key;
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

function toIssues(prefix: string, issues: readonly v.BaseIssue<unknown>[]): CatalogResponseIssue[] {
  return issues.slice(0, 20).map((issue) => ({ path: issuePath(prefix, issue), message: issue.message }));
}

function responseError(url: string, issues: CatalogResponseIssue[]): CatalogError {
  const shown = issues
    .slice(0, 5)
    .map((i) => `${i.path || '(document)'}: ${i.message}`)
    .join('; ');
  return new CatalogError(
    'E_CATALOG_RESPONSE',
    `the catalog at ${url} answered an invalid document (${shown}${issues.length > 5 ? '; …' : ''}): the catalog does not follow the rbee catalog API, or this client is too old for it`,
    { url, issues },
  );
}

function isFlatEntry(input: unknown): boolean {
  return (
    typeof input === 'object' &&
    input !== null &&
    !('variants' in input) &&
    ('platforms' in input || 'workerType' in input || 'pkgbuildUrl' in input)
  );
}

/** Validates one entry; returns the worker or the issues (with `prefix` in their paths). */
function readEntry(input: unknown, prefix: string): { worker: Worker } | { issues: CatalogResponseIssue[] } {
  if (!isFlatEntry(input)) {
    const r = v.safeParse(WorkerSchema, input);
    return r.success ? { worker: r.output } : { issues: toIssues(prefix, r.issues) };
  }
  const r = v.safeParse(FlatWorkerSchema, input);
  if (!r.success) return { issues: toIssues(prefix, r.issues) };
  const flat = r.output;
  const suffix = /-(cpu|cuda|metal|rocm)$/.exec(flat.id)?.[1] as Backend | undefined;
  const backend = flat.workerType ?? flat.backend ?? suffix;
  if (backend === undefined) {
    return {
      issues: [
        {
          path: prefix === '' ? 'workerType' : `${prefix}.workerType`,
          message: 'a flat (one-backend) entry needs workerType/backend, or an id ending in -cpu/-cuda/-metal/-rocm',
        },
      ],
    };
  }
  const variant: WorkerVariant = {
    backend,
    platforms: flat.platforms,
    architectures: flat.architectures,
    pkgbuildUrl: flat.pkgbuildUrl,
    depends: flat.depends,
    makedepends: flat.makedepends,
  };
  if (flat.pkgbuildUrlGit !== undefined) variant.pkgbuildUrlGit = flat.pkgbuildUrlGit;
  if (flat.build !== undefined) variant.build = flat.build;
  if (flat.binaryName !== undefined) variant.binaryName = flat.binaryName;
  if (flat.installPath !== undefined) variant.installPath = flat.installPath;
  const worker: Worker = { id: flat.id, name: flat.name ?? flat.id, version: flat.version, description: flat.description, variants: [variant] };
  if (flat.license !== undefined) worker.license = flat.license;
  if (flat.implementation !== undefined) worker.implementation = flat.implementation;
  if (flat.buildSystem !== undefined) worker.buildSystem = flat.buildSystem;
  if (flat.source !== undefined) worker.source = flat.source;
  if (flat.capabilities !== undefined) worker.capabilities = flat.capabilities;
  return { worker };
}

/** Parses a JSON body, or throws `E_CATALOG_RESPONSE` naming the URL. */
export function parseJsonBody(text: string, url: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new CatalogError(
      'E_CATALOG_RESPONSE',
      `the catalog at ${url} answered malformed JSON (${(cause as Error).message}): check that the URL points at an rbee worker catalog`,
      { url, cause, issues: [{ path: '', message: 'malformed JSON' }] },
    );
  }
}

/** Validates a `GET /workers/:id` document. Throws `E_CATALOG_RESPONSE` naming field paths and `url`. */
export function readWorker(input: unknown, url: string): Worker {
  const r = readEntry(input, '');
  if ('issues' in r) throw responseError(url, r.issues);
  return r.worker;
}

/** Validates a `GET /workers` document (`{ workers: [...] }`; a bare array is accepted too). */
export function readWorkerList(input: unknown, url: string): Worker[] {
  const list: unknown = Array.isArray(input) ? input : typeof input === 'object' && input !== null ? (input as { workers?: unknown }).workers : undefined;
  const prefix = Array.isArray(input) ? '' : 'workers';
  if (!Array.isArray(list)) {
    throw responseError(url, [{ path: 'workers', message: `Invalid type: Expected Array but received ${list === undefined ? 'undefined' : typeof list}` }]);
  }
  const out: Worker[] = [];
  const issues: CatalogResponseIssue[] = [];
  list.forEach((entry, i) => {
    const r = readEntry(entry, `${prefix}[${i}]`);
    if ('issues' in r) issues.push(...r.issues);
    else out.push(r.worker);
  });
  if (issues.length > 0) throw responseError(url, issues);
  return out;
}
