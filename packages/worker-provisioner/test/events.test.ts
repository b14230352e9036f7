import { describe, expect, it } from 'vitest';
import { isProvisionEvent, PROVISION_EVENT_SCHEMA, PROVISION_PHASES } from '../src/events.js';
import { JobReporter } from '../src/job-reporter.js';
import type { ProvisionEvent } from '../src/events.js';

const worker = {
  id: 'demo-worker-rbee', workerType: 'cpu', platform: 'linux', path: '/h/workers/demo/0.1.0-1/usr/bin/demo', size: 10,
  status: 'installed', version: '0.1.0-1', addedAt: '2026-11-27T00:00:00.000Z', supportedArchitectures: [],
  supportedFormats: ['gguf'], maxContextLength: 4096, supportsStreaming: false, supportsBatching: false,
};

describe('isProvisionEvent', () => {
  const base = { v: 1, seq: 1, ts: 1, jobId: 'j' };
  it('accepts every event type', () => {
    const good = [
      { ...base, type: 'phase', phase: 'build', status: 'skipped', reason: 'no build()' },
      { ...base, type: 'progress', phase: 'fetch', unit: 'bytes', current: 5, total: 10, rate: 2, label: 'a.tar.gz' },
      { ...base, type: 'log', phase: 'package', stream: 'stderr', line: 'x' },
      { ...base, type: 'warning', code: 'W_X', message: 'm' },
      { ...base, workerId: 'demo', type: 'done', worker, durationMs: 3, alreadyInstalled: true },
      { ...base, type: 'error', error: { code: 'E_FUNCTION_FAILED', message: 'm', logFile: '/l', logTail: ['a'] } },
    ];
    for (const e of good) expect(isProvisionEvent(e), JSON.stringify(e)).toBe(true);
  });
  it('rejects wrong shapes', () => {
    const bad = [
      null, [], { ...base, type: 'nope' },
      { ...base, v: 2, type: 'warning', code: 'W', message: 'm' },
      { ...base, seq: 0, type: 'warning', code: 'W', message: 'm' },
      { ...base, type: 'phase', phase: 'compile', status: 'start' },
      { ...base, type: 'progress', phase: 'fetch', unit: 'bytes', current: -1 },
      { ...base, type: 'error', error: new Error('raw') },
      { ...base, type: 'done', worker: { ...worker, workerType: 'tpu' }, durationMs: 1 },
    ];
    for (const e of bad) expect(isProvisionEvent(e), JSON.stringify(e)).toBe(false);
  });
  it('the JSON schema names the same phases and event types', () => {
    const types = PROVISION_EVENT_SCHEMA.oneOf.map((s) => s.properties.type.const);
    expect(types).toEqual(['phase', 'progress', 'log', 'warning', 'done', 'error']);
    expect(PROVISION_EVENT_SCHEMA.oneOf[0].properties.phase.enum).toEqual([...PROVISION_PHASES]);
    expect(JSON.parse(JSON.stringify(PROVISION_EVENT_SCHEMA))).toEqual(PROVISION_EVENT_SCHEMA);
  });
});

describe('JobReporter', () => {
  it('numbers events from 1, throttles progress per label and always emits the final one', () => {
    let t = 1000;
    const r = new JobReporter('job1', () => t);
    const seen: ProvisionEvent[] = [];
    r.subscribe((e) => seen.push(e));
    r.subscribe(() => {
      throw new Error('a faulty listener does not break the job');
    });
    r.phaseStart('fetch');
    for (let i = 1; i <= 10; i++) {
      t += 50;
      r.progress('fetch', 'bytes', 'a', i * 100, 1000);
    }
    r.progress('fetch', 'bytes', 'b', 1, 10);
    t += 10;
    r.progress('fetch', 'bytes', 'b', 5, 10);
    r.phaseDone('fetch');
    r.emit({ type: 'warning', code: 'W', message: 'm' });
    r.emit({ type: 'error', error: { code: 'E', message: 'x' } });
    r.emit({ type: 'warning', code: 'W', message: 'after the end' });
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.every(isProvisionEvent)).toBe(true);
    const a = seen.filter((e) => e.type === 'progress' && e.label === 'a');
    expect(a.length).toBeLessThan(10);
    expect(a.at(-1)).toMatchObject({ current: 1000, total: 1000 });
    const gaps = a.slice(1).map((e, i) => e.ts - (a[i] as ProvisionEvent).ts);
    expect(gaps.slice(0, -1).every((g) => g >= 200)).toBe(true);
    // b's throttled sample is flushed when the phase ends
    expect(seen.filter((e) => e.type === 'progress' && e.label === 'b').map((e) => (e as { current: number }).current)).toEqual([1, 5]);
    expect(seen.at(-1)?.type).toBe('error');
  });
});
