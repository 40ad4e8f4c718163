import { checkArchiveEnv } from '@gridstream/archive';
import { archiveLocationEnvShape, athenaEnvShape, glueEnvShape } from '@gridstream/archive-tools';
import { envBoolean, envInt, envMap } from '@gridstream/config';
import { checkKafkaEnv, kafkaEnvShape } from '@gridstream/kafka';
import { runtimeEnvShape } from '@gridstream/runtime';
import { DEFAULT_TOPICS } from '@gridstream/schema';
import { z } from 'zod';

/** Health servers of the pipeline on one machine: what `make demo` runs (deploy/local/services.sh ports). */
export const DEFAULT_CONSOLE_SERVICES =
  'bridge=http://127.0.0.1:9101,parser=http://127.0.0.1:9102,influx-writer=http://127.0.0.1:9103,' +
  'modbus-collector=http://127.0.0.1:9104,opcua-collector=http://127.0.0.1:9105,archiver=http://127.0.0.1:9106,' +
  'forecaster=http://127.0.0.1:9109,serial-collector=http://127.0.0.1:9112,mqtt-collector=http://127.0.0.1:9113';

const GiB = 1024 * 1024 * 1024;

export const consoleConfigSchema = z
  .object({
    ...runtimeEnvShape(9107),
    ...kafkaEnvShape,
    ...archiveLocationEnvShape,
    // The query page runs `gridstream query`'s engines: the same archive and Athena variables.
    GLUE_DATABASE: glueEnvShape.GLUE_DATABASE,
    ...athenaEnvShape,
    CONSOLE_HOST: z.string().default('127.0.0.1'),
    CONSOLE_PORT: envInt(8080, { min: 0, max: 65535 }),
    /** Operator password for the login form (or CONSOLE_PASSWORD_FILE). */
    CONSOLE_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
    /** Bearer token for scripts calling the JSON API (or CONSOLE_TOKEN_FILE). */
    CONSOLE_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Signs session cookies; random per process when unset (a restart then logs everybody out). */
    CONSOLE_SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    CONSOLE_SESSION_HOURS: envInt(12, { min: 1, max: 24 * 30 }),
    /** Set when the console is served over https (behind a TLS proxy): cookies get `Secure`. */
    CONSOLE_SECURE_COOKIES: envBoolean(false),
    /** Extra origins allowed to POST (a reverse proxy's public URL); the console's own host always is. */
    CONSOLE_ALLOWED_ORIGINS: z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      ),
    /**
     * Host names the console answers to besides IP addresses and `localhost` (and the hosts of
     * CONSOLE_ALLOWED_ORIGINS): a request naming any other host is refused, so a web page whose DNS name
     * was re-pointed at the console's address (DNS rebinding) cannot use it.
     */
    CONSOLE_ALLOWED_HOSTS: z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim().toLowerCase())
          .filter((s) => s !== ''),
      ),
    /** `name=http://host:port` of each service's health server; polled for readiness and metrics. */
    CONSOLE_SERVICES: envMap(DEFAULT_CONSOLE_SERVICES),
    CONSOLE_POLL_INTERVAL_MS: envInt(5_000, { min: 1_000, max: 60_000 }),
    /** Consumer groups whose lag is shown (the services' own defaults). */
    PARSER_GROUP_ID: z.string().default('gridstream-parser'),
    WRITER_GROUP_ID: z.string().default('gridstream-influx-writer'),
    ARCHIVER_GROUP_ID: z.string().default('gridstream-archiver'),
    /** Shown only when the service is in CONSOLE_SERVICES (these sinks are optional). */
    TIMESCALE_WRITER_GROUP_ID: z.string().default('gridstream-timescale-writer'),
    OPENTSDB_WRITER_GROUP_ID: z.string().default('gridstream-opentsdb-writer'),
    /** Compacted topic remembering which dead letters were replayed (survives console restarts). */
    KAFKA_TOPIC_DLQ_REPLAYS: z.string().default(`${DEFAULT_TOPICS.dlq}.replays`),
    CONSOLE_IMPORT_DIR: z.string().min(1).default('.local/imports'),
    CONSOLE_UPLOAD_MAX_BYTES: envInt(2 * GiB, { min: 1_024 }),
    /** Rows a query may return to the page; more are cut off (and the page says so). */
    /**
     * The longest an operator may shelve an alarm, in minutes (ISA-18.2: shelving is always time-limited, so
     * a shelved alarm cannot be forgotten). The form offers the usual choices up to this.
     */
    /** Requests one address may make per minute (pages, assets and API together); more get 429. */
    CONSOLE_RATE_LIMIT_PER_MINUTE: envInt(600, { min: 10, max: 1_000_000 }),
    CONSOLE_SHELVE_MAX_MINUTES: envInt(1_440, { min: 1, max: 43_200 }),
    CONSOLE_QUERY_MAX_ROWS: envInt(5_000, { min: 1, max: 1_000_000 }),
    /** A DuckDB query of the console still running after this is interrupted (Athena: ATHENA_TIMEOUT_MS). */
    CONSOLE_QUERY_TIMEOUT_MS: envInt(120_000, { min: 1_000, max: 3_600_000 }),
    /** Memory one DuckDB query of the console may use (DuckDB's memory_limit); more fails the query. */
    CONSOLE_QUERY_MEMORY_MB: envInt(256, { min: 32, max: 65_536 }),
    /** Threads one DuckDB query of the console may use (DuckDB's default: every core). */
    CONSOLE_QUERY_THREADS: envInt(1, { min: 1, max: 256 }),
    /** Disk one DuckDB query may spill to past its memory (max_temp_directory_size); 0 = no spilling. */
    CONSOLE_QUERY_TEMP_MB: envInt(1_024, { min: 0, max: 1_048_576 }),
  })
  .superRefine((cfg, ctx) => {
    checkKafkaEnv(cfg, ctx);
    checkArchiveEnv(cfg, ctx);
    if (cfg.CONSOLE_PASSWORD === undefined && cfg.CONSOLE_TOKEN === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['CONSOLE_PASSWORD'],
        message:
          'set CONSOLE_PASSWORD (or CONSOLE_PASSWORD_FILE) or CONSOLE_TOKEN: the console never runs without authentication',
      });
    }
    for (const [name, url] of Object.entries(cfg.CONSOLE_SERVICES)) {
      if (!/^https?:\/\/[^\s/]+/.test(url))
        ctx.addIssue({
          code: 'custom',
          path: ['CONSOLE_SERVICES'],
          message: `${name}: "${url}" is not an http(s) URL`,
        });
    }
  });

export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;
