import { type OutMessage, ReliableProducer, toInMessage } from '@gridstream/kafka';
import { createLogger } from '@gridstream/runtime';
import { Consumer, MessagesStreamModes, stringDeserializer } from '@platformatic/kafka';
import { cleanupMark, runCleanupSince } from './cleanup.js';
import { type BenchContext, benchName, type ResultRow } from './context.js';
import { freshTopics } from './kafka-steps.js';
import { formatNumber } from './stats.js';

interface Phase {
  seconds: number;
  /** CPU seconds of the bench process (where the client runs) per second of the phase. */
  cores: number;
}

/** Wall time and this process's CPU while `run` runs. */
async function measure(run: () => Promise<void>): Promise<Phase> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { seconds, cores: (cpu.user + cpu.system) / 1e6 / seconds };
}

/** Sends of at most 1,000 messages and ~768 KiB (the broker refuses a record batch over 1 MiB). */
const CHUNK = 1_000;
const CHUNK_BYTES = 768 * 1024;

/** The messages cut into sends as above, in order. */
function chunks(messages: OutMessage[]): OutMessage[][] {
  const out: OutMessage[][] = [];
  let current: OutMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = m.value.length + (m.key?.length ?? 0);
    if (current.length > 0 && (current.length >= CHUNK || bytes + size > CHUNK_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * The Kafka client itself, kafkajs against @platformatic/kafka, on the parsed records the parser step
 * produced: both produce them idempotently with acks=all in sends of up to 1,000 messages and 768 KiB into a fresh topic each (kafkajs
 * as the services ran it before their producers moved; @platformatic/kafka through ReliableProducer, as they
 * run it now), then read them back read_committed from the beginning, decoding headers to strings as
 * our consumer loop does. Same process, same messages, one after the other; the figure that decides a
 * client switch is CPU per message, since on 2 cores the clients' CPU is what the services run out of.
 */
export async function clientStep(ctx: BenchContext, parsed: OutMessage[]): Promise<ResultRow[]> {
  const mark = cleanupMark();
  const brokers = ctx.serviceEnv.KAFKA_BROKERS!.split(',');
  try {
    const topics = {
      kafkajs: benchName(ctx, 'client', 'kafkajs'),
      platformatic: benchName(ctx, 'client', 'platformatic'),
    };
    await freshTopics(ctx.kafka, Object.values(topics), ctx.partitions, []);
    const n = parsed.length;
    const sends = chunks(parsed);

    // kafkajs as the services ran it until they moved: idempotent, acks=all, one request in flight.
    const kjsProducer = ctx.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await kjsProducer.connect();
    const kjsProduce = await measure(async () => {
      for (const chunk of sends) await kjsProducer.send({ topic: topics.kafkajs, acks: -1, messages: chunk });
    });
    await kjsProducer.disconnect();

    // @platformatic/kafka through the producer every service now uses (one request per partition).
    const reliable = new ReliableProducer(ctx.kafka, createLogger({ service: 'bench', level: 'error' }));
    await reliable.connect();
    const pfProduce = await measure(async () => {
      for (const chunk of sends) await reliable.send(topics.platformatic, chunk);
    });
    await reliable.disconnect();

    // kafkajs consumer, eachBatch as consumer-loop.ts runs it.
    let kjsRead = 0;
    const kjsConsumer = ctx.kafka.consumer({
      groupId: benchName(ctx, 'client', 'kafkajs-group'),
      readUncommitted: false,
      maxBytesPerPartition: 1_048_576,
    });
    await kjsConsumer.connect();
    await kjsConsumer.subscribe({ topic: topics.kafkajs, fromBeginning: true });
    const kjsConsume = await measure(
      () =>
        new Promise<void>((resolve) => {
          void kjsConsumer.run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              for (const m of batch.messages) {
                const message = toInMessage(batch.topic, batch.partition, m);
                if (message.headers !== undefined) kjsRead++;
              }
              if (kjsRead >= n) resolve();
            },
          });
        }),
    );
    await kjsConsumer.disconnect();

    let pfRead = 0;
    const consumer = new Consumer({
      groupId: benchName(ctx, 'client', 'platformatic-group'),
      clientId: 'gridstream-bench',
      bootstrapBrokers: brokers,
      deserializers: {
        key: (data?: Buffer) => data,
        value: (data?: Buffer) => data,
        headerKey: stringDeserializer,
        headerValue: stringDeserializer,
      },
    });
    const pfConsume = await measure(async () => {
      const stream = await consumer.consume({
        topics: [topics.platformatic],
        mode: MessagesStreamModes.EARLIEST,
        autocommit: false,
        isolationLevel: 1, // READ_COMMITTED
        maxBytesPerPartition: 1_048_576,
      });
      for await (const message of stream) {
        if (message.headers.size >= 0) pfRead++;
        if (pfRead >= n) break;
      }
      await stream.close();
    });
    await consumer.close(true);

    if (kjsRead !== n || pfRead !== n)
      throw new Error(`read back ${kjsRead} (kafkajs) and ${pfRead} (@platformatic/kafka) of ${n} messages`);

    const row = (what: string, kjs: Phase, pf: Phase): ResultRow[] => {
      const perMillion = (p: Phase) => (p.cores * p.seconds * 1e6) / n;
      ctx.details.push(
        `client ${what}: kafkajs ${formatNumber(n / kjs.seconds)} msg/s at ${formatNumber(kjs.cores * 100)}% of a core; ` +
          `@platformatic/kafka ${formatNumber(n / pf.seconds)} msg/s at ${formatNumber(pf.cores * 100)}% of a core`,
      );
      return [
        {
          metric: `Kafka client ${what} (${formatNumber(n, 0)} parsed-topic messages, msg/s)`,
          unit: 'msg/s',
          baseline: n / kjs.seconds,
          baselineLabel: 'kafkajs 2.2.4',
          value: n / pf.seconds,
          valueLabel: '@platformatic/kafka 2.12.1',
          ratio: kjs.seconds / pf.seconds,
        },
        {
          metric: `Kafka client ${what}, CPU seconds per million messages`,
          unit: 'CPU s',
          baseline: perMillion(kjs),
          baselineLabel: 'kafkajs 2.2.4',
          value: perMillion(pf),
          valueLabel: '@platformatic/kafka 2.12.1',
          ratio: perMillion(pf) / perMillion(kjs),
        },
      ];
    };
    return [
      ...row('produce (idempotent, acks=all)', kjsProduce, pfProduce),
      ...row('consume (read_committed)', kjsConsume, pfConsume),
    ];
  } finally {
    await runCleanupSince(mark);
  }
}
