import { randomBytes } from 'node:crypto';
import type { Kafka } from '@gridstream/kafka';
import type { Logger } from '@gridstream/runtime';

/**
 * Reads every message of a topic from the beginning up to the high watermark it had when the read began,
 * and returns the values parsed as JSON (unparsable values skipped: a bad message in the alarms topic
 * must not keep the parser from starting). Used to restore the active alarm episodes after a restart or
 * a rebalance, so an alarm already active is continued rather than raised a second time.
 *
 * A throwaway consumer group (deleted afterwards) rather than the parser's own: these reads must never
 * commit anything, and must always start from the beginning.
 */
export async function readTopicToEnd(
  kafka: Kafka,
  topic: string,
  logger: Logger,
  { timeoutMs = 60_000, groupPrefix = 'gridstream-parser-restore' } = {},
): Promise<unknown[]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `${groupPrefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    /** partition → offset of the last message to read. */
    const remaining = new Map<number, bigint>();
    for (const o of offsets) {
      if (BigInt(o.high) > BigInt(o.low)) remaining.set(o.partition, BigInt(o.high) - 1n);
    }
    if (remaining.size === 0) return [];
    const values: unknown[] = [];
    const consumer = kafka.consumer({ groupId, sessionTimeout: 30_000, heartbeatInterval: 3_000 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      let finish: () => void = () => undefined;
      const done = new Promise<void>((resolve) => {
        finish = resolve;
      });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const last = remaining.get(batch.partition);
          for (const message of batch.messages) {
            if (last === undefined) break;
            if (BigInt(message.offset) > last) {
              // Past the end as it was (the last offset may have been compacted away): done here.
              remaining.delete(batch.partition);
              break;
            }
            if (message.value === null) continue; // a tombstone: nothing to restore
            try {
              values.push(JSON.parse(message.value.toString('utf8')));
            } catch {
              // not JSON: skipped (the stage validates every event anyway)
            }
            if (BigInt(message.offset) === last) {
              remaining.delete(batch.partition);
              break;
            }
          }
          if (remaining.size === 0) finish();
        },
      });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`reading ${topic} to its end took more than ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      try {
        await Promise.race([done, timeout]);
      } finally {
        clearTimeout(timer);
      }
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
    logger.debug({ topic, messages: values.length }, 'read topic to its end');
    return values;
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
