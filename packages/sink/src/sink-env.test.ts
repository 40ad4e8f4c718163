import { checkKafkaEnv, kafkaEnvShape } from '@gridstream/kafka';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkSinkEnv, sinkEnvShape } from './sink-env.js';

const schema = z
  .object({ ...kafkaEnvShape, ...sinkEnvShape({ groupId: 'gridstream-test-writer', batchSize: 1_000 }) })
  .superRefine((cfg, ctx) => {
    checkKafkaEnv(cfg, ctx);
    checkSinkEnv(cfg, ctx);
  });

describe('sinkEnvShape', () => {
  it('gives each sink its own group and batch defaults under the shared names', () => {
    const cfg = schema.parse({});
    expect(cfg.WRITER_GROUP_ID).toBe('gridstream-test-writer');
    expect(cfg.WRITER_BATCH_SIZE).toBe(1_000);
    expect(cfg.WRITER_WRITES_IN_FLIGHT).toBe(3);
    expect(cfg.WRITER_ALARMS).toBe(true);
  });

  it('names every problem at once: bad numbers and alarm topics that collide with the records topic', () => {
    const result = schema.safeParse({
      WRITER_BATCH_SIZE: '0',
      WRITER_WRITES_IN_FLIGHT: 'many',
      KAFKA_TOPIC_PARSED: 'same',
      KAFKA_TOPIC_ALARMS: 'same',
      KAFKA_TOPIC_ALARM_ACTIONS: 'same',
    });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['WRITER_BATCH_SIZE', 'WRITER_WRITES_IN_FLIGHT']));
  });

  it('accepts shared topics when the sink does not read alarms', () => {
    const cfg = { KAFKA_TOPIC_PARSED: 'same', KAFKA_TOPIC_ALARMS: 'same', KAFKA_TOPIC_ALARM_ACTIONS: 'same' };
    const refused = schema.safeParse({ ...cfg, WRITER_BATCH_SIZE: '10' });
    expect(refused.error?.issues.map((i) => i.path.join('.'))).toEqual([
      'KAFKA_TOPIC_ALARMS',
      'KAFKA_TOPIC_ALARM_ACTIONS',
    ]);
    expect(schema.safeParse({ ...cfg, WRITER_ALARMS: 'false' }).success).toBe(true);
  });
});
