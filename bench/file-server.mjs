// A loopback HTTP file server for the benches, in its own process so that it does not share the
// measured process's event loop or CPU time (a real download server never does). It serves the
// files of one directory, answers `GET /__count` with the number of file requests seen, and
// closes the connection after every response (`Connection: close`, the HTTP/1.0-style case that
// crashed undici 7).
import { execFileSync, spawn } from 'node:child_process';

const SERVER = `
const http = require('node:http'); const fs = require('node:fs'); const path = require('node:path');
const root = process.argv[1]; const fromMemory = process.argv[2] === 'memory'; const cache = new Map(); let count = 0;
// from memory: the files directly in root are read before the server answers, so no transfer pays for it
if (fromMemory) for (const n of fs.readdirSync(root)) { const f = path.join(root, n); if (fs.statSync(f).isFile()) cache.set(f, fs.readFileSync(f)); }
const s = http.createServer((req, res) => {
  if (req.url === '/__count') { res.writeHead(200, { connection: 'close' }); res.end(String(count)); return; }
  count++;
  const file = path.join(root, decodeURIComponent((req.url || '/').split('?')[0]));
  let st;
  try { st = fs.statSync(file); } catch { res.writeHead(404, { connection: 'close' }); res.end(); return; }
  if (!st.isFile() || !file.startsWith(root + path.sep)) { res.writeHead(404, { connection: 'close' }); res.end(); return; }
  res.writeHead(200, { 'content-length': String(st.size), connection: 'close', etag: '"' + st.size + '-' + st.mtimeMs + '"' });
  if (!fromMemory) { fs.createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(res); return; }
  if (!cache.has(file)) cache.set(file, fs.readFileSync(file));
  res.end(cache.get(file));
});
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
`;

/**
 * Start the server on 127.0.0.1 for the files under `dir` (an absolute path). With
 * `fromMemory`, the files directly in `dir` are read before it answers and sent from memory
 * (others on first request), as a static server's sendfile
 * costs next to nothing: streaming 512 MiB from disk through Node took ~0.65 CPU-s per transfer,
 * a third of a 2-core machine, taken from both clients being compared.
 * @returns `{ base, count(), stop() }`: base URL, requests served so far, and a stop function.
 */
export async function startFileServer(dir, { fromMemory = false } = {}) {
  const child = spawn(process.execPath, ['-e', SERVER, dir, fromMemory ? 'memory' : 'disk'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`file server exited (${code})`)));
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    count: () => Number(execFileSync('curl', ['-s', `${base}/__count`], { encoding: 'utf8' })),
    stop: () => {
      child.removeAllListeners('exit');
      child.kill();
    },
  };
}
