import { format } from 'node:util';
import { setErrorLogger, setWarningLogger } from 'node-opcua-client';

interface MinimalLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const MAX_LINE = 2_000;

/**
 * node-opcua writes warnings and errors (multi-line object dumps included) straight to the console, which
 * breaks one-JSON-object-per-line logs. This sends them through our logger instead: its warnings at
 * debug (they are chatty: "Creating default certificate", operation-limit dumps), its errors at warn.
 * Process-wide, like node-opcua's own loggers.
 */
export function routeNodeOpcuaLogs(logger: MinimalLogger): void {
  const line = (args: unknown[]) =>
    format(...args)
      .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '')
      .slice(0, MAX_LINE);
  setWarningLogger((...args: unknown[]) => logger.debug({ source: 'node-opcua' }, line(args)));
  setErrorLogger((...args: unknown[]) => logger.warn({ source: 'node-opcua' }, line(args)));
}
