/** Key names whose values are secrets wherever they appear (config objects, client options, headers). */
const SECRET_KEY = /(password|passwd|secret|token|authorization|api[_-]?key|private[_-]?key|credentials?)$/i;

/** `amqp://user:pw@host` → `amqp://user:***@host`: URLs with credentials end up in logs via configs. */
export function redactUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+):[^@/\s]+@/i, '$1:***@');
}

/**
 * A copy of `value` with secrets masked, for logging a configuration at start. Masks by key name and
 * strips passwords from URLs, so a new `FOO_TOKEN` variable is covered without anyone remembering to.
 */
export function redactSecrets<T>(value: T): T {
  if (typeof value === 'string') return redactUrl(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    out[key] = SECRET_KEY.test(key) && v !== undefined && v !== null ? '***' : redactSecrets(v);
  }
  return out as T;
}

/** pino `redact` paths for secrets that reach a log line inside an object rather than through a config. */
export const PINO_REDACT_PATHS = [
  'password',
  'token',
  'secret',
  'authorization',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
];
