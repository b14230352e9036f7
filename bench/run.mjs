#!/usr/bin/env node
// Runs every benchmark in bench/ (or those named on the command line: `pnpm bench parser fetch`)
// after a build, and prints one table: our figure, the reference measured in the same run, the
// ratio, the target and how to reproduce the line. Each bench script prints its own details and,
// as its last stdout line, `BENCH_ROWS <json array>`.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const all = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs')
  .map((f) => f.slice(0, -4))
  .sort();
const names = wanted.length ? wanted : all;
for (const n of names) {
  if (!all.includes(n)) {
    console.error(`unknown benchmark "${n}"; available: ${all.join(', ')}`);
    process.exit(2);
  }
}

if (!process.argv.includes('--no-build')) {
  console.error('building packages (turbo, cached)…');
  const b = spawnSync(join(root, 'node_modules/.bin/turbo'), ['run', 'build', '--output-logs=errors-only'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

function runOne(name) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(here, `${name}.mjs`)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let rows = [];
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.startsWith('BENCH_ROWS ')) {
          try {
            rows = JSON.parse(line.slice('BENCH_ROWS '.length));
          } catch (e) {
            console.error(`[${name}] could not read BENCH_ROWS: ${e.message}`);
          }
        } else process.stdout.write(`[${name}] ${line}\n`);
      }
    });
    child.on('close', (code) => resolve({ name, code, rows }));
  });
}

const results = [];
for (const n of names) {
  console.log(`\n=== bench/${n}.mjs ===`);
  results.push(await runOne(n));
}

const fmt = (x) => (typeof x !== 'number' || !Number.isFinite(x) ? String(x ?? '') : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3));
const table = [['bench', 'measure', 'ours', 'reference', 'ratio', 'target', 'reproduce']];
for (const r of results) {
  if (r.code !== 0) table.push([r.name, `FAILED (exit ${r.code})`, '', '', '', '', `pnpm bench ${r.name}`]);
  for (const row of r.rows) {
    table.push([
      r.name,
      row.name,
      `${fmt(row.ours)} ${row.unit ?? ''}`.trim(),
      `${fmt(row.reference)} ${row.unit ?? ''} (${row.refName ?? '?'})`,
      fmt(row.ratio),
      row.target ?? '',
      row.reproduce ?? `pnpm bench ${r.name}`,
    ]);
  }
}
const widths = table[0].map((_, c) => Math.max(...table.map((r) => String(r[c]).length)));
console.log('\n' + table.map((r, i) => r.map((v, c) => String(v).padEnd(widths[c])).join('  ') + (i === 0 ? '\n' + widths.map((w) => '-'.repeat(w)).join('  ') : '')).join('\n'));
process.exit(results.some((r) => r.code !== 0) ? 1 : 0);
