/**
 * Worker ids, specs (`id[@version]`), local-source file names and the host's platform/arch:
 * everything that is checked before a URL or a path is built from caller input.
 */
import { CatalogError } from './errors.js';
import { BACKENDS, WORKER_ID_PATTERN, type Arch, type Backend, type Platform } from './schema.js';

/** A parsed `id[@version]` spec. */
export interface WorkerSpec {
  /** The id part (validated). */
  id: string;
  /** The version after `@`, if any. */
  version: string | undefined;
}

const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+~:-]*$/;

/** Throws `E_INVALID_WORKER_ID` unless `id` matches `^[a-z0-9][a-z0-9._+-]*$` (and is at most 128 chars). */
export function assertWorkerId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length > 128 || !WORKER_ID_PATTERN.test(id)) {
    const shown = typeof id === 'string' ? JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}…` : id) : String(id);
    throw new CatalogError(
      'E_INVALID_WORKER_ID',
      `invalid worker id ${shown}: ids are lowercase letters, digits and . _ + - (starting with a letter or digit), e.g. "llm-worker-rbee"`,
      { workerId: typeof id === 'string' ? id : undefined },
    );
  }
}

/** Parses `llm-worker-rbee`, `llm-worker-rbee-cpu`, `llm-worker-rbee@0.2.0`; throws `E_INVALID_WORKER_ID`. */
export function parseWorkerSpec(spec: string): WorkerSpec {
  if (typeof spec !== 'string') assertWorkerId(spec);
  const at = spec.lastIndexOf('@');
  const id = at > 0 ? spec.slice(0, at) : spec;
  const version = at > 0 ? spec.slice(at + 1) : undefined;
  assertWorkerId(id);
  if (version !== undefined && (version.length > 64 || !VERSION_PATTERN.test(version))) {
    throw new CatalogError(
      'E_INVALID_WORKER_ID',
      `invalid version in worker spec ${JSON.stringify(spec)}: write it as <id>@<version>, e.g. "llm-worker-rbee@0.1.0"`,
      { workerId: spec },
    );
  }
  return { id, version };
}

/** Splits `llm-worker-rbee-cpu` into `{ base: 'llm-worker-rbee', backend: 'cpu' }`, or undefined. */
export function splitBackendSuffix(id: string): { base: string; backend: Backend } | undefined {
  for (const backend of BACKENDS) {
    const suffix = `-${backend}`;
    if (id.endsWith(suffix) && id.length > suffix.length) return { base: id.slice(0, -suffix.length), backend };
  }
  return undefined;
}

/** Throws `E_INVALID_FILE_NAME` unless `name` is a plain file name (no `/`, `\`, `..`, leading `-`, NUL). */
export function assertFileName(name: unknown): asserts name is string {
  const ok =
    typeof name === 'string' &&
    name.length > 0 &&
    name.length <= 255 &&
    name !== '.' &&
    name !== '..' &&
    !name.startsWith('-') &&
    !/[/\\\0]/.test(name);
  if (!ok) {
    throw new CatalogError(
      'E_INVALID_FILE_NAME',
      `invalid local source name ${JSON.stringify(String(name))}: a PKGBUILD's local sources are plain file names next to it (no "/", "..", leading "-" or NUL)`,
    );
  }
}

/** The host's platform in catalog terms (`linux`, `macos`, `windows`), or undefined for others. */
export function hostPlatform(): Platform | undefined {
  switch (process.platform) {
    case 'linux':
      return 'linux';
    case 'darwin':
      return 'macos';
    case 'win32':
      return 'windows';
    default:
      return undefined;
  }
}

/** The host's CPU architecture in catalog terms (`x86_64`, `aarch64`), or undefined for others. */
export function hostArch(): Arch | undefined {
  switch (process.arch) {
    case 'x64':
      return 'x86_64';
    case 'arm64':
      return 'aarch64';
    default:
      return undefined;
  }
}
