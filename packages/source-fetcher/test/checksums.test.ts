import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashFile, verifyChecksums, KNOWN_HASH_ALGOS } from '../src/index.js';
import { bytes, cleanupTempDirs, rejectionOf, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

const tools: Record<string, string> = { ck: 'cksum', md5: 'md5sum', sha1: 'sha1sum', sha224: 'sha224sum', sha256: 'sha256sum', sha384: 'sha384sum', sha512: 'sha512sum', b2: 'b2sum' };

function reference(alg: string, file: string): string {
  return execFileSync(tools[alg] as string, [file], { encoding: 'utf8' }).split(' ')[0] as string;
}

describe('checksums', () => {
  it.each([0, 9, 65_537, 9 * 1024 * 1024 + 3])('matches coreutils for every makepkg algorithm (%i bytes, one pass)', async (n) => {
    const d = await tempDir();
    const f = join(d, 'f.bin');
    writeFileSync(f, bytes(n, n + 1));
    const got = await hashFile(f, [...KNOWN_HASH_ALGOS]);
    for (const alg of KNOWN_HASH_ALGOS) expect(got[alg], alg).toBe(reference(alg, f));
  });

  it('a large file is hashed on pooled threads: cancel stops them (AbortError) and the next file is right', async () => {
    const d = await tempDir();
    const f = join(d, 'big.bin');
    writeFileSync(f, bytes(64 * 1024 * 1024, 7));
    const ctrl = new AbortController();
    const p = hashFile(f, [...KNOWN_HASH_ALGOS], ctrl.signal);
    // well after the threads started (hashing 64 MiB with every algorithm takes several times that)
    setTimeout(() => ctrl.abort(), 50);
    const e = await rejectionOf(p);
    expect(e.name).toBe('AbortError');
    const small = join(d, 'f.bin');
    writeFileSync(small, bytes(9 * 1024 * 1024, 3));
    const got = await hashFile(small, ['sha256', 'b2', 'md5']);
    for (const alg of ['sha256', 'b2', 'md5']) expect(got[alg as 'sha256'], alg).toBe(reference(alg, small));
  });

  it('verifyChecksums: SKIP passes, case is ignored, a mismatch names the algorithm', async () => {
    const d = await tempDir();
    const f = join(d, 'f');
    writeFileSync(f, 'hello\n');
    const sha = reference('sha256', f);
    await expect(verifyChecksums(f, { sha256: sha.toUpperCase(), md5: 'SKIP', ck: reference('ck', f) })).resolves.toMatchObject({ sha256: sha });
    const e = await rejectionOf(verifyChecksums(f, { sha256: sha, b2: 'ab'.repeat(64) }));
    expect(e.code).toBe('E_CHECKSUM_MISMATCH');
    expect(e.algorithm).toBe('b2');
    expect(e.actual).toBe(reference('b2', f));
  });
});
