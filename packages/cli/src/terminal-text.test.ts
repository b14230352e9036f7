import { describe, expect, it } from 'vitest';
import { sanitizeLine, stripAnsi, truncate, visibleWidth } from './terminal-text.js';
import { formatBytes, formatDuration, progressBar } from './units.js';

describe('terminal text', () => {
  it('strips colour and cursor escapes and control characters from build output', () => {
    expect(sanitizeLine('\u001b[1;32mok\u001b[0m\tdone\u0007')).toBe('ok    done');
    expect(sanitizeLine('10%\r50%\r100%')).toBe('100%');
    expect(sanitizeLine('\u001b]0;title\u0007text\u001b[2K')).toBe('text');
    expect(stripAnsi('\u001b[31mred\u001b[39m')).toBe('red');
  });

  it('cuts to a width, counting visible cells only and keeping colour resets', () => {
    const red = '\u001b[31mabcdefghij\u001b[39m';
    expect(visibleWidth(red)).toBe(10);
    const cut = truncate(red, 5);
    expect(stripAnsi(cut)).toBe('abcd…');
    expect(cut.endsWith('\u001b[39m')).toBe(true);
    expect(truncate('short', 10)).toBe('short');
  });

  it('formats sizes, durations and bars', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1_234_567)).toBe('1.2 MB');
    expect(formatDuration(45)).toBe('45ms');
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(83_000)).toBe('1m23s');
    expect(progressBar(0.5, 10)).toBe('█████░░░░░');
    expect(progressBar(2, 4)).toBe('████');
  });
});
