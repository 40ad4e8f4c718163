/** Key names whose values are secrets wherever they appear (config objects, client options, headers). */
const SECRET_KEY =
  /(password|passwd|passphrase|secret|token|authorization|api[_-]?key|private[_-]?key|ssl[_-]?key|tls[_-]?key|credentials?)$/i;

/**
 * `amqps://user:pw@host` → `amqps://user:***@host`, wherever in the string (a config value, or a client's
 * error message that quotes the URL it failed to reach).
 */
export function redactUrl(value: string): string {
  return value.includes('://')
    ? value.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]+@/gi, '$1:***@')
    : value;
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

const MAX_DEPTH = 8;

/**
 * What a log line carries, with secrets masked at any depth: by key name (`…password`, `…token`, …),
 * inside URLs in any string, and in errors (their message and stack, which quote URLs, and their own
 * fields). pino's `redact` paths only reach fixed depths, so a secret nested in a client's options or an
 * error's cause was logged in clear. It never throws: a log call that throws breaks the code that logs
 * (a writer stopped retrying when logging a fetch timeout threw), so on any surprise the line goes out as is.
 */
export function redactLogObject(value: Record<string, unknown>): Record<string, unknown> {
  try {
    return redactDeep(value, 0, new WeakSet()) as Record<string, unknown>;
  } catch {
    return value;
  }
}

function define(target: Record<string, unknown>, key: string, value: unknown, enumerable = true): void {
  Object.defineProperty(target, key, { value, enumerable, writable: true, configurable: true });
}

function redactDeep(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactUrl(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value) || depth >= MAX_DEPTH) return '[…]';
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value) || value instanceof Date) return value;
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1, seen));
    const out: Record<string, unknown> = {};
    if (value instanceof Error) {
      // A plain copy, never one sharing the error's prototype: DOMException's (a fetch timeout's) message
      // and name are getters that throw on any other object. pino names the type from `name` when
      // `constructor` is not a function.
      define(out, 'constructor', undefined, false);
      define(out, 'name', String(value.name));
      define(out, 'message', redactUrl(String(value.message)));
      define(out, 'stack', redactUrl(String(value.stack ?? '')));
      if (value.cause !== undefined) define(out, 'cause', redactDeep(value.cause, depth + 1, seen));
    }
    for (const key of Object.keys(value)) {
      let v: unknown;
      try {
        v = (value as Record<string, unknown>)[key];
      } catch {
        continue; // an own getter that throws: leave the field out rather than the line
      }
      define(
        out,
        key,
        SECRET_KEY.test(key) && v !== undefined && v !== null ? '***' : redactDeep(v, depth + 1, seen),
      );
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
