import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import type { OutputStream } from '../output.js';
import type { ProvisionEvent, WorkerBinary } from '../provision-event.js';
import { LiveReporter } from './live-reporter.js';
import { NdjsonReporter } from './ndjson-reporter.js';
import { PlainReporter } from './plain-reporter.js';

class Capture implements OutputStream {
  text = '';
  isTTY: boolean;
  columns = 100;
  rows = 40;
  constructor(tty: boolean) {
    this.isTTY = tty;
  }
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

const worker: WorkerBinary = {
  id: 'demo-worker-rbee',
  workerType: 'cpu',
  platform: 'linux',
  path: '/h/workers/demo-worker-rbee/0.1.0-1/usr/bin/demo-worker-rbee',
  size: 1000,
  status: 'installed',
  version: '0.1.0-1',
  addedAt: '2026-01-01T00:00:00.000Z',
  supportedArchitectures: [],
  supportedFormats: ['gguf'],
  maxContextLength: 0,
  supportsStreaming: false,
  supportsBatching: false,
  pkgname: 'demo-worker-rbee',
  pkgver: '0.1.0',
  arch: 'x86_64',
  installDir: '/h/workers/demo-worker-rbee/0.1.0-1',
  current: true,
};

function events(): ProvisionEvent[] {
  let seq = 0;
  const e = (x: Record<string, unknown>, ts: number) => ({ v: 1, seq: ++seq, ts, jobId: 'job1', ...x }) as ProvisionEvent;
  return [
    e({ type: 'phase', phase: 'resolve', status: 'start' }, 1000),
    e({ type: 'phase', phase: 'resolve', status: 'done', durationMs: 5 }, 1005),
    e({ type: 'phase', phase: 'fetch', status: 'start' }, 1005),
    e({ type: 'progress', phase: 'fetch', unit: 'bytes', current: 0, total: 2_000_000, label: 'w.tar.gz' }, 1010),
    e({ type: 'progress', phase: 'fetch', unit: 'bytes', current: 1_000_000, total: 2_000_000, label: 'w.tar.gz' }, 1510),
    e({ type: 'progress', phase: 'fetch', unit: 'bytes', current: 1_500_000, total: 2_000_000, label: 'w.tar.gz' }, 1700),
    e({ type: 'progress', phase: 'fetch', unit: 'bytes', current: 2_000_000, total: 2_000_000, label: 'w.tar.gz' }, 2100),
    e({ type: 'phase', phase: 'fetch', status: 'done', durationMs: 1100 }, 2105),
    e({ type: 'warning', code: 'W_TEST', message: 'a warning' }, 2106),
    e({ type: 'phase', phase: 'build', status: 'start' }, 2200),
    e({ type: 'log', phase: 'build', stream: 'stdout', line: '\u001b[32mcc -c a.c\u001b[0m' }, 2300),
    e({ type: 'log', phase: 'build', stream: 'stderr', line: 'warning: unused' }, 2400),
  ];
}

describe('PlainReporter', () => {
  it('writes append-only lines without escape codes, progress at most once a second, summary on the result stream', () => {
    const err = new Capture(false);
    const out = new Capture(false);
    const r = new PlainReporter(err, pc.createColors(false), { title: 'Installing demo', result: out, resultColors: pc.createColors(false) });
    for (const e of events()) r.event(e);
    r.finish({ kind: 'done', worker, durationMs: 1234, alreadyInstalled: false });
    expect(err.text).not.toMatch(/\u001b/);
    expect(err.text).toContain('==> fetch\n');
    expect(err.text).toContain('  -> resolve done (5ms)\n');
    expect(err.text).toContain('build | cc -c a.c\n');
    expect(err.text).toContain('warning: W_TEST a warning\n');
    // 0 B (first), 1.0 MB (≥1 s later? no: 500 ms → skipped), 1.5 MB skipped, 2.0 MB (complete)
    expect(err.text.match(/w\.tar\.gz/g)).toHaveLength(2);
    expect(err.text).toContain('w.tar.gz 2.0 MB / 2.0 MB (100%)');
    expect(out.text).toBe(`✔ installed demo-worker-rbee 0.1.0-1 (cpu) → ${worker.path} in 1.2s\n`);
  });

  it('ends a failure with the message, the hint, the collected log tail and the log path', () => {
    const err = new Capture(false);
    const out = new Capture(false);
    const r = new PlainReporter(err, pc.createColors(false), { title: 't', result: out, resultColors: pc.createColors(false) });
    for (const e of events()) r.event(e);
    r.finish({ kind: 'error', error: { code: 'E_BUILD_FAILED', message: 'build() failed', hint: 'fix it', logFile: '/x/build.log' } });
    expect(err.text).toContain('✖ error E_BUILD_FAILED build() failed\n  hint: fix it\n  last 2 log lines:\n  │ cc -c a.c\n  │ warning: unused\n  full log: /x/build.log\n');
    expect(out.text).toBe('');
  });
});

describe('LiveReporter', () => {
  it('draws phases, a progress bar with rate and ETA, the build log tail, then a final frame and the summary', () => {
    const err = new Capture(true);
    const out = new Capture(true);
    let now = 0;
    const r = new LiveReporter(err, pc.createColors(false), { title: 'Installing demo', result: out, resultColors: pc.createColors(false), animate: false, now: () => now });
    const evs = events();
    for (const e of evs.slice(0, 6)) r.event(e);
    now = 1700;
    r.render();
    const frame1 = err.text;
    expect(frame1).toContain('✔ resolve  5ms');
    expect(frame1).toMatch(/w\.tar\.gz {2}█{15}░{5} {2}1\.5 MB \/ 2\.0 MB {2}2\.2 MB\/s {2}ETA 230ms/);
    for (const e of evs.slice(6)) r.event(e);
    now = 2600;
    r.render();
    const frame2 = err.text.slice(frame1.length);
    expect(frame2.startsWith('\u001b[')).toBe(true); // moves up over the previous frame
    expect(frame2).toContain('⚠ warning W_TEST a warning');
    expect(frame2).toContain('    │ cc -c a.c');
    expect(frame2).toContain('build    400ms');
    expect(frame2).not.toContain('w.tar.gz');
    r.finish({ kind: 'done', worker, durationMs: 3000, alreadyInstalled: false });
    expect(err.text.endsWith('\u001b[?25h')).toBe(true);
    expect(out.text).toBe(`✔ installed demo-worker-rbee 0.1.0-1 (cpu) → ${worker.path} in 3.0s\n`);
  });

  it('keeps every line within the terminal width', () => {
    const err = new Capture(true);
    err.columns = 30;
    const r = new LiveReporter(err, pc.createColors(false), { title: 't', result: new Capture(true), resultColors: pc.createColors(false), animate: false });
    for (const e of events()) r.event(e);
    r.event({ v: 1, seq: 99, ts: 2500, jobId: 'job1', type: 'log', phase: 'build', stream: 'stdout', line: 'x'.repeat(200) });
    r.render();
    // eslint-disable-next-line no-control-regex
    const lines = err.text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').split('\n');
    for (const l of lines) expect([...l].length).toBeLessThan(30);
  });
});

describe('NdjsonReporter', () => {
  it('writes each event as one JSON line and closes a stream that had no terminal event with an error event', () => {
    const out = new Capture(false);
    const err = new Capture(false);
    const r = new NdjsonReporter(out, err, pc.createColors(false), 'job1');
    const evs = events();
    for (const e of evs) r.event(e);
    r.finish({ kind: 'error', error: { code: 'E_X', message: 'boom' } });
    const lines = out.text.trimEnd().split('\n').map((l) => JSON.parse(l) as ProvisionEvent);
    expect(lines.slice(0, evs.length)).toEqual(evs);
    expect(lines.at(-1)).toMatchObject({ v: 1, type: 'error', seq: evs.length + 1, jobId: 'job1', error: { code: 'E_X', message: 'boom' } });
    expect(err.text).toContain('E_X boom');
  });
});
