/**
 * Per-host credentials for authenticated sources (licensed premium workers).
 */

/** A credential: the `Authorization` header value, or an explicit header name and value. */
export type AuthValue = string | { header: string; value: string };

/**
 * Host → credential. Keys are a hostname (`dl.example.com`) or `host:port`; `host:port` wins.
 * A credential is sent only to its host, never to the host a redirect leads to.
 *
 * @example
 * ```ts
 * const auth: AuthMap = { 'dl.example.com': 'Bearer s3cret', 'mirror.example.org:8443': { header: 'X-Token', value: 't' } }
 * ```
 */
export type AuthMap = Record<string, AuthValue>;

/**
 * Credentials from the environment:
 * - `RBEE_SOURCE_AUTH`: JSON object, host → header value (or `{ "header", "value" }`);
 * - `RBEE_SOURCE_AUTH_<HOST>`: the `Authorization` value for one host, where `<HOST>` is the
 *   hostname upper-cased with every character other than A-Z and 0-9 replaced by `_`
 *   (`dl.example.com` → `RBEE_SOURCE_AUTH_DL_EXAMPLE_COM`).
 * Explicit entries passed to the fetcher win over the environment.
 */
export function authFromEnv(env: NodeJS.ProcessEnv = process.env): { map: AuthMap; byEnvName: Record<string, string> } {
  const map: AuthMap = {};
  const json = env.RBEE_SOURCE_AUTH;
  if (json) {
    try {
      const parsed: unknown = JSON.parse(json);
      if (parsed && typeof parsed === 'object') {
        for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
          if (typeof v === 'string') map[k.toLowerCase()] = v;
          else if (v && typeof v === 'object' && typeof (v as { header?: unknown }).header === 'string' && typeof (v as { value?: unknown }).value === 'string') {
            map[k.toLowerCase()] = { header: (v as { header: string }).header, value: (v as { value: string }).value };
          }
        }
      }
    } catch {
      // An unparsable variable is ignored rather than failing every download.
    }
  }
  const byEnvName: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('RBEE_SOURCE_AUTH_') && v) byEnvName[k.slice('RBEE_SOURCE_AUTH_'.length)] = v;
  }
  return { map, byEnvName };
}

/** The env-name form of a hostname (`dl.example.com` → `DL_EXAMPLE_COM`). */
export function hostEnvKey(host: string): string {
  return host.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** Resolves the header to send to `url`, if any: explicit map, then `RBEE_SOURCE_AUTH`, then `RBEE_SOURCE_AUTH_<HOST>`. */
export function authHeaderFor(url: URL, auth: AuthMap | undefined, env: NodeJS.ProcessEnv = process.env): { name: string; value: string } | undefined {
  const host = url.hostname.toLowerCase();
  const hostPort = url.port ? `${host}:${url.port}` : host;
  const pick = (m: AuthMap): AuthValue | undefined => {
    for (const [k, v] of Object.entries(m)) if (k.toLowerCase() === hostPort) return v;
    for (const [k, v] of Object.entries(m)) if (k.toLowerCase() === host) return v;
    return undefined;
  };
  const fromEnv = authFromEnv(env);
  const v = (auth && pick(auth)) ?? pick(fromEnv.map) ?? fromEnv.byEnvName[hostEnvKey(host)];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? { name: 'authorization', value: v } : { name: v.header.toLowerCase(), value: v.value };
}
