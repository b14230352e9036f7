// Runs fetchSources from a separate process (bundled source passed as argv[2]).
const [bundle, job] = process.argv.slice(2);
const { fetchSources } = await import(bundle);
const opts = JSON.parse(job);
try {
  const r = await fetchSources(opts);
  process.stdout.write(JSON.stringify({ ok: true, fromCache: r[0].fromCache, sha256: r[0].checksums.sha256 }));
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, code: e.code, message: e.message }));
}
