import { envBoolean, envInt } from '@gridstream/config';
import { checkKafkaEnv, kafkaEnvShape } from '@gridstream/kafka';
import { runtimeEnvShape } from '@gridstream/runtime';
import { checkSinkEnv, sinkEnvShape } from '@gridstream/sink';
import { z } from 'zod';

/** A PostgreSQL interval in one plain form (`7 days`, `12 hours`), passed to the server as a parameter. */
const INTERVAL = /^\d+ ?(microseconds?|milliseconds?|seconds?|minutes?|hours?|days?|weeks?|months?|years?)$/i;
const interval = z.string().trim().regex(INTERVAL, 'must be an interval such as "7 days" or "12 hours"');

export const PG_SSL_MODES = ['disable', 'require', 'verify-full'] as const;
export const PG_TIMESCALE_MODES = ['auto', 'on', 'off'] as const;

export const timescaleWriterConfigSchema = z
  .object({
    ...runtimeEnvShape(9110),
    ...kafkaEnvShape,
    // Rows per write: one transaction (COPY into staging + one upsert) per batch. A record is ~17 rows.
    ...sinkEnvShape({ groupId: 'gridstream-timescale-writer', batchSize: 5_000, writesInFlight: 3 }),
    PG_HOST: z.string().trim().min(1).default('127.0.0.1'),
    PG_PORT: envInt(5432, { min: 1, max: 65_535 }),
    PG_DATABASE: z.string().trim().min(1).default('gridstream'),
    PG_USER: z.string().trim().min(1).default('gridstream'),
    /** Or PG_PASSWORD_FILE (a mounted secret), read by loadConfig. */
    PG_PASSWORD: z.string().optional(),
    /**
     * `disable`: plain TCP; `require`: TLS without checking the certificate (libpq's sslmode=require);
     * `verify-full`: TLS with the certificate checked against PG_SSL_CA (else the system's CAs) and PG_HOST.
     */
    PG_SSL: z.enum(PG_SSL_MODES).default('disable'),
    /** PEM text of the CA that signed the server's certificate; or PG_SSL_CA_FILE. */
    PG_SSL_CA: z.string().optional(),
    /** The schema (namespace) of the tables `readings`, `alarms`, `alarm_actions`. */
    PG_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL name (letters, digits, _)')
      .default('public'),
    /** Create the schema, the tables and (with TimescaleDB) the hypertables and policies at start. */
    PG_CREATE_TABLES: envBoolean(true),
    /**
     * `auto`: hypertables when the timescaledb extension is installed in the database (or can be created);
     * `on`: refuse to start without it; `off`: plain tables even where it is installed.
     */
    PG_TIMESCALE: z.enum(PG_TIMESCALE_MODES).default('auto'),
    /** TimescaleDB chunk size (`chunk_time_interval`) of new hypertables. */
    PG_CHUNK_INTERVAL: interval.default('1 day'),
    /** TimescaleDB: compress the readings' chunks older than this (a compression policy); unset: never. */
    PG_COMPRESS_AFTER: interval.optional(),
    /** TimescaleDB: drop the readings' chunks older than this (a retention policy); unset: keep all. */
    PG_RETENTION: interval.optional(),
    /** Connecting (and waiting for a free pooled connection) longer than this fails the attempt; retried. */
    PG_CONNECT_TIMEOUT_MS: envInt(10_000, { min: 100, max: 600_000 }),
    /**
     * Each statement of a write (COPY, upsert, commit) answered later than this is abandoned, its connection
     * closed and the write retried: a hung server must not hold a batch forever. The retry overwrites
     * whatever the abandoned write did.
     */
    PG_WRITE_TIMEOUT_MS: envInt(60_000, { min: 100, max: 3_600_000 }),
    /** Shown in pg_stat_activity. */
    PG_APPLICATION_NAME: z.string().trim().min(1).max(63).default('gridstream-timescale-writer'),
  })
  .superRefine((cfg, ctx) => {
    checkKafkaEnv(cfg, ctx);
    checkSinkEnv(cfg, ctx);
    if (cfg.PG_SSL_CA !== undefined && cfg.PG_SSL !== 'verify-full')
      ctx.addIssue({
        code: 'custom',
        path: ['PG_SSL_CA'],
        message: 'is set, so PG_SSL must be verify-full (a CA is only used to check the certificate)',
      });
    for (const name of ['PG_COMPRESS_AFTER', 'PG_RETENTION'] as const) {
      if (cfg[name] !== undefined && cfg.PG_TIMESCALE === 'off')
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'is a TimescaleDB policy, so PG_TIMESCALE must not be off',
        });
      if (cfg[name] !== undefined && !cfg.PG_CREATE_TABLES)
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'is applied while the tables are set up, so PG_CREATE_TABLES must be true',
        });
    }
  });

export type TimescaleWriterConfig = z.infer<typeof timescaleWriterConfigSchema>;
