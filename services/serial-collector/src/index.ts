export { checksumOf, verifyChecksum } from './checksum.js';
export { type SerialCollectorConfig, serialCollectorConfigSchema } from './config.js';
export { LineReader, type LineResult, parseTime } from './line-reader.js';
export { startSerialCollector } from './serial-collector-service.js';
export {
  loadSerialConfigFile,
  parseSerialConfig,
  type ResolvedPort,
  type SerialFileConfig,
} from './serial-config.js';
