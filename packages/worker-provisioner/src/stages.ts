/**
 * The parts of the four composed packages the provisioner uses, as structural types. The real
 * implementations are loaded on first use; tests and embedders may pass their own.
 */
import type { Diagnostic, Pkgbuild } from '@rbee/pkgbuild-parser';

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
    onProgress?: (p: FetchProgressLike) => void;
  }): Promise<FetchResultLike[]>;
  runPkgbuild(opts: {
    pkgbuildPath: string;
    startdir: string;
    srcdir: string;
    pkgdir: string;
    functions?: string[];
    skipCheck?: boolean;
    env?: Record<string, string>;
    sandbox?: SandboxMode;
    network?: boolean;
    fakeroot?: boolean | 'auto';
    signal?: AbortSignal;
    onLine?: (line: BuildLine) => void;
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
  [key: string]: unknown;
}

let loaded: Promise<Stages> | undefined;

/** Load the real stage functions from the composed packages (once). */
export function loadStages(): Promise<Stages> {
  loaded ??= (async () => {
    const [parser, executor, fetcher] = await Promise.all([
      import('@rbee/pkgbuild-parser') as Promise<unknown>,
      import('@rbee/pkgbuild-executor') as Promise<unknown>,
      import('@rbee/source-fetcher') as Promise<unknown>,
    ]);
    const p = parser as Pick<Stages, 'parsePkgbuild' | 'lintPkgbuild'>;
    const e = executor as Pick<Stages, 'inspectPkgbuild' | 'runPkgbuild'>;
    const f = fetcher as Pick<Stages, 'fetchSources'>;
    return {
      // a parser build without the static evaluator: everything goes through bash (inspect)
      parsePkgbuild:
        typeof p.parsePkgbuild === 'function'
          ? p.parsePkgbuild
          : (_text, opts) => ({
              pkgbuild: { pkgbase: '', pkgname: [], vars: {}, packages: [], functions: [], unknown: ['pkgname'], carch: opts.carch },
              diagnostics: [],
              isStatic: false,
            }),
      lintPkgbuild: typeof p.lintPkgbuild === 'function' ? p.lintPkgbuild : () => [],
      inspectPkgbuild: e.inspectPkgbuild,
      runPkgbuild: e.runPkgbuild,
      fetchSources: f.fetchSources,
    };
  })();
  return loaded;
}
