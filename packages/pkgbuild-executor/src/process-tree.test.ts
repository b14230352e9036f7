import { describe, expect, it } from 'vitest';
import { FieldReader, LineSplitter } from './process-tree.js';

describe('LineSplitter', () => {
  it('splits on \\n, \\r\\n and lone \\r, across chunk boundaries and inside UTF-8 characters', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    const bytes = Buffer.from('a\r\nb\rprogress 50%\rprogress 100%\nsnow ☃ man\r', 'utf8');
    const snow = bytes.indexOf(Buffer.from('☃'));
    // cut inside \r\n and inside the 3-byte snowman
    for (const [from, to] of [[0, 2], [2, snow + 1], [snow + 1, bytes.length]] as const) s.push(bytes.subarray(from, to));
    s.push(Buffer.from('\nlast'));
    s.end();
    expect(lines).toEqual(['a', 'b', 'progress 50%', 'progress 100%', 'snow ☃ man', 'last']);
  });

  it('cuts overlong lines instead of buffering without bound', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l), 10);
    s.push(Buffer.from('x'.repeat(25)));
    s.end();
    expect(lines).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
  });
});

describe('FieldReader', () => {
  it('reassembles NUL-terminated fields split across chunks, keeping every other byte', () => {
    const r = new FieldReader();
    const data = Buffer.from('V\0name\0multi\nline\ttab\x01\0\0end\0');
    for (let i = 0; i < data.length; i += 3) r.push(data.subarray(i, i + 3));
    expect(r.fields).toEqual(['V', 'name', 'multi\nline\ttab\x01', '', 'end']);
  });
});
