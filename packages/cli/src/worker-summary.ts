import type { WorkerBinary } from './provision-event.js';

function str(o: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string' && v) return v;
  }
  return undefined;
}

/** The fields of a `WorkerBinary` the CLI prints. */
export interface WorkerSummary {
  id: string;
  version: string | undefined;
  backend: string | undefined;
  dir: string | undefined;
  binary: string | undefined;
}

/** Picks the printable fields out of a `WorkerBinary`. */
export function summarizeWorker(worker: WorkerBinary): WorkerSummary {
  const w = worker as unknown as Record<string, unknown>;
  return {
    id: str(w, 'id', 'pkgname', 'name') ?? '?',
    version: str(w, 'version', 'fullver', 'pkgver'),
    backend: str(w, 'workerType', 'backend'),
    dir: str(w, 'installDir'),
    binary: str(w, 'path', 'binPath'),
  };
}
