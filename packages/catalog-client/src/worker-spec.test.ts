import { describe, expect, it } from 'vitest';
import { assertFileName, assertWorkerId, parseWorkerSpec, splitBackendSuffix } from './worker-spec.js';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe('worker specs', () => {
  it('parses id, id@version and rejects malformed ones', () => {
    expect(parseWorkerSpec('llm-worker-rbee')).toEqual({ id: 'llm-worker-rbee', version: undefined });
    expect(parseWorkerSpec('llm-worker-rbee-cpu@0.2.0')).toEqual({ id: 'llm-worker-rbee-cpu', version: '0.2.0' });
    expect(parseWorkerSpec('x@1:2.0-3')).toEqual({ id: 'x', version: '1:2.0-3' });
    for (const bad of ['', 'A', '-x', '.x', 'x/y', 'x@', 'x@-1', 'x@1/2', '@1', 'x y', 'é', 'a'.repeat(129)]) {
      expect(codeOf(() => parseWorkerSpec(bad)), bad).toBe('E_INVALID_WORKER_ID');
    }
    expect(codeOf(() => assertWorkerId(42))).toBe('E_INVALID_WORKER_ID');
  });

  it('splits a backend suffix', () => {
    expect(splitBackendSuffix('llm-worker-rbee-cuda')).toEqual({ base: 'llm-worker-rbee', backend: 'cuda' });
    expect(splitBackendSuffix('llm-worker-rbee')).toBeUndefined();
    expect(splitBackendSuffix('-cpu')).toBeUndefined();
  });
});

describe('local source names', () => {
  it('accepts plain names only', () => {
    for (const ok of ['demo-worker.c', 'Makefile', 'a.tar.gz', 'x..y']) expect(codeOf(() => assertFileName(ok)), ok).toBeUndefined();
    for (const bad of ['', '.', '..', '../x', 'a/b', 'a\\b', '-rf', 'x\0', 'a'.repeat(256)]) {
      expect(codeOf(() => assertFileName(bad)), bad).toBe('E_INVALID_FILE_NAME');
    }
  });
});
