/**
 * The integration tests' helpers are the one harness in @gridstream/testkit (also used by the bench and the
 * soak): every test gets its own topics, queues and databases (unique names) and removes them afterwards,
 * so tests never see each other's data and can run in any order. Re-exported here for the tests' imports.
 */
export {
  asReadIn,
  createTestTopics,
  freePort,
  parsedRecordsOf,
  parsedV2Message,
  readCommitted,
  readParsedRecords,
  readTopic,
  removeTestTopics,
  sleep,
  startInProcess,
  TEST_AMQP_URL,
  TEST_BROKERS,
  TEST_INFLUX_URL,
  testKafka,
  testKafkaEnv,
  testLogger,
  uniqueName,
  waitFor,
  writeSocArchiveFile,
} from '@gridstream/testkit';
