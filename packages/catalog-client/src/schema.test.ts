import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CatalogError } from './errors.js';
import { isSafeCatalogUrl, readWorker, readWorkerList } from './schema.js';

const variant = { backend: 'cpu', platforms: ['linux'], architectures: ['x86_64'], pkgbuildUrl: 'workers/w/cpu/PKGBUILD' };
const worker = { id: 'w', name: 'W', version: '1', description: 'd', variants: [variant] };

function issuesOf(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    expect(CatalogError.isInstance(e)).toBe(true);
    expect((e as CatalogError).code).toBe('E_CATALOG_RESPONSE');
    return (e as CatalogError).issues?.map((i) => i.path) ?? [];
  }
  throw new Error('expected E_CATALOG_RESPONSE');
}

describe('readWorker', () => {
  it('ignores unknown fields and fills list defaults', () => {
    const w = readWorker({ ...worker, marketplaceCompatibility: { x: 1 }, variants: [{ ...variant, homebrewFormula: 'x.rb' }] }, 'u');
    expect(w).not.toHaveProperty('marketplaceCompatibility');
    expect(w.variants[0]).not.toHaveProperty('homebrewFormula');
    expect(w.variants[0]?.depends).toEqual([]);
    expect(w.variants[0]?.makedepends).toEqual([]);
  });

  it('names the path of wrong and missing fields', () => {
    expect(issuesOf(() => readWorker({ ...worker, version: 3 }, 'u'))).toEqual(['version']);
    expect(issuesOf(() => readWorker({ ...worker, variants: [{ ...variant, architectures: ['i686'] }] }, 'u'))).toEqual(['variants[0].architectures[0]']);
    expect(issuesOf(() => readWorker({ ...worker, variants: [] }, 'u'))).toEqual(['variants']);
    expect(issuesOf(() => readWorker({ ...worker, capabilities: { supportedFormats: 'gguf', supportsStreaming: true, supportsBatching: false } }, 'u'))).toEqual([
      'capabilities.supportedFormats',
    ]);
    expect(issuesOf(() => readWorker({ ...worker, variants: [{ ...variant, binaryName: '../../bin/sh' }] }, 'u'))).toEqual(['variants[0].binaryName']);
    expect(issuesOf(() => readWorker('nope', 'u'))).toEqual(['']);
  });

  it('accepts an older flat entry as a one-variant worker', () => {
    const w = readWorker(
      { id: 'llm-worker-rbee-cuda', version: '0.1.0', platforms: ['linux'], architectures: ['x86_64'], pkgbuildUrl: '/pkgbuilds/cuda/PKGBUILD', depends: ['cuda'] },
      'u',
    );
    expect(w.name).toBe('llm-worker-rbee-cuda');
    expect(w.variants).toEqual([
      { backend: 'cuda', platforms: ['linux'], architectures: ['x86_64'], pkgbuildUrl: '/pkgbuilds/cuda/PKGBUILD', depends: ['cuda'], makedepends: [] },
    ]);
    expect(readWorker({ id: 'x', version: '1', workerType: 'metal', platforms: ['macos'], architectures: ['aarch64'], pkgbuildUrl: 'p' }, 'u').variants[0]?.backend).toBe(
      'metal',
    );
    expect(issuesOf(() => readWorker({ id: 'plain', version: '1', platforms: ['linux'], architectures: ['x86_64'], pkgbuildUrl: 'p' }, 'u'))).toEqual(['workerType']);
  });
});

describe('readWorkerList', () => {
  it('prefixes issue paths with the list index', () => {
    expect(issuesOf(() => readWorkerList({ workers: [worker, { ...worker, id: 'Bad Id' }] }, 'u'))).toEqual(['workers[1].id']);
    expect(issuesOf(() => readWorkerList({ items: [] }, 'u'))).toEqual(['workers']);
  });

  it('never throws anything but E_CATALOG_RESPONSE on arbitrary JSON', () => {
    const runs = Number(process.env.FAST_CHECK_RUNS ?? 200);
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ workers: fc.array(fc.jsonValue(), { maxLength: 4 }) })), (value) => {
        try {
          const out = readWorkerList(value, 'u');
          expect(Array.isArray(out)).toBe(true);
        } catch (e) {
          expect((e as CatalogError).code).toBe('E_CATALOG_RESPONSE');
        }
      }),
      { numRuns: runs },
    );
  });
});

describe('isSafeCatalogUrl', () => {
  it.each([
    ['workers/x/cpu/PKGBUILD', true],
    ['/pkgbuilds/arch/x.PKGBUILD', true],
    ['https://cdn.example/x/PKGBUILD', true],
    ['workers/../../etc/passwd', false],
    ['workers/%2e%2e/x', false],
    ['workers/a%2fb', false],
    ['..', false],
    ['file:///etc/passwd', false],
    ['javascript:alert(1)', false],
    ['workers\\x', false],
    ['https://cdn.example/a/../../b', false],
  ])('%s → %s', (url, ok) => {
    expect(isSafeCatalogUrl(url)).toBe(ok);
  });
});
