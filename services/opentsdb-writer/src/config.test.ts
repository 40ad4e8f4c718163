import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@gridstream/config';
import { describe, expect, it } from 'vitest';
import { opentsdbWriterConfigSchema } from './config.js';

const load = (env: Record<string, string>) => loadConfig(opentsdbWriterConfigSchema, env);

function problems(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.variable}: ${p.message}`);
    throw error;
  }
  throw new Error('the configuration was accepted');
}

describe('opentsdb-writer configuration', () => {
  it('has working defaults', () => {
    const cfg = load({});
    expect(cfg).toMatchObject({
      HEALTH_PORT: 9111,
      WRITER_GROUP_ID: 'gridstream-opentsdb-writer',
      WRITER_BATCH_SIZE: 1000,
      WRITER_WRITES_IN_FLIGHT: 3,
      OPENTSDB_URL: 'http://127.0.0.1:4242',
      OPENTSDB_TIMEOUT_MS: 10_000,
      OPENTSDB_SYNC: true,
      OPENTSDB_METRIC_TEMPLATE: '{equipment}.{field}',
      OPENTSDB_TAGS: ['site', 'device', 'rack'],
      OPENTSDB_INVALID_CHARS: 'replace',
      OPENTSDB_ALLOWED_SPECIAL_CHARS: '',
      OPENTSDB_QUALITY_POINTS: true,
      OPENTSDB_ALARM_METRIC: 'gridstream.alarm',
    });
    expect(cfg.OPENTSDB_USERNAME).toBeUndefined();
  });

  it('takes another naming that still tells readings apart', () => {
    const cfg = load({
      OPENTSDB_METRIC_TEMPLATE: 'energy',
      OPENTSDB_TAGS: 'site,device,rack,equipment,field',
    });
    expect(cfg.OPENTSDB_TAGS).toEqual(['site', 'device', 'rack', 'equipment', 'field']);
  });

  it('reads the password from OPENTSDB_PASSWORD_FILE', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gs-otsdb-')), 'password');
    writeFileSync(file, 's3cr3t\n');
    const cfg = load({ OPENTSDB_USERNAME: 'writer', OPENTSDB_PASSWORD_FILE: file });
    expect(cfg.OPENTSDB_PASSWORD).toBe('s3cr3t');
  });

  it('names every problem of a bad configuration by its variable', () => {
    expect(
      problems({
        OPENTSDB_URL: 'tcp://tsdb:4242',
        OPENTSDB_TIMEOUT_MS: '5s',
        OPENTSDB_TAGS: 'site,host',
        OPENTSDB_INVALID_CHARS: 'drop',
        OPENTSDB_SYNC: 'maybe',
        OPENTSDB_ALARM_METRIC: 'alarm level',
        OPENTSDB_USERNAME: 'writer',
        WRITER_BATCH_SIZE: '0',
      }).sort(),
    ).toEqual(
      [
        'OPENTSDB_URL: must be an http(s) URL such as http://127.0.0.1:4242',
        'OPENTSDB_TIMEOUT_MS: must be a whole number',
        'OPENTSDB_INVALID_CHARS: must be replace (characters OpenTSDB refuses become _) or refuse (dead-letter the record)',
        'OPENTSDB_SYNC: must be true or false',
        'WRITER_BATCH_SIZE: Too small: expected number to be >=1',
      ].sort(),
    );
    // Cross-field rules run once every single value is valid.
    expect(
      problems({
        OPENTSDB_TAGS: 'site,host,site',
        OPENTSDB_ALARM_METRIC: 'alarm level',
        OPENTSDB_USERNAME: 'writer',
      }).sort(),
    ).toEqual(
      [
        'OPENTSDB_TAGS: host: not a tag the writer knows (choose from site, device, rack, equipment, field)',
        'OPENTSDB_TAGS: lists site twice',
        'OPENTSDB_ALARM_METRIC: has characters OpenTSDB refuses in a metric name: " "',
        'OPENTSDB_PASSWORD: OPENTSDB_USERNAME is set without OPENTSDB_PASSWORD (or _FILE): every write would be refused with 401',
      ].sort(),
    );
  });

  it('refuses a naming that would merge readings, saying which part is missing', () => {
    expect(problems({ OPENTSDB_METRIC_TEMPLATE: '{equipment}', OPENTSDB_TAGS: 'site,rack' })).toEqual([
      'OPENTSDB_METRIC_TEMPLATE: with OPENTSDB_TAGS=site,rack: device is neither in the metric template ({device}) nor a tag: readings of different devices would be one series',
      'OPENTSDB_METRIC_TEMPLATE: with OPENTSDB_TAGS=site,rack: field is neither in the metric template ({field}) nor a tag: readings of different fields would be one series',
    ]);
    expect(problems({ OPENTSDB_METRIC_TEMPLATE: 'gs {equipment}.{fields}' })).toEqual([
      'OPENTSDB_METRIC_TEMPLATE: {fields} is not a placeholder (use {equipment}, {field}, {site}, {device})',
      'OPENTSDB_METRIC_TEMPLATE: its fixed text has characters OpenTSDB refuses in a metric name: " "',
    ]);
    expect(
      load({ OPENTSDB_ALLOWED_SPECIAL_CHARS: ' ', OPENTSDB_METRIC_TEMPLATE: 'gs {equipment}.{field}' })
        .OPENTSDB_METRIC_TEMPLATE,
    ).toBe('gs {equipment}.{field}');
  });
});
