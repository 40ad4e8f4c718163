import type { Kafka } from '@gridstream/kafka';

/** kafkajs ConfigResourceTypes.TOPIC; services do not import kafkajs itself. */
const TOPIC_RESOURCE = 2;
/** Record batch and record framing plus our headers and key, generously. */
export const KAFKA_FRAMING_BYTES = 4_096;

/**
 * Returns the topic's effective `max.message.bytes` (topic override or broker default), or undefined if
 * the broker does not say. The bridge refuses to start when a message it would forward can exceed it:
 * Kafka answers MESSAGE_TOO_LARGE on every retry, so one such message would stall the queue for good.
 */
export async function topicMaxMessageBytes(kafka: Kafka, topic: string): Promise<number | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const result = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: ['max.message.bytes'] }],
    });
    const entry = result.resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes');
    const value = entry ? Number(entry.configValue) : Number.NaN;
    return Number.isFinite(value) && value > 0 ? value : undefined;
  } finally {
    await admin.disconnect();
  }
}
