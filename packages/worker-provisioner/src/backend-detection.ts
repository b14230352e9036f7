import { access, constants, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { WorkerPlatform, WorkerType } from './types.js';

/** What backend detection looks at; every part is injectable for tests. */
export interface BackendProbe {
  /** Operating system. @default the current one */
  platform?: WorkerPlatform;
  /** CPU architecture (`x86_64`, `aarch64`). @default the current one */
  arch?: string;
  /** PATH to search for `nvidia-smi` / `rocminfo`. @default process.env.PATH */
  path?: string;
  /** Prefix for the absolute paths checked (`/proc/driver/nvidia`, `/opt/rocm`). @default '' */
  root?: string;
}

/** The current machine's platform in rbee's terms. */
export function hostPlatform(p: NodeJS.Platform = process.platform): WorkerPlatform {
  if (p === 'darwin') return 'macos';
  if (p === 'win32') return 'windows';
  return 'linux';
}

/** The current CPU architecture in makepkg's terms (`CARCH`). */
export function hostArch(a: string = process.arch): string {
  if (a === 'x64') return 'x86_64';
  if (a === 'arm64') return 'aarch64';
  if (a === 'ia32') return 'i686';
  if (a === 'arm') return 'armv7h';
  return a;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function onPath(name: string, pathVar: string | undefined): Promise<boolean> {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      await access(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}

/**
 * Detect the best backend for this machine: `nvidia-smi` on PATH or `/proc/driver/nvidia` →
 * `cuda`; `rocminfo` on PATH or `/opt/rocm` → `rocm`; macOS on arm64 → `metal`; else `cpu`.
 *
 * @example
 * ```ts
 * await detectBackend() // 'cpu' on a machine without a GPU
 * ```
 */
export async function detectBackend(probe: BackendProbe = {}): Promise<WorkerType> {
  const platform = probe.platform ?? hostPlatform();
  const arch = probe.arch ?? hostArch();
  const path = probe.path ?? process.env.PATH;
  const root = probe.root ?? '';
  if (platform !== 'macos') {
    if ((await onPath('nvidia-smi', path)) || (await exists(`${root}/proc/driver/nvidia`))) return 'cuda';
    if ((await onPath('rocminfo', path)) || (await exists(`${root}/opt/rocm`))) return 'rocm';
  }
  if (platform === 'macos' && arch === 'aarch64') return 'metal';
  return 'cpu';
}
