import { envInt, envMap } from '@gridstream/config';
import { checkInfluxEnv, influxEnvShape } from '@gridstream/influx';
import { checkKafkaEnv, kafkaEnvShape } from '@gridstream/kafka';
import { runtimeEnvShape } from '@gridstream/runtime';
import { isValidTimeZone } from '@gridstream/schema';
import { z } from 'zod';

export const parserConfigSchema = z
  .object({
    ...runtimeEnvShape(9102),
    ...kafkaEnvShape,
    PARSER_GROUP_ID: z.string().default('gridstream-parser'),
    /**
     * Zone of the gateway's wall-clock timestamps for sites not listed in PARSER_SITE_TIMEZONES.
     * Microgrid headers carry no offset; reading them as UTC is the bug that shifted the old system's
     * data by 9 hours, so set this for your sites.
     */
    PARSER_DEFAULT_TIMEZONE: z.string().default('UTC'),
    /** Per-site zones: `000001=Asia/Seoul,000002=Europe/Berlin`. */
    PARSER_SITE_TIMEZONES: envMap(),
    /** Larger raw messages are dead-lettered as `oversized` without being parsed. */
    PARSER_MAX_MESSAGE_BYTES: envInt(4 * 1024 * 1024, { min: 1_024 }),
    PARSER_MAX_MESSAGES_PER_CALL: envInt(500, { min: 1, max: 10_000 }),
    /**
     * Bytes fetched per raw partition at a time. Gateway messages are ~10 kB: the client's 1 MiB gave the
     * handler ~75 messages per call whatever PARSER_MAX_MESSAGES_PER_CALL said, and every call costs a
     * transaction (begin, produce, offsets, commit). 4 MiB: ~310 per call, 30% less CPU per message in
     * `make bench` (docs/benchmarks.md), ~50 MiB more peak RSS.
     */
    PARSER_FETCH_BYTES: envInt(4 * 1024 * 1024, { min: 64 * 1024, max: 64 * 1024 * 1024 }),
    /**
     * Raw messages per raw partition whose identity (source + message id, or the payload's hash) the parser
     * remembers to drop a redelivered copy (a bridge or collector restarted between Kafka's ack and its own
     * bookkeeping). 0 turns it off. The window travels in the parser's transactions (docs/reliability.md).
     */
    PARSER_DEDUP_WINDOW: envInt(10_000, { min: 0, max: 100_000 }),
    /** Compacted changelog of the duplicate windows; default `<PARSER_GROUP_ID>.dedup`. */
    PARSER_DEDUP_TOPIC: z.string().min(1).optional(),
    /**
     * Value format of the parsed topic (docs/messages.md): `v2`, one Kafka message per raw message and
     * site carrying its records (keyed by site), or `v1`, one message per record (keyed by device), for
     * readers that only know the record. v2 cuts the Kafka records 17-fold for gateway messages, and with
     * them most of the per-message CPU and memory of the parser, the writer and the archiver.
     */
    PARSER_PARSED_FORMAT: z.enum(['v1', 'v2']).default('v2'),
    /**
     * Quality stage (docs/quality.md): YAML file of quality checks, expected devices and alarm rules.
     * Unset: no stage, records pass as parsed (source flags only) and no alarms are produced.
     */
    QUALITY_CONFIG: z.string().min(1).optional(),
    /** How often expected devices are checked for silence (device_missing). */
    QUALITY_MISSING_CHECK_MS: envInt(5_000, { min: 100, max: 3_600_000 }),
    /** Anomaly fences: recomputed from InfluxDB this often; 0 = off (no anomaly flags). */
    QUALITY_FENCES_INTERVAL_MS: envInt(0, { min: 0, max: 7 * 24 * 3_600_000 }),
    /** History the fences are computed from, as an InfluxQL duration. */
    QUALITY_FENCES_WINDOW: influxDuration('7d'),
    /**
     * Mean per interval before the quantiles, as an InfluxQL duration; `raw` = every stored value. Resampled
     * by default: raw values over the window (7 days of per-second readings per series) would all be pulled
     * into the parser's memory at every run.
     */
    QUALITY_FENCES_RESAMPLE: z
      .string()
      .regex(/^(raw|\d+(ms|s|m|h|d|w))$/, 'must be an InfluxQL duration such as 1m, 1h or 1d, or `raw`')
      .default('1m'),
    ...influxEnvShape,
  })
  .superRefine((cfg, ctx) => {
    checkKafkaEnv(cfg, ctx);
    if (cfg.QUALITY_FENCES_INTERVAL_MS > 0) checkInfluxEnv(cfg, ctx);
    if (cfg.QUALITY_FENCES_INTERVAL_MS > 0 && cfg.QUALITY_FENCES_WINDOW === '')
      ctx.addIssue({
        code: 'custom',
        path: ['QUALITY_FENCES_WINDOW'],
        message: 'must not be empty while QUALITY_FENCES_INTERVAL_MS is on: the fences need a history window',
      });
    if (cfg.QUALITY_FENCES_INTERVAL_MS > 0 && cfg.QUALITY_CONFIG === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['QUALITY_FENCES_INTERVAL_MS'],
        message:
          'fences are computed for the fields with `anomaly` in QUALITY_CONFIG, which is not set: set it or set this to 0',
      });
    if (!isValidTimeZone(cfg.PARSER_DEFAULT_TIMEZONE))
      ctx.addIssue({
        code: 'custom',
        path: ['PARSER_DEFAULT_TIMEZONE'],
        message: `"${cfg.PARSER_DEFAULT_TIMEZONE}" is not an IANA time zone (e.g. Asia/Seoul)`,
      });
    for (const [site, zone] of Object.entries(cfg.PARSER_SITE_TIMEZONES)) {
      if (!isValidTimeZone(zone))
        ctx.addIssue({
          code: 'custom',
          path: ['PARSER_SITE_TIMEZONES'],
          message: `site ${site}: "${zone}" is not an IANA time zone`,
        });
    }
  });

/** `30s`, `15m`, `6h`, `7d`, `2w` (InfluxQL duration literal; interpolated into queries, so checked strictly). */
function influxDuration(defaultValue: string) {
  return z
    .string()
    .regex(/^(\d+(ms|s|m|h|d|w))?$/, 'must be an InfluxQL duration such as 30m, 6h or 7d')
    .default(defaultValue);
}

export type ParserConfig = z.infer<typeof parserConfigSchema>;
