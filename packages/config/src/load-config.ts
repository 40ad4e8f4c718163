import { readFileSync } from 'node:fs';
import type { z } from 'zod';

export interface ConfigProblem {
  /** The environment variable at fault, or `(config)` for a rule that spans several. */
  variable: string;
  message: string;
}

/** Thrown at start when the environment is unusable; lists every problem, not just the first. */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

/**
 * Secrets may come from files (`INFLUX_PASSWORD_FILE=/run/secrets/influx`) so they never sit in the
 * environment or the repo. For every variable the schema declares, `<NAME>_FILE` fills `<NAME>` when
 * `<NAME>` itself is unset. Trailing newlines are trimmed: editors and `echo` add them, and a password
 * with a stray newline fails authentication in a way that is hard to see.
 */
function resolveFileVariables(declared: Iterable<string>, env: Env): { env: Env; problems: ConfigProblem[] } {
  const out: Env = { ...env };
  const problems: ConfigProblem[] = [];
  for (const name of declared) {
    const fileVar = `${name}_FILE`;
    const path = env[fileVar];
    if (path === undefined || path === '' || (env[name] !== undefined && env[name] !== '')) continue;
    try {
      out[name] = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      problems.push({ variable: fileVar, message: `cannot read ${path}: ${(error as Error).message}` });
    }
  }
  return { env: out, problems };
}

/** Empty strings mean "unset": `FOO=` in a compose file should fall back to the default, not fail. */
function dropEmpty(env: Env): Env {
  const out: Env = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== '') out[key] = value;
  return out;
}

function declaredVariables(schema: z.ZodType): string[] {
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

/**
 * Validates the environment against a service's schema. Call it from `main`, never at import time, so
 * tests can pass their own env and a bad variable stops the service at start with every problem named.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Env = process.env): z.infer<S> {
  const resolved = resolveFileVariables(declaredVariables(schema), dropEmpty(env));
  const result = schema.safeParse(resolved.env);
  const problems = [...resolved.problems];
  if (!result.success) {
    for (const issue of result.error.issues) {
      const variable = issue.path.length > 0 ? String(issue.path[0]) : '(config)';
      problems.push({ variable, message: issue.message });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return (result as { data: z.infer<S> }).data;
}
