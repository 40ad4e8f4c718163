export {
  type ArchiveEnv,
  type ArchiveStoreEnv,
  archiveEnvShape,
  archiveS3Region,
  archiveStoreEnvShape,
  archiveWriterEnvShape,
  checkArchiveEnv,
  normalizePrefix,
} from './archive-env.js';
export { createObjectStore, s3ClientFromArchiveEnv } from './create-store.js';
export { LocalObjectStore } from './local-store.js';
export {
  type ArchiveObjectName,
  archiveDate,
  archiveObjectKey,
  OFFSET_DIGITS,
  parseArchiveObjectKey,
  partitionObjectsPrefix,
} from './object-key.js';
export { assertObjectKey, type ObjectInfo, type ObjectStore, PARQUET_CONTENT_TYPE } from './object-store.js';
export {
  PARQUET_TS_TYPE,
  ParquetEngine,
  type ParquetEngineOptions,
  ParquetFileBuffer,
  type ParquetFileInfo,
} from './parquet-writer.js';
export {
  type ArchiveRow,
  checkArchiveRecord,
  type DecodedArchiveMessage,
  decodeArchiveMessage,
  decodeArchiveRecord,
  InvalidRecordError,
  recordToRows,
} from './record-rows.js';
export { S3ObjectStore, type S3ObjectStoreOptions } from './s3-store.js';
