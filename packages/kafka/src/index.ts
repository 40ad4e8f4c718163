export { createKafka, type Kafka } from './client.js';
export {
  type BatchContext,
  type BatchHandler,
  type BatchOutcome,
  type ConsumerHandle,
  type ConsumerOptions,
  type OffsetToCommit,
  runConsumer,
  type TopicPartitions,
} from './consumer-loop.js';
export {
  DEFAULT_DLQ_PAYLOAD_BYTES,
  type DeadLetterInput,
  deadLetter,
  deadLetterFor,
} from './dead-letters.js';
export { checkKafkaEnv, type KafkaEnv, kafkaEnvShape } from './kafka-env.js';
export { isFencedError, isMembershipError } from './kafka-errors.js';
export { consumerLag, type PartitionLag } from './lag.js';
export { decodeHeaders, type InMessage, type OutMessage, toInMessage } from './messages.js';
export { counter, gauge, histogram } from './metrics.js';
export { OffsetProgress, type SliceMark } from './offset-progress.js';
export { PartitionRouter, splitRequests } from './partition-requests.js';
export {
  PartitionTransactions,
  type PartitionTransactionsOptions,
  type TopicMessages,
} from './partition-transactions.js';
export { murmur2, partitionOfKey } from './partitioner.js';
export { ReliableProducer } from './reliable-producer.js';
export {
  type OffsetRange,
  readRanges,
  readTopicToEnd,
  tailTopic,
  wholeTopicRanges,
} from './topic-reader.js';
export {
  alarmActionsTopicRequest,
  alarmsTopicRequest,
  COMPACTED_TOPIC_CONFIG,
  deleteTopics,
  ensureConfiguredTopics,
  ensureTopics,
  type TopicRequest,
  type TopicSpec,
  topicPartitionCount,
} from './topics.js';
export {
  runTransactionalConsumer,
  type TransactionalConsumerOptions,
  type TransactionalContext,
  type TransactionalHandler,
} from './transactional-consumer.js';
