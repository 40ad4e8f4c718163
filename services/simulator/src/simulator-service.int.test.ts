import { randomUUID } from 'node:crypto';
import { amqpConfigFromEnv, deleteTopology, openConnection } from '@gridstream/amqp';
import { loadConfig } from '@gridstream/config';
import { createLogger, createMetricsRegistry, Readiness } from '@gridstream/runtime';
import { describe, expect, it } from 'vitest';
import { simulatorConfigSchema } from './config.js';
import { startSimulator } from './simulator-service.js';

describe('simulator against RabbitMQ', () => {
  it('publishes SIM_MESSAGES confirmed messages round-robin over the sites, then reports finished', async () => {
    const name = `gs-test-sim-${randomUUID().slice(0, 8)}`;
    const config = loadConfig(simulatorConfigSchema, {
      AMQP_EXCHANGE: name,
      AMQP_QUEUE: name,
      SIM_RATE: '200',
      SIM_SITES: '3',
      SIM_MESSAGES: '90',
      SIM_TIMESTAMP_PRECISION: 'ms',
      LOG_LEVEL: 'silent',
    });
    const amqp = amqpConfigFromEnv(config);
    const connection = await openConnection(amqp.connection, 'gs-test-sim-inspect');
    const channel = await connection.createChannel();
    try {
      let finished!: () => void;
      const done = new Promise<void>((resolve) => {
        finished = resolve;
      });
      const readiness = new Readiness();
      const service = await startSimulator(
        {
          config,
          logger: createLogger({ service: 'simulator', level: 'silent' }),
          metrics: createMetricsRegistry('simulator'),
          readiness,
        },
        { onFinished: finished },
      );
      await done;
      readiness.state = 'running';
      expect(readiness.report().checks.rabbitmq?.ok).toBe(true);
      await service.stop();

      const got: { routingKey: string; messageId: string; site: string; contentType: string }[] = [];
      for (;;) {
        const msg = await channel.get(name, { noAck: true });
        if (msg === false) break;
        const body = JSON.parse(msg.content.toString('utf8'));
        got.push({
          routingKey: msg.fields.routingKey,
          messageId: msg.properties.messageId,
          site: body.header.site_id,
          contentType: msg.properties.contentType,
        });
      }
      expect(got).toHaveLength(90);
      expect(got.slice(0, 4)).toEqual([
        { routingKey: 'site.000001', messageId: '000001-1', site: '000001', contentType: 'application/json' },
        { routingKey: 'site.000002', messageId: '000002-1', site: '000002', contentType: 'application/json' },
        { routingKey: 'site.000003', messageId: '000003-1', site: '000003', contentType: 'application/json' },
        { routingKey: 'site.000001', messageId: '000001-2', site: '000001', contentType: 'application/json' },
      ]);
      expect(new Set(got.map((g) => g.messageId)).size).toBe(90);
    } finally {
      await deleteTopology(channel, amqp.topology).catch(() => {});
      await connection.close();
    }
  });
});
