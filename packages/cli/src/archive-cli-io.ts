import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ConfigError } from '@gridstream/config';
import { EXIT_CONFIG } from '@gridstream/runtime';

/**
 * What the archive commands (glue, query, export, archive, influx) share: where output goes, the
 * environment they read, and one way to turn errors into exit codes. Commands never throw: a usage
 * mistake is exit 2 with the usage, a configuration error exit 78 (EX_CONFIG, as services use), any
 * other failure exit 1 with its message.
 */

export interface Out {
  write(s: string): unknown;
}

export interface CommandIo {
  /** Diagnostics and the progress bar; default process.stderr. */
  err?: Out & { isTTY?: boolean; columns?: number };
  env?: Record<string, string | undefined>;
}

export class UsageError extends Error {}

export const EXIT_USAGE = 2;

export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: O,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Runs a command body, mapping errors to exit codes and messages. */
export async function runCommand(
  name: string,
  usage: string,
  out: Out,
  err: Out,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError) {
      out.write(`gridstream ${name}: ${error.message}\n\n${usage}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      err.write(`${error.message}\n`);
      return EXIT_CONFIG;
    }
    err.write(`gridstream ${name}: ${describeError(error)}\n`);
    return 1;
  }
}

/** AWS SDK errors carry the service's code in `name`; show it, it is what an operator searches for. */
export function describeError(error: unknown): string {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const code = e.name && e.name !== 'Error' ? `${e.name}: ` : '';
  return `${code}${e.message ?? String(error)}${status ? ` (HTTP ${status})` : ''}`;
}

/** `--timeout 90` (seconds) → ms. */
export function secondsOption(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(text) || Number(text) <= 0)
    throw new UsageError(`--${name} must be a number of seconds`);
  return Math.round(Number(text) * 1000);
}

export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h') || argv[0] === 'help';
}
