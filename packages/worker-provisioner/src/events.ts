import type { WorkerBinary } from './types.js';

/** The phases of an install, in the order they run. */
export type ProvisionPhase =
  | 'resolve'
  | 'fetch'
  | 'verify'
  | 'extract'
  | 'prepare'
  | 'pkgver'
  | 'build'
  | 'check'
  | 'package'
  | 'install';

/** Every phase, in order. */
export const PROVISION_PHASES: readonly ProvisionPhase[] = Object.freeze([
  'resolve', 'fetch', 'verify', 'extract', 'prepare', 'pkgver', 'build', 'check', 'package', 'install',
]);

/** Fields every event carries. */
export interface ProvisionEventBase {
  /** Schema version. */
  v: 1;
  /** Per job, from 1, strictly increasing: usable as an SSE `id:`. */
  seq: number;
  /** Epoch milliseconds. */
  ts: number;
  /** The job this event belongs to. */
  jobId: string;
  /** The worker's package name, once known. */
  workerId?: string;
}

/** A phase started, finished, was skipped or failed. */
export interface ProvisionPhaseEvent extends ProvisionEventBase {
  type: 'phase';
  phase: ProvisionPhase;
  status: 'start' | 'done' | 'skipped' | 'failed';
  /** Duration of the phase (on `done`/`failed`). */
  durationMs?: number;
  /** Why a phase was skipped or failed. */
  reason?: string;
}

/** Progress of a phase (throttled: at most one per ~200 ms per label, plus a final one). */
export interface ProvisionProgressEvent extends ProvisionEventBase {
  type: 'progress';
  phase: ProvisionPhase;
  unit: 'bytes' | 'items';
  current: number;
  total?: number;
  /** Units per second. */
  rate?: number;
  /** The file name this progress is about. */
  label?: string;
}

/** One line of build output. */
export interface ProvisionLogEvent extends ProvisionEventBase {
  type: 'log';
  phase: ProvisionPhase;
  stream: 'stdout' | 'stderr';
  line: string;
}

/** Something worth knowing that does not stop the install. */
export interface ProvisionWarningEvent extends ProvisionEventBase {
  type: 'warning';
  code: string;
  message: string;
}

/** The job succeeded. The last event of a successful job. */
export interface ProvisionDoneEvent extends ProvisionEventBase {
  type: 'done';
  worker: WorkerBinary;
  durationMs: number;
  /** True when the version was already installed and nothing was rebuilt. */
  alreadyInstalled?: boolean;
}

/** JSON-safe description of a failure (never a raw Error object). */
export interface ProvisionEventError {
  code: string;
  message: string;
  hint?: string;
  logFile?: string;
  logTail?: string[];
}

/** The job failed or was cancelled (`code: 'ABORT_ERR'`). The last event of a failed job. */
export interface ProvisionErrorEvent extends ProvisionEventBase {
  type: 'error';
  error: ProvisionEventError;
}

/**
 * What a job reports: one JSON-safe schema for the library's `onEvent`, the CLI's `--json`
 * NDJSON and a hive's SSE stream. A job's events end with exactly one `done` or `error`.
 */
export type ProvisionEvent =
  | ProvisionPhaseEvent
  | ProvisionProgressEvent
  | ProvisionLogEvent
  | ProvisionWarningEvent
  | ProvisionDoneEvent
  | ProvisionErrorEvent;

const phaseEnum = { type: 'string', enum: [...PROVISION_PHASES] } as const;
const base = {
  v: { const: 1 },
  seq: { type: 'integer', minimum: 1 },
  ts: { type: 'number' },
  jobId: { type: 'string', minLength: 1 },
  workerId: { type: 'string' },
} as const;
const baseRequired = ['v', 'seq', 'ts', 'jobId', 'type'] as const;
const strArray = { type: 'array', items: { type: 'string' } } as const;

/** JSON Schema (draft 2020-12) of the `WorkerBinary` inside a `done` event. */
export const WORKER_BINARY_SCHEMA = {
  type: 'object',
  required: [
    'id', 'workerType', 'platform', 'path', 'size', 'status', 'version', 'addedAt',
    'supportedArchitectures', 'supportedFormats', 'maxContextLength', 'supportsStreaming', 'supportsBatching',
  ],
  properties: {
    id: { type: 'string', minLength: 1 },
    workerType: { type: 'string', enum: ['cpu', 'cuda', 'metal', 'rocm'] },
    platform: { type: 'string', enum: ['linux', 'macos', 'windows'] },
    path: { type: 'string', minLength: 1 },
    size: { type: 'number', minimum: 0 },
    status: { type: 'string', enum: ['installed', 'broken'] },
    version: { type: 'string', minLength: 1 },
    addedAt: { type: 'string' },
    supportedArchitectures: strArray,
    supportedFormats: strArray,
    maxContextLength: { type: 'number', minimum: 0 },
    supportsStreaming: { type: 'boolean' },
    supportsBatching: { type: 'boolean' },
  },
} as const;

/**
 * JSON Schema (draft 2020-12) of one {@link ProvisionEvent}. Unknown extra properties are
 * allowed (the schema only gains fields).
 */
