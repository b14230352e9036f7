/**
 * Lexer helpers: `$'…'` decoding (checked against bash) and offset → line/column mapping.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LineMap, decodeAnsiC } from './lexer.js';

describe("decodeAnsiC ($'…')", () => {
  const samples = ['a\\tb\\nc', '\\x41\\x4a\\101\\0101', "q\\'s\\\"d\\\\", '\\e[0m\\a\\v\\f\\r', '\\cA\\c?x', '\\u00e9\\U0001F600', 'stop\\x00here', 'bad\\q\\x'];
  it.each(samples)('%s decodes as bash does (UTF-8 and C locales)', (raw) => {
    for (const [locale, cLocale] of [['C.UTF-8', false], ['C', true]] as const) {
      const r = spawnSync('bash', ['-c', `printf '%s' $'${raw}'`], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', LC_ALL: locale } });
      expect(decodeAnsiC(raw, cLocale), locale).toBe(r.stdout);
    }
  });
});

describe('LineMap', () => {
  it('maps offsets to 1-based lines and columns, in any order', () => {
    const m = new LineMap('ab\ncd\n\nx');
    expect(m.position(0)).toEqual({ line: 1, column: 1, offset: 0 });
    expect(m.position(4)).toEqual({ line: 2, column: 2, offset: 4 });
    expect(m.position(6)).toEqual({ line: 3, column: 1, offset: 6 });
    expect(m.position(2)).toEqual({ line: 1, column: 3, offset: 2 });
    expect(m.position(8)).toEqual({ line: 4, column: 2, offset: 8 });
    expect(m.range(3, 5)).toEqual({ start: { line: 2, column: 1, offset: 3 }, end: { line: 2, column: 3, offset: 5 } });
  });
});
