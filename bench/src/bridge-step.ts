import {
  type AmqpConfig,
  AmqpPublisher,
  amqpConfigFromEnv,
  amqpEnvSchema,
  deleteTopology,
  openConnection,
} from '@gridstream/amqp';
import type { ConsumeMessage } from 'amqplib';
import { cleanupMark, onCleanup, runCleanupSince } from './cleanup.js';
import { type BenchContext, benchName, cpuMeter, type ResultRow } from './context.js';
import { describeCpu } from './cpu-meter.js';
import type { GeneratedMessage } from './generator.js';
import { freshTopics, timeFill, topicSize } from './kafka-steps.js';
import { describeServiceMetrics } from './service-metrics.js';
import { spawnService } from './service-process.js';
import { formatNumber } from './stats.js';

export function amqpFor(amqpUrl: string, name: string): AmqpConfig {
  return amqpConfigFromEnv(amqpEnvSchema.parse({ AMQP_URL: amqpUrl, AMQP_EXCHANGE: name, AMQP_QUEUE: name }));
}

/** Registers the removal of the queue and exchange (the preload or the bridge declares them). */
function removeTopologyLater(amqp: AmqpConfig): void {
  onCleanup(`delete queue ${amqp.topology.queue}`, async () => {
    const connection = await openConnection(amqp.connection, 'gridstream-bench-cleanup');
    try {
      const channel = await connection.createChannel();
      await deleteTopology(channel, amqp.topology);
    } finally {
      await connection.close().catch(() => undefined);
    }
  });
}

/**
 * Fills the queue with the run's messages as a gateway would send them: persistent, confirmed, routing key
 * `site.<id>`, a message id each. At most `window` unconfirmed at a time.
 */
export async function preloadQueue(
  amqp: AmqpConfig,
  messages: GeneratedMessage[],
  window = 2_000,
): Promise<number> {
  const publisher = new AmqpPublisher({
    amqp,
    declare: 'topology',
    connectionName: 'gridstream-bench-preload',
  });
  const start = Date.now();
  await publisher.connect(15_000);
  try {
    let pending: Promise<void>[] = [];
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      pending.push(publisher.publish(`site.${m.site}`, m.body, { messageId: `bench-${i}` }));
      if (pending.length >= window) {
        await Promise.all(pending);
        pending = [];
      }
    }
    await Promise.all(pending);
  } finally {
    await publisher.close();
  }
  return (Date.now() - start) / 1000;
}

/**
 * How fast a bare amqplib consumer takes the messages off the queue: prefetch 1000, one multiple-ack per
 * 100 deliveries (and for the last one). Clock from the first delivery to the last.
 */
