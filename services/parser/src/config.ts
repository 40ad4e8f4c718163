import { envInt, envMap } from '@gridstream/config';
import { checkKafkaEnv, kafkaEnvShape } from '@gridstream/kafka';
import { runtimeEnvShape } from '@gridstream/runtime';
import { z } from 'zod';
import { isValidTimeZone } from './local-time.js';

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
  })
  .superRefine((cfg, ctx) => {
    checkKafkaEnv(cfg, ctx);
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

export type ParserConfig = z.infer<typeof parserConfigSchema>;
