/**
 * The parts of the four composed packages the provisioner uses, as structural types. The real
 * implementations are loaded on first use; tests and embedders may pass their own.
 */
import { inspectPkgbuild, runPkgbuild } from '@rbee/pkgbuild-executor';
import { lintPkgbuild, parsePkgbuild, type Diagnostic, type Pkgbuild } from '@rbee/pkgbuild-parser';
import { fetchSources, type ArchiveScan } from '@rbee/source-fetcher';

/** `parsePkgbuild`'s result. */
export interface ParseResultLike {
  pkgbuild: Pkgbuild;
  diagnostics: Diagnostic[];
  isStatic: boolean;
}

/** A catalog variant, as much as the provisioner reads of it. */
export interface CatalogVariantLike {
  backend: string;
  platforms: readonly string[];
  architectures: readonly string[];
  pkgbuildUrl?: string;
  pkgbuildUrlGit?: string;
  binaryName?: string;
  installPath?: string;
  [key: string]: unknown;
}

/** A catalog worker entry, as much as the provisioner reads of it. */
export interface CatalogWorkerLike {
  id: string;
  version?: string;
  variants?: readonly CatalogVariantLike[];
  capabilities?: {
    supportedFormats?: readonly string[];
    maxContextLength?: number;
    supportsStreaming?: boolean;
    supportsBatching?: boolean;
    supportedArchitectures?: readonly string[];
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** `CatalogClient.resolve`'s result. */
export interface ResolvedLike {
  worker: CatalogWorkerLike;
  variant: CatalogVariantLike;
  pkgbuildUrl: string;
  [key: string]: unknown;
}

/** The catalog operations the provisioner needs (a `CatalogClient` has them). */
export interface CatalogLike {
  resolve(
    spec: string,
    opts: { platform: string; arch: string; backend?: string; flavor?: string; signal?: AbortSignal },
  ): Promise<ResolvedLike>;
  getPkgbuild(resolved: ResolvedLike, opts?: { signal?: AbortSignal }): Promise<{ text: string; baseUrl: string }>;
  getFile(baseUrl: string, name: string, opts?: { signal?: AbortSignal }): Promise<unknown>;
  getWorker?(id: string, opts?: { signal?: AbortSignal }): Promise<CatalogWorkerLike>;
  listWorkers?(opts?: { signal?: AbortSignal }): Promise<readonly CatalogWorkerLike[] | { workers: readonly CatalogWorkerLike[] }>;
}

/** One line of build output, as the executor reports it. */
export interface BuildLine {
  stream: 'stdout' | 'stderr';
  line: string;
  /** The function that printed it; null/absent before the first one. */
  function?: string | null;
}

/** The pipeline functions of the parser, executor and fetcher the provisioner calls. */
export interface Stages {
  parsePkgbuild(text: string, opts: { carch: string; filename?: string }): ParseResultLike;
  lintPkgbuild(input: ParseResultLike, opts: { carch: string; fileExists?: (name: string) => boolean }): Diagnostic[];
  inspectPkgbuild(
    path: string,
    opts: { carch: string; sandbox?: SandboxMode; signal?: AbortSignal; timeoutMs?: number; env?: Record<string, string> },
  ): Promise<{ pkgbuild: Pkgbuild; stdout: string; diagnostics: Diagnostic[] }>;
  fetchSources(opts: {
    pkgbuild: Pkgbuild;
    carch: string;
    startdir: string;
    srcdest: string;
    srcdir: string;
    signal?: AbortSignal;
    verify?: boolean;
    extract?: boolean;
    /** Earlier scans of unchanged cached archives, by file name (the fetcher's `scans`). */
    scans?: Record<string, ArchiveScan>;
    onProgress?: (p: FetchProgressLike) => void;
  }): Promise<FetchResultLike[]>;
  runPkgbuild(opts: {
    pkgbuildPath: string;
    startdir: string;
    srcdir: string;
    pkgdir: string;
    functions?: ('prepare' | 'pkgver' | 'build' | 'check' | 'package')[];
    skipCheck?: boolean;
    env?: Record<string, string>;
    sandbox?: SandboxMode;
    /** Extra paths the sandboxed build may read (the shared source cache). */
    readablePaths?: string[];
    network?: boolean;
    fakeroot?: boolean | 'auto';
    signal?: AbortSignal;
    onLine?: (line: BuildLine) => void;
    /** Start the sandbox and source the PKGBUILD now; run no function before this resolves (it must be honoured: it carries the extraction). */
    startAfter?: Promise<unknown>;
    onFunction?: (event: { function: string; status: 'start' | 'end'; durationMs?: number }) => void;
    onWarning?: (message: string) => void;
    logFile?: string;
    carch?: string;
  }): Promise<{
    pkgver: string;
    pkgrel?: string;
    epoch?: string;
    durations: Record<string, number>;
    pkgdirs?: Record<string, string>;
    logFile?: string | undefined;
  }>;
}

/** Sandbox mode of the executor. */
export type SandboxMode = 'auto' | 'bwrap' | 'none';

/** One progress report of the fetcher. */
export interface FetchProgressLike {
  label: string;
  done: number;
  total?: number;
  rate?: number;
  phase?: string;
}

/** One fetched source. */
export interface FetchResultLike {
  path: string;
  bytes: number;
  fromCache: boolean;
  /** Digests computed for the file, by algorithm. */
  checksums?: object;
  /** What extraction did; its `scan` when every member passed the checks. */
  extracted?: { scan?: ArchiveScan };
}

/** The real stage functions of the composed packages. */
export const DEFAULT_STAGES: Stages = {
  parsePkgbuild: (text, opts) => parsePkgbuild(text, opts),
  lintPkgbuild: (input, opts) => lintPkgbuild(input, opts),
  inspectPkgbuild: (path, opts) => inspectPkgbuild(path, opts),
  fetchSources: (opts) => fetchSources(opts),
  runPkgbuild: (opts) => runPkgbuild(opts),
};

/** Load the real stage functions (kept async for callers that lazy-load). */
export function loadStages(): Promise<Stages> {
  return Promise.resolve(DEFAULT_STAGES);
}