export const PROVISION_EVENT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://rbee.dev/schemas/provision-event-v1.json',
  title: 'ProvisionEvent',
  oneOf: [
    {
      type: 'object',
      required: [...baseRequired, 'phase', 'status'],
      properties: {
        ...base,
        type: { const: 'phase' },
        phase: phaseEnum,
        status: { type: 'string', enum: ['start', 'done', 'skipped', 'failed'] },
        durationMs: { type: 'number', minimum: 0 },
        reason: { type: 'string' },
      },
    },
    {
      type: 'object',
      required: [...baseRequired, 'phase', 'unit', 'current'],
      properties: {
        ...base,
        type: { const: 'progress' },
        phase: phaseEnum,
        unit: { type: 'string', enum: ['bytes', 'items'] },
        current: { type: 'number', minimum: 0 },
        total: { type: 'number', minimum: 0 },
        rate: { type: 'number', minimum: 0 },
        label: { type: 'string' },
      },
    },
    {
      type: 'object',
      required: [...baseRequired, 'phase', 'stream', 'line'],
      properties: {
        ...base,
        type: { const: 'log' },
        phase: phaseEnum,
        stream: { type: 'string', enum: ['stdout', 'stderr'] },
        line: { type: 'string' },
      },
    },
    {
      type: 'object',
      required: [...baseRequired, 'code', 'message'],
      properties: { ...base, type: { const: 'warning' }, code: { type: 'string' }, message: { type: 'string' } },
    },
    {
      type: 'object',
      required: [...baseRequired, 'worker', 'durationMs'],
      properties: {
        ...base,
        type: { const: 'done' },
        worker: WORKER_BINARY_SCHEMA,
        durationMs: { type: 'number', minimum: 0 },
        alreadyInstalled: { type: 'boolean' },
      },
    },
    {
      type: 'object',
      required: [...baseRequired, 'error'],
      properties: {
        ...base,
        type: { const: 'error' },
        error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: { type: 'string', minLength: 1 },
            message: { type: 'string' },
            hint: { type: 'string' },
            logFile: { type: 'string' },
            logTail: strArray,
          },
        },
      },
    },
  ],
} as const;

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isNonNeg = (x: unknown): boolean => isNum(x) && x >= 0;
const optional = (x: unknown, check: (y: unknown) => boolean): boolean => x === undefined || check(x);
const isStrArray = (x: unknown): boolean => Array.isArray(x) && x.every(isStr);
const PHASE_SET = new Set<string>(PROVISION_PHASES);

/** Runtime check that `x` has the shape of a {@link WorkerBinary} (contract fields only). */
export function isWorkerBinary(x: unknown): x is WorkerBinary {
  if (!isObj(x)) return false;
  return (
    isStr(x.id) && x.id.length > 0 &&
    ['cpu', 'cuda', 'metal', 'rocm'].includes(x.workerType as string) &&
    ['linux', 'macos', 'windows'].includes(x.platform as string) &&
    isStr(x.path) && x.path.length > 0 &&
    isNonNeg(x.size) &&
    (x.status === 'installed' || x.status === 'broken') &&
    isStr(x.version) && x.version.length > 0 &&
    isStr(x.addedAt) &&
    isStrArray(x.supportedArchitectures) &&
    isStrArray(x.supportedFormats) &&
    isNonNeg(x.maxContextLength) &&
    typeof x.supportsStreaming === 'boolean' &&
    typeof x.supportsBatching === 'boolean'
  );
}

/**
 * Runtime validator for {@link ProvisionEvent}: the same rules as {@link PROVISION_EVENT_SCHEMA}.
 *
 * @example
 * ```ts
 * for (const line of ndjson.split('\n')) assert(isProvisionEvent(JSON.parse(line)))
 * ```
 */
export function isProvisionEvent(x: unknown): x is ProvisionEvent {
  if (!isObj(x)) return false;
  if (x.v !== 1 || !Number.isInteger(x.seq) || (x.seq as number) < 1 || !isNum(x.ts)) return false;
  if (!isStr(x.jobId) || x.jobId.length === 0 || !optional(x.workerId, isStr)) return false;
  switch (x.type) {
    case 'phase':
      return (
        PHASE_SET.has(x.phase as string) &&
        ['start', 'done', 'skipped', 'failed'].includes(x.status as string) &&
        optional(x.durationMs, isNonNeg) &&
        optional(x.reason, isStr)
      );
    case 'progress':
      return (
        PHASE_SET.has(x.phase as string) &&
        (x.unit === 'bytes' || x.unit === 'items') &&
        isNonNeg(x.current) &&
        optional(x.total, isNonNeg) &&
        optional(x.rate, isNonNeg) &&
        optional(x.label, isStr)
      );
    case 'log':
      return PHASE_SET.has(x.phase as string) && (x.stream === 'stdout' || x.stream === 'stderr') && isStr(x.line);
    case 'warning':
      return isStr(x.code) && isStr(x.message);
    case 'done':
      return isWorkerBinary(x.worker) && isNonNeg(x.durationMs) && optional(x.alreadyInstalled, (y) => typeof y === 'boolean');
    case 'error': {
      const e = x.error;
      return (
        isObj(e) &&
        isStr(e.code) && e.code.length > 0 &&
        isStr(e.message) &&
        optional(e.hint, isStr) &&
        optional(e.logFile, isStr) &&
        optional(e.logTail, isStrArray)
      );
    }
    default:
      return false;
  }
}
