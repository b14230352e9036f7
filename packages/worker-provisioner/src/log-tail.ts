import { open } from 'node:fs/promises';

/** The last `lines` lines of a text file (reads at most its last 64 KiB); [] when unreadable. */
export async function readLogTail(path: string, lines = 50): Promise<string[]> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    const all = buf.toString('utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    if (len < size) all.shift(); // first line is probably cut
    return all.slice(-lines);
  } catch {
    return [];
  } finally {
    await fh.close();
  }
}
