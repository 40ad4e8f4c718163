import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** What the sinks and queries need; services build it from the environment with {@link influxConfigFromEnv}. */
export interface InfluxConfig {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:8086`. */
  url: string;
  /** `v1`: POST /write (InfluxDB 1.x). `v2`: POST /api/v2/write (InfluxDB 1.8+, 2.x, 3.x). */
  api: 'v1' | 'v2';
  /** 1.x database; also the `db` of InfluxQL queries. */
  database: string;
  retentionPolicy?: string;
  username?: string;
  password?: string;
  org?: string;
  bucket?: string;
  token?: string;
  /** v1 only: CREATE DATABASE at start and when a write answers `database not found`. */
  createDatabase: boolean;
  timeoutMs: number;
  gzip: boolean;
}

// Strict: `z.coerce.boolean()` reads the string "false" as true, turning `INFLUX_GZIP=false` into gzip on.
function envBoolean(defaultValue: boolean) {
  return z
    .enum(['true', 'false', '1', '0'], { message: 'must be true, false, 1 or 0' })
    .prefault(defaultValue ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');
}

/**
 * `<NAME>_FILE`: the variable's value is a path and the secret is the file's content (Docker/Kubernetes
 * secrets), so the secret never sits in the environment. Parses to the file's content; a trailing newline
 * is dropped because a password with a stray `\n` fails authentication in a way that is hard to see.
 */
function secretFile() {
  return z
    .string()
    .optional()
    .transform((path, ctx) => {
      if (path === undefined || path === '') return undefined;
      try {
        return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `cannot read ${path}: ${(error as Error).message}` });
        return z.NEVER;
      }
    });
}

const optionalText = z.string().min(1).optional();

/**
 * The InfluxDB variables as a plain shape, so a service can spread them into its own `z.object({...})`
 * (zod refuses to `.extend()` an object that carries refinements); add {@link checkInfluxEnv} to that
 * object with `.superRefine(checkInfluxEnv)` to keep the cross-field rules.
 */
export const influxEnvShape = {
  INFLUX_URL: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL such as http://127.0.0.1:8086' })
    .default('http://127.0.0.1:8086'),
  INFLUX_API: z.enum(['v1', 'v2'], { message: 'must be v1 (/write) or v2 (/api/v2/write)' }).default('v1'),
  INFLUX_DATABASE: z.string().min(1).default('gridstream'),
  INFLUX_RETENTION_POLICY: optionalText,
  INFLUX_USERNAME: optionalText,
  INFLUX_PASSWORD: optionalText,
  INFLUX_PASSWORD_FILE: secretFile(),
  INFLUX_ORG: optionalText,
  INFLUX_BUCKET: optionalText,
  INFLUX_TOKEN: optionalText,
  INFLUX_TOKEN_FILE: secretFile(),
  INFLUX_CREATE_DATABASE: envBoolean(true),
  INFLUX_TIMEOUT_MS: z
    .string()
    .regex(/^\d+$/, 'must be a whole number of milliseconds')
    .prefault('10000')
    .transform(Number)
    .pipe(z.number().int().min(100).max(600_000)),
  INFLUX_GZIP: envBoolean(false),
};

type InfluxEnvObject = z.infer<z.ZodObject<typeof influxEnvShape>>;

/** Cross-field rules; each message says what would break, since that is what the operator has to judge. */
export function checkInfluxEnv(env: InfluxEnvObject, ctx: z.RefinementCtx): void {
  if (env.INFLUX_API === 'v2') {
    if (!env.INFLUX_TOKEN && !env.INFLUX_TOKEN_FILE) {
      ctx.addIssue({
        code: 'custom',
        path: ['INFLUX_TOKEN'],
        message:
          'required when INFLUX_API=v2 (or set INFLUX_TOKEN_FILE): without it every write is refused with 401 ' +
          'and the writer stops making progress (InfluxDB 1.8+: use "user:password", any value when auth is off)',
      });
    }
    if (!env.INFLUX_ORG) {
      ctx.addIssue({
        code: 'custom',
        path: ['INFLUX_ORG'],
        message:
          'required when INFLUX_API=v2: InfluxDB 2.x looks the bucket up within an org, so writes fail with ' +
          '400/404 without it (InfluxDB 1.8 and 3.x ignore it: any value)',
      });
    }
    if (!env.INFLUX_BUCKET) {
      ctx.addIssue({
        code: 'custom',
        path: ['INFLUX_BUCKET'],
        message:
          'required when INFLUX_API=v2: it is where points are written, there is no default ' +
          '(InfluxDB 1.8 compatibility: "database/retention-policy" or "database")',
      });
    }
  } else {
    const hasPassword = Boolean(env.INFLUX_PASSWORD || env.INFLUX_PASSWORD_FILE);
    if (env.INFLUX_USERNAME && !hasPassword) {
      ctx.addIssue({
        code: 'custom',
        path: ['INFLUX_PASSWORD'],
        message:
          'INFLUX_USERNAME is set without INFLUX_PASSWORD (or _FILE): every write would be refused with 401',
      });
    }
    if (!env.INFLUX_USERNAME && hasPassword) {
      ctx.addIssue({
        code: 'custom',
        path: ['INFLUX_USERNAME'],
        message:
          'a password is set without INFLUX_USERNAME: it would be ignored and writes sent unauthenticated',
      });
    }
  }
}

/** The environment schema on its own (defaults applied, rules checked); see {@link influxEnvShape} to merge. */
export const influxEnvSchema = z.object(influxEnvShape).superRefine(checkInfluxEnv);
export type InfluxEnv = z.infer<typeof influxEnvSchema>;

/** Parsed environment → sink config. A value set directly wins over its `_FILE`. */
export function influxConfigFromEnv(env: InfluxEnv): InfluxConfig {
  return {
    url: env.INFLUX_URL.replace(/\/+$/, ''),
    api: env.INFLUX_API,
    database: env.INFLUX_DATABASE,
    retentionPolicy: env.INFLUX_RETENTION_POLICY,
    username: env.INFLUX_USERNAME,
    password: env.INFLUX_PASSWORD ?? env.INFLUX_PASSWORD_FILE,
    org: env.INFLUX_ORG,
    bucket: env.INFLUX_BUCKET,
    token: env.INFLUX_TOKEN ?? env.INFLUX_TOKEN_FILE,
    createDatabase: env.INFLUX_CREATE_DATABASE,
    timeoutMs: env.INFLUX_TIMEOUT_MS,
    gzip: env.INFLUX_GZIP,
  };
}

/** Config for code that is not driven by the environment (tests, the bench): defaults filled in. */
export function influxConfig(overrides: Partial<InfluxConfig> = {}): InfluxConfig {
  return {
    url: 'http://127.0.0.1:8086',
    api: 'v1',
    database: 'gridstream',
    createDatabase: true,
    timeoutMs: 10_000,
    gzip: false,
    ...overrides,
  };
}