async function rawConsumeRate(
  amqp: AmqpConfig,
  total: number,
): Promise<{ perSecond: number; seconds: number }> {
  const connection = await openConnection(amqp.connection, 'gridstream-bench-raw-consume');
  try {
    const channel = await connection.createChannel();
    await channel.prefetch(1_000);
    let received = 0;
    let firstAt = 0;
    let lastAt = 0;
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`raw consume got ${received} of ${total} in 120 s`)),
        120_000,
      );
      void channel.consume(
        amqp.topology.queue,
        (msg: ConsumeMessage | null) => {
          if (msg === null) return;
          received++;
          if (received === 1) firstAt = performance.now();
          if (received % 100 === 0 || received === total) channel.ack(msg, true);
          if (received === total) {
            lastAt = performance.now();
            clearTimeout(timer);
            resolve();
          }
        },
        { noAck: false },
      );
    });
    await done;
    await channel.close();
    const seconds = (lastAt - firstAt) / 1000;
    return { perSecond: (total - 1) / seconds, seconds };
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Messages still in the queue (ready, not counting unacked ones). */
export async function queueDepth(amqp: AmqpConfig): Promise<number> {
  const connection = await openConnection(amqp.connection, 'gridstream-bench-check');
  try {
    const channel = await connection.createChannel();
    const { messageCount } = await channel.checkQueue(amqp.topology.queue);
    return messageCount;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/**
 * Bridge (RabbitMQ → Kafka) vs a bare amqplib consumer, each draining a queue preloaded with the same M
 * messages. The bridge is clocked by polling the raw topic's size (first message seen → all M there).
 */
export async function bridgeStep(ctx: BenchContext): Promise<ResultRow[]> {
  const total = ctx.messages.length;
  let raw: { perSecond: number; seconds: number };
  {
    const mark = cleanupMark();
    try {
      const amqp = amqpFor(ctx.amqpUrl, benchName(ctx, 'amqp', 'raw-consume'));
      removeTopologyLater(amqp);
      const preload = await preloadQueue(amqp, ctx.messages);
      const cpu = cpuMeter(ctx);
      cpu.start();
      raw = await rawConsumeRate(amqp, total);
      const usage = cpu.stop(ctx.cores);
      ctx.details.push(
        `amqp raw: preloaded ${total} persistent messages in ${formatNumber(preload)} s; consumed in ${formatNumber(raw.seconds)} s (prefetch 1000, multiple-ack per 100)`,
      );
      ctx.details.push(
        `amqp raw: CPU while consuming (share of one core; includes connection setup): ${describeCpu(usage)}`,
      );
    } finally {
      await runCleanupSince(mark);
    }
  }

  const mark = cleanupMark();
  try {
    const name = benchName(ctx, 'bridge', 'queue');
    const amqp = amqpFor(ctx.amqpUrl, name);
    const rawTopic = benchName(ctx, 'bridge', 'raw');
    const dlq = benchName(ctx, 'bridge', 'dlq');
    await freshTopics(ctx.kafka, [rawTopic, dlq], ctx.partitions);
    removeTopologyLater(amqp);
    const preload = await preloadQueue(amqp, ctx.messages);

    const bridge = await spawnService('bridge', {
      step: 'bridge',
      logDir: ctx.logDir,
      profileDir: ctx.profileDir,
      env: {
        ...ctx.serviceEnv,
        AMQP_EXCHANGE: name,
        AMQP_QUEUE: name,
        KAFKA_TOPIC_RAW: rawTopic,
        KAFKA_TOPIC_DLQ: dlq,
      },
    });
    let timing: Awaited<ReturnType<typeof timeFill>>;
    let left: number;
    try {
      timing = await timeFill(ctx.kafka, rawTopic, total, bridge, {
        cpu: cpuMeter(ctx, [bridge]),
        cores: ctx.cores,
      });
      // Acks follow the produce; give the last batch's ack a moment before looking at the queue.
      const until = Date.now() + 10_000;
      do {
        left = await queueDepth(amqp);
        if (left === 0) break;
        await new Promise((r) => setTimeout(r, 200));
      } while (Date.now() < until);
    } finally {
      ctx.details.push(...(await describeServiceMetrics('bridge', bridge)));
      ctx.memory.push(await bridge.stop());
    }
    const deadLetters = await topicSize(ctx.kafka, dlq);
    ctx.details.push(
      `bridge: preloaded ${total} in ${formatNumber(preload)} s; ${timing.counted} messages in ${formatNumber(timing.seconds)} s after the first one reached Kafka; ` +
        `${left} left in the queue, ${deadLetters} dead letters`,
    );
    if (timing.cpu)
      ctx.details.push(`bridge: CPU in that window (share of one core): ${describeCpu(timing.cpu)}`);
    if (left !== 0 || deadLetters !== 0)
      throw new Error(`bridge left ${left} in the queue, ${deadLetters} dead letters`);
    const ratio = timing.perSecond / raw.perSecond;
    return [
      {
        metric: 'bridge (RabbitMQ → Kafka)',
        unit: 'msg/s',
        baseline: raw.perSecond,
        baselineLabel: 'raw amqplib consume',
        value: timing.perSecond,
        ratio,
        target: '≥ 60% of raw consume',
        pass: ratio >= 0.6,
      },
    ];
  } finally {
    await runCleanupSince(mark);
  }
}
