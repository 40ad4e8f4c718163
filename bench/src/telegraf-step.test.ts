import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './paths.js';
import { PARSED_MAPPING, telegrafConfig } from './telegraf-step.js';

describe('Telegraf mapping of the parsed topic', () => {
  it('is the one docs/messages.md gives third parties, word for word', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'messages.md'), 'utf8');
    expect(doc).toContain(PARSED_MAPPING);
  });

  it('is what the bench runs', () => {
    const config = telegrafConfig({
      brokers: ['127.0.0.1:9092'],
      topic: 't',
      group: 'g',
      influxUrl: 'http://127.0.0.1:8086',
      database: 'd',
      logFile: '/tmp/x.log',
    });
    expect(config).toContain(`data_format = "json_v2"\n${PARSED_MAPPING}\n`);
  });
});
