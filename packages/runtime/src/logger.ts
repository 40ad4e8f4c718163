import { type Logger, pino } from 'pino';
import { PINO_REDACT_PATHS } from './redact.js';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** JSON lines on stdout (what log shippers expect), one `service` field on every line. */
export function createLogger(options: { service: string; level?: LogLevel }): Logger {
  return pino({
    name: options.service,
    level: options.level ?? 'info',
    base: { service: options.service, pid: process.pid },
    redact: { paths: PINO_REDACT_PATHS, censor: '***' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
