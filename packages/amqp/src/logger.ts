/**
 * The slice of a pino-style logger this package uses, so it takes the runtime package's logger (or any
 * compatible one) without depending on it. Objects first, message second, as pino expects.
 */
export interface AmqpLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => {};
export const silentLogger: AmqpLogger = { debug: noop, info: noop, warn: noop, error: noop };

/** Error fields worth logging; never the whole object (amqplib errors can hold the connection and its options). */
export function errorFields(err: unknown): { err: { message: string; code?: unknown } } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { err: code === undefined ? { message: err.message } : { message: err.message, code } };
  }
  return { err: { message: String(err) } };
}
