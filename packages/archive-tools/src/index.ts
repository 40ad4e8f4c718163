export { archiveSourceFromEnv, archiveStoreFromEnv } from './archive-from-env.js';
export {
  type ArchiveFileInfo,
  archiverKey,
  decodeNamePart,
  encodeNamePart,
  exportKey,
  parseArchiveKey,
} from './archive-keys.js';
export {
  type ArchiveObject,
  type ArchiveSource,
  type DtRange,
  StoreArchiveSource,
} from './archive-source.js';
export {
  type BigintsAsStrings,
  type DtSummary,
  formatVerifyReport,
  type GapRange,
  type KafkaPartitionOffsets,
  type VerifyOptions,
  type VerifyProgress,
  type VerifyReport,
  verifyArchive,
  verifyReportToJson,
} from './archive-verify.js';
export {
  AthenaQueryError,
  type AthenaQueryOptions,
  type AthenaQueryOutcome,
  downloadS3Object,
  runAthenaQuery,
} from './athena-query.js';
export { athenaClientFromEnv, glueClientFromEnv, parseS3Url, s3ClientFromEnv } from './aws-clients.js';
export { ArchiveEngine, type QueryResult, sqlIdentifier, sqlString } from './duckdb-engine.js';
export {
  CSV_CONTENT_TYPE,
  ExportDestinationError,
  exportS3EnvSchema,
  isS3Url,
  parseS3Destination,
  s3ExportStore,
} from './export-destination.js';
export { archiveSelectList, EXPORT_TS_TYPE, ExportStaging } from './export-staging.js';
export {
  type CrawlerRunOptions,
  type CrawlerRunResult,
  type CrawlerSpec,
  runCrawler,
} from './glue-crawler.js';
export {
  DEFAULT_PROJECTION_START,
  describeEnsureResult,
  diffTable,
  type EnsureTableOptions,
  type EnsureTableResult,
  ensureGlueTable,
  expectedTableInput,
  type GlueTableSpec,
  PARQUET_INPUT_FORMAT,
  PARQUET_OUTPUT_FORMAT,
  PARQUET_SERDE,
  tableLocation,
  tableParameters,
} from './glue-table.js';
export { queryInfluxChunked } from './influx-chunked-query.js';
export {
  daysOf,
  type ExportFormat,
  type ExportOptions,
  type ExportSummary,
  exportFromInflux,
} from './influx-export.js';
export { applyRetention, planRetention, type RetentionPlan, shardDurationFor } from './influx-retention.js';
export {
  type ConversionStats,
  EXPORT_KAFKA_OFFSET,
  EXPORT_KAFKA_PARTITION,
  type ExportRow,
  newConversionStats,
  seriesToRows,
} from './influx-rows.js';
export { fetchArchiverOffsets, kafkaRecordOffsets } from './kafka-offsets.js';
export { duration, formatProgress, ProgressBar, type ProgressSink } from './progress.js';
export {
  defaultEngine,
  type Engine,
  type RunQueryOptions,
  type RunQueryResult,
  runQuery,
} from './query-runner.js';
export {
  csvField,
  formatTable,
  type JsonCell,
  jsonCell,
  NULL_TEXT,
  queryResultToJson,
  toCsv,
} from './result-format.js';
export {
  compactInstant,
  DAY_MS,
  HOUR_MS,
  parseTimeArgument,
  TimeArgumentError,
  timeWindows,
  utcDate,
  utcDatesBetween,
  zonedMidnight,
} from './time-range.js';
export {
  archiveLocationEnvShape,
  athenaConfigured,
  athenaEnvShape,
  awsRegion,
  glueEnvShape,
  type ToolsEnv,
  toolsEnvSchema,
} from './tools-env.js';
