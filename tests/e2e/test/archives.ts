/**
 * Hostile archives for the end-to-end attacks and fuzzing: the hand-written ustar and zip writers
 * of the source-fetcher's own tests, so each attack entry is exactly what the test says — no
 * archiver in between that would normalise it away — and there is one writer to keep right.
 */
import { gzipSync } from 'node:zlib';
import { buildTar, buildZip, type TarMember } from '../../../packages/source-fetcher/test/archive-builder.js';

/** One tar member: `type` '0' file, '1' hardlink, '2' symlink, '3' char device, '5' directory, '6' FIFO. */
export type TarEntry = TarMember;

/** An uncompressed ustar archive of `entries` (names may be anything: `../x`, `/abs`, …). */
export const tar = (entries: TarEntry[]): Buffer => buildTar(entries);

export const tarGz = (entries: TarEntry[]): Buffer => gzipSync(buildTar(entries));

/** A zip whose member names are taken as given (zip-slip). */
export const zip = (files: { name: string; data: string | Buffer }[]): Buffer => buildZip(files);
