import type { InfluxConfig } from './influx-config.js';

/**
 * Credentials as a header, never in the URL: `u=`/`p=` query parameters end up in proxy and server access
 * logs. InfluxDB 1.x accepts Basic auth; 1.8+/2.x/3.x accept `Token <token>` (1.8: `Token user:password`).
 */
export function authHeaders(cfg: InfluxConfig): Record<string, string> {
  if (cfg.api === 'v2') return cfg.token ? { authorization: `Token ${cfg.token}` } : {};
  if (cfg.username !== undefined) {
    const basic = Buffer.from(`${cfg.username}:${cfg.password ?? ''}`, 'utf8').toString('base64');
    return { authorization: `Basic ${basic}` };
  }
  return {};
}

/** `"name"` for InfluxQL, so a database called `my-db` or `a"b` is one identifier, not an injection. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function baseUrl(cfg: InfluxConfig): string {
  return cfg.url.replace(/\/+$/, '');
}
