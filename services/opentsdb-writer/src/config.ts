import { envBoolean, envInt, envList } from '@gridstream/config';
import { checkKafkaEnv, kafkaEnvShape } from '@gridstream/kafka';
import { runtimeEnvShape } from '@gridstream/runtime';
import { checkSinkEnv, sinkEnvShape } from '@gridstream/sink';
import { z } from 'zod';
import {
  DEFAULT_NAMING,
  identityProblems,
  parseMetricTemplate,
  TAG_KEYS,
  type TagKey,
} from './datapoints.js';
import { describeChars, NameRules } from './naming.js';

const optionalText = z.string().min(1).optional();

export const opentsdbWriterConfigSchema = z
  .object({
    ...runtimeEnvShape(9111),
    ...kafkaEnvShape,
    // 1,000 datapoints (~110 KB of JSON) per request: VictoriaMetrics takes ~10x the throughput of
    // OpenTSDB's suggested 50 at this size (docs/opentsdb-writer.md, bench). OpenTSDB needs
    // tsd.http.request.enable_chunked for bodies over 8 KiB; without it set WRITER_BATCH_SIZE=50.
    ...sinkEnvShape({ groupId: 'gridstream-opentsdb-writer', batchSize: 1_000, writesInFlight: 3 }),
    /** Base URL of the OpenTSDB HTTP API (OpenTSDB's TSD, VictoriaMetrics' -opentsdbHTTPListenAddr). */
    OPENTSDB_URL: z
      .url({ protocol: /^https?$/, message: 'must be an http(s) URL such as http://127.0.0.1:4242' })
      .default('http://127.0.0.1:4242'),
    OPENTSDB_TIMEOUT_MS: envInt(10_000, { min: 100, max: 600_000 }),
    OPENTSDB_USERNAME: optionalText,
    OPENTSDB_PASSWORD: optionalText,
    /**
     * `?sync`: OpenTSDB answers only once its storage (HBase) has the datapoints, and names those it could
     * not store; without it OpenTSDB answers when they are queued, and a TSD crash loses them after the
     * commit. VictoriaMetrics ignores it (it answers after its own buffer took them).
     */
    OPENTSDB_SYNC: envBoolean(true),
    OPENTSDB_METRIC_TEMPLATE: z.string().min(1).default(DEFAULT_NAMING.metricTemplate),
    OPENTSDB_TAGS: envList(DEFAULT_NAMING.tags.join(',')),
    OPENTSDB_INVALID_CHARS: z
      .enum(['replace', 'refuse'], {
        message: 'must be replace (characters OpenTSDB refuses become _) or refuse (dead-letter the record)',
      })
      .default(DEFAULT_NAMING.invalidChars),
    /** The server's `tsd.core.tag.allow_specialchars`, e.g. ` :`. */
    OPENTSDB_ALLOWED_SPECIAL_CHARS: z.string().default(''),
    OPENTSDB_QUALITY_POINTS: envBoolean(DEFAULT_NAMING.qualityPoints),
    OPENTSDB_ALARM_METRIC: z.string().min(1).default(DEFAULT_NAMING.alarmMetric),
  })
  .superRefine((cfg, ctx) => {
    checkKafkaEnv(cfg, ctx);
    checkSinkEnv(cfg, ctx);
    const rules = new NameRules(cfg.OPENTSDB_ALLOWED_SPECIAL_CHARS);
    const badTags = cfg.OPENTSDB_TAGS.filter((t) => !(TAG_KEYS as readonly string[]).includes(t));
    if (badTags.length > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['OPENTSDB_TAGS'],
        message: `${badTags.join(', ')}: not a tag the writer knows (choose from ${TAG_KEYS.join(', ')})`,
      });
    const duplicates = cfg.OPENTSDB_TAGS.filter((t, i) => cfg.OPENTSDB_TAGS.indexOf(t) !== i);
    if (duplicates.length > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['OPENTSDB_TAGS'],
        message: `lists ${duplicates.join(', ')} twice`,
      });
    const { parts, problems } = parseMetricTemplate(cfg.OPENTSDB_METRIC_TEMPLATE, rules);
    for (const problem of problems)
      ctx.addIssue({ code: 'custom', path: ['OPENTSDB_METRIC_TEMPLATE'], message: problem });
    if (problems.length === 0 && badTags.length === 0)
      for (const problem of identityProblems(parts, cfg.OPENTSDB_TAGS as TagKey[]))
        ctx.addIssue({
          code: 'custom',
          path: ['OPENTSDB_METRIC_TEMPLATE'],
          message: `with OPENTSDB_TAGS=${cfg.OPENTSDB_TAGS.join(',')}: ${problem}`,
        });
    const badAlarm = rules.invalidChars(cfg.OPENTSDB_ALARM_METRIC);
    if (badAlarm.length > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['OPENTSDB_ALARM_METRIC'],
        message: `has characters OpenTSDB refuses in a metric name: ${describeChars(badAlarm)}`,
      });
    if (cfg.OPENTSDB_USERNAME && !cfg.OPENTSDB_PASSWORD)
      ctx.addIssue({
        code: 'custom',
        path: ['OPENTSDB_PASSWORD'],
        message:
          'OPENTSDB_USERNAME is set without OPENTSDB_PASSWORD (or _FILE): every write would be refused with 401',
      });
    if (!cfg.OPENTSDB_USERNAME && cfg.OPENTSDB_PASSWORD)
      ctx.addIssue({
        code: 'custom',
        path: ['OPENTSDB_USERNAME'],
        message:
          'a password is set without OPENTSDB_USERNAME: it would be ignored and writes sent unauthenticated',
      });
  });

export type OpenTsdbWriterConfig = z.infer<typeof opentsdbWriterConfigSchema>;
