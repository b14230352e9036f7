#!/usr/bin/env node
// Generates the prebuilt demo-worker archives of the example catalog
// (examples/catalog/workers/demo-worker-rbee-{bin,dyn}/cpu/demo-worker-rbee-0.1.0-<arch>.tar.gz).
//
// The archives are not committed; their checksums are (in the PKGBUILDs). So the output must be
// byte-reproducible: the tar is written here by hand (sorted entries, fixed mtime/uid/gid/names/
// modes) and gzipped with node:zlib at a fixed level with a fixed gzip header.
//
//   pnpm exec node scripts/make-example-archives.mjs            # write (idempotent)
//   pnpm exec node scripts/make-example-archives.mjs --print    # also print sha256/b2 sums
//
// The archived "binary" is a Node script (node runs wherever this project does), so the
// archive is the same on every build machine and platform.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const catalogDir = join(here, '..', 'examples', 'catalog');

export const DEMO_VERSION = '0.1.0';
export const ARCHES = ['x86_64', 'aarch64'];
/** Directories (relative to the catalog root) that carry the archives next to their PKGBUILD. */
export const TARGET_DIRS = ['workers/demo-worker-rbee-bin/cpu', 'workers/demo-worker-rbee-dyn/cpu'];
const MTIME = 1767225600; // 2026-01-01T00:00:00Z
const GZIP_LEVEL = 9;

/** @param {string} arch */
export function archiveName(arch) {
  return `demo-worker-rbee-${DEMO_VERSION}-${arch}.tar.gz`;
}

/** @param {string} arch */
function workerScript(arch) {
  return `#!/usr/bin/env node
// demo-worker-rbee ${DEMO_VERSION} (prebuilt, ${arch}): a stand-in for an rbee inference worker.
//   demo-worker-rbee --version
//   demo-worker-rbee --port N [--host ADDR]     serves GET /health
'use strict';
const http = require('node:http');
const VERSION = '${DEMO_VERSION}';
const ARCH = '${arch}';
const args = process.argv.slice(2);
let port = -1;
let host = '127.0.0.1';
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--version') { process.stdout.write('demo-worker-rbee ' + VERSION + '\\n'); process.exit(0); }
  else if (a === '--port' && i + 1 < args.length) port = Number(args[++i]);
  else if (a === '--host' && i + 1 < args.length) host = args[++i];
  else { process.stderr.write('usage: demo-worker-rbee --version | --port N [--host ADDR]\\n'); process.exit(2); }
}
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write('usage: demo-worker-rbee --version | --port N [--host ADDR]\\n');
  process.exit(2);
}
const server = http.createServer((req, res) => {
  const path = (req.url || '/').split('?')[0];
  if ((req.method === 'GET' || req.method === 'HEAD') && path === '/health') {
    const body = JSON.stringify({ status: 'ok', worker: 'demo-worker-rbee', version: VERSION, backend: 'cpu', arch: ARCH, port: server.address().port });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  } else {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"not found"}');
  }
});
server.listen(port, host, () => {
  process.stderr.write('demo-worker-rbee ' + VERSION + ' listening on http://' + host + ':' + server.address().port + '\\n');
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
`;
}

const LICENSE = `MIT License

Copyright (c) 2026 rbee-worker contributors

Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED.
`;

/** One ustar header block. */
function tarHeader({ name, size, mode, type }) {
  const h = Buffer.alloc(512, 0);
  const put = (off, len, str) => h.write(str, off, len, 'ascii');
  const oct = (off, len, n) => put(off, len, n.toString(8).padStart(len - 1, '0') + '\0');
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name too long: ${name}`);
  put(0, 100, name);
  oct(100, 8, mode);
  oct(108, 8, 0); // uid
  oct(116, 8, 0); // gid
  oct(124, 12, size);
  oct(136, 12, MTIME);
  put(148, 8, '        '); // checksum placeholder (spaces while summing)
  put(156, 1, type);
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  put(265, 32, 'root');
  put(297, 32, 'root');
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

/** @param {string} arch @returns {Buffer} the .tar.gz bytes */
export function buildArchive(arch) {
  const top = `demo-worker-rbee-${DEMO_VERSION}-${arch}`;
  const entries = [
    { name: `${top}/`, type: '5', mode: 0o755, data: Buffer.alloc(0) },
    { name: `${top}/LICENSE`, type: '0', mode: 0o644, data: Buffer.from(LICENSE) },
    { name: `${top}/demo-worker-rbee`, type: '0', mode: 0o755, data: Buffer.from(workerScript(arch)) },
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const parts = [];
  for (const e of entries) {
    parts.push(tarHeader({ name: e.name, size: e.data.length, mode: e.mode, type: e.type }));
    if (e.data.length > 0) {
      parts.push(e.data);
      const pad = (512 - (e.data.length % 512)) % 512;
      if (pad) parts.push(Buffer.alloc(pad, 0));
    }
  }
  parts.push(Buffer.alloc(1024, 0)); // end-of-archive marker
  const gz = gzipSync(Buffer.concat(parts), { level: GZIP_LEVEL });
  // Fixed gzip header: MTIME 0 (bytes 4-7, node already writes 0), XFL per level, OS = 3 (Unix),
  // so the bytes do not depend on the platform zlib was built for.
  gz.writeUInt32LE(0, 4);
  gz[9] = 3;
  return gz;
}

/** @param {Buffer} buf */
export function checksums(buf) {
  return {
    sha256: createHash('sha256').update(buf).digest('hex'),
    b2: createHash('blake2b512').update(buf).digest('hex'),
  };
}

/**
 * Writes the archives into `root/<TARGET_DIRS…>` (default: the example catalog), skipping files
 * that already hold the same bytes. Returns what was produced.
 * @param {{ root?: string }} [opts]
 */
export function makeExampleArchives(opts = {}) {
  const root = opts.root ?? catalogDir;
  const out = [];
  for (const arch of ARCHES) {
    const buf = buildArchive(arch);
    const sums = checksums(buf);
    for (const dir of TARGET_DIRS) {
      const file = join(root, dir, archiveName(arch));
      let same = false;
      try {
        same = readFileSync(file).equals(buf);
      } catch {
        same = false;
      }
      if (!same) {
        mkdirSync(dirname(file), { recursive: true });
        const tmp = `${file}.tmp-${process.pid}`;
        writeFileSync(tmp, buf);
        renameSync(tmp, file); // atomic: a concurrent reader never sees half an archive
      }
      out.push({ arch, file, written: !same, ...sums });
    }
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const results = makeExampleArchives();
  for (const r of results) {
    process.stdout.write(`${r.written ? 'wrote' : 'up to date'} ${r.file}\n`);
    if (process.argv.includes('--print')) process.stdout.write(`  sha256 ${r.sha256}\n  b2 ${r.b2}\n`);
  }
}
