// Local mirror of @rbee/worker-provisioner's ProvisionEvent until the package lands.
export type Phase = 'resolve' | 'fetch' | 'verify' | 'extract' | 'prepare' | 'pkgver' | 'build' | 'check' | 'package' | 'install';
export type WorkerBinary = Record<string, unknown>;
type Base = { v: 1; seq: number; ts: number; jobId: string; workerId?: string };
export type ProvisionEvent = Base &
  (
    | { type: 'phase'; phase: Phase; status: 'start' | 'done' | 'skipped' | 'failed'; durationMs?: number; reason?: string }
    | { type: 'progress'; phase: Phase; unit: 'bytes' | 'items'; current: number; total?: number; rate?: number; label?: string }
    | { type: 'log'; phase: Phase; stream: 'stdout' | 'stderr'; line: string }
    | { type: 'warning'; code: string; message: string }
    | { type: 'done'; worker: WorkerBinary; durationMs: number; alreadyInstalled?: boolean }
    | { type: 'error'; error: { code: string; message: string; hint?: string; logFile?: string; logTail?: string[] } }
  );
