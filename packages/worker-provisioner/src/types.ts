import type { ProvisionEvent } from './events.js';

/** The compute backend a worker binary is built for. */
export type WorkerType = 'cpu' | 'cuda' | 'metal' | 'rocm';

/** The operating system a worker binary runs on. */
export type WorkerPlatform = 'linux' | 'macos' | 'windows';

/**
 * State of an installed worker: `installed` when its executable is present, `broken` when the
 * manifest is there but the executable has gone (run `verify()` for details).
 */
export type WorkerStatus = 'installed' | 'broken';

/**
 * An installed worker, as rbee's hive contract describes it. JSON-safe.
 *
 * Fields beyond the contract (`pkgname`, `catalogId`, `installDir`, …) are additions; the
 * contract fields keep their names and meaning.
 */
export interface WorkerBinary {
  /** The worker's id in the workers home: its package name (`demo-worker-rbee-bin`). */
  id: string;
  /** Backend of the installed variant. */
  workerType: WorkerType;
  /** Platform it was installed for. */
  platform: WorkerPlatform;
  /** Absolute path of the worker's executable. */
  path: string;
  /** Total size in bytes of the installed files. */
  size: number;
  /** `installed`, or `broken` when the executable is missing. */
  status: WorkerStatus;
  /** Full version `[epoch:]pkgver-pkgrel` (`0.1.0-1`). */
  version: string;
  /** When it was installed (ISO 8601). */
  addedAt: string;
  /** Model architectures the worker serves (from the catalog's capabilities). */
  supportedArchitectures: string[];
  /** Model formats the worker reads (`gguf`, `safetensors`, …). */
  supportedFormats: string[];
  /** Largest context the worker supports (0 when unknown). */
  maxContextLength: number;
  /** Whether the worker streams tokens. */
  supportsStreaming: boolean;
  /** Whether the worker batches requests. */
  supportsBatching: boolean;
  /** Package name (same as `id`). */
  pkgname: string;
  /** `pkgver` alone (without epoch and pkgrel). */
  pkgver: string;
  /** Catalog id the worker was installed from, when it came from a catalog. */
  catalogId?: string;
  /** CPU architecture it was built for (`x86_64`, `aarch64`). */
  arch: string;
  /** The version directory `workers/<pkgname>/<fullver>`. */
  installDir: string;
  /** True when this version is the one `workers/<pkgname>/current` points at. */
  current: boolean;
}

/** A progress/event callback. Must not throw (exceptions are ignored). */
export type ProvisionEventListener = (event: ProvisionEvent) => void;

/** Options of {@link ArtifactProvisioner.provision} / `WorkerProvisioner.provision`. */
export interface ProvisionOptions {
  /**
   * Job id used in events, in `builds/<jobId>` and in errors. Must match `^[A-Za-z0-9._-]{1,64}$`.
   * @default a random id
   */
  jobId?: string;
  /** Cancels the install at any phase: rejects with an `AbortError`, nothing half-installed stays. */
  signal?: AbortSignal;
  /** Receives every {@link ProvisionEvent} of the job, in `seq` order. */
  onEvent?: ProvisionEventListener;
  /**
   * Backend to install; `auto` (or absent) detects it (`nvidia-smi` → cuda, `rocminfo` → rocm,
   * macOS arm64 → metal, else cpu).
   * @default 'auto'
   */
  backend?: WorkerType | 'auto';
  /** Build from source (`git`/`source` flavor) instead of the prebuilt `bin` variant. @default false */
  fromSource?: boolean;
  /** Rebuild and reinstall even when the same version is already installed. @default false */
  force?: boolean;
}

/** Options of `WorkerProvisioner.installFromDirectory`. */
export interface InstallFromDirectoryOptions extends Omit<ProvisionOptions, 'backend' | 'fromSource'> {
  /** Backend the built worker is recorded as. @default the detected backend */
  backend?: WorkerType | 'auto';
  /** Capabilities recorded for the worker (no catalog entry to read them from). */
  capabilities?: Partial<Pick<WorkerBinary, 'supportedArchitectures' | 'supportedFormats' | 'maxContextLength' | 'supportsStreaming' | 'supportsBatching'>>;
  /** Name of the executable inside the package (otherwise: the file in a `bin` dir). */
  binaryName?: string;
}

/** Options of `WorkerProvisioner.remove`. */
export interface RemoveOptions {
  /** Remove only this version (full version or pkgver); otherwise every version. */
  version?: string;
}

/** What `verify()` found. */
export interface VerifyReport {
  /** The worker id (package name). */
  id: string;
  /** The version verified. */
  version: string;
  /** True when nothing changed, went missing or appeared. */
  ok: boolean;
  /** Files whose content, size, type or link target differ from the manifest. */
  changed: string[];
  /** Files in the manifest that are gone. */
  missing: string[];
  /** Files present that the manifest does not list. */
  extra: string[];
  /** Number of entries checked. */
  checked: number;
}

/**
 * Something that makes an artifact available locally (rbee's hive contract). The worker
 * provisioner implements it for worker binaries.
 */
export interface ArtifactProvisioner<T> {
  /** Make the artifact `id` available, returning its record. */
  provision(id: string, opts?: ProvisionOptions): Promise<T>;
  /** Whether this provisioner can provision `id`. */
  supports(id: string): Promise<boolean> | boolean;
}
