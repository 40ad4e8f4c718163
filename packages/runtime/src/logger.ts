import { type DestinationStream, type Logger, pino } from 'pino';
import { PINO_REDACT_PATHS, redactLogObject } from './redact.js';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** JSON lines on stdout (what log shippers expect), one `service` field on every line. */
export function createLogger(options: {
  service: string;
  level?: LogLevel;
  /** Where the lines go instead of stdout (tests read them back). */
  destination?: DestinationStream;
}): Logger {
  return pino(
    {
      name: options.service,
      level: options.level ?? 'info',
      base: { service: options.service, pid: process.pid },
      redact: { paths: PINO_REDACT_PATHS, censor: '***' },
      // Every line's own fields, at any depth (the paths above reach only fixed depths).
      formatters: { log: redactLogObject },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}
