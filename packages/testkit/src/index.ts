export { writeSocArchiveFile } from './archive-fixture.js';
export { startInProcess } from './in-process.js';
export {
  asReadIn,
  createTestTopics,
  parsedRecordsOf,
  parsedV2Message,
  readCommitted,
  readParsedRecords,
  readTopic,
  removeTestTopics,
  TEST_AMQP_URL,
  TEST_BROKERS,
  TEST_INFLUX_URL,
  testKafka,
  testKafkaEnv,
  testLogger,
} from './kafka-fixtures.js';
export { uniqueName } from './names.js';
export { freePort } from './ports.js';
export {
  loadMicrogridGenerator,
  type MicrogridGeneratorModule,
  type MicrogridSiteModel,
} from './service-modules.js';
export {
  killAllServiceProcesses,
  type MemoryReading,
  type MemorySample,
  REPO_ROOT,
  readMemory,
  ServiceProcess,
  type ServiceProcessOptions,
} from './service-process.js';
export { TcpProxy } from './tcp-proxy.js';
export { sleep, waitFor } from './wait.js';
