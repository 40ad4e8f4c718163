export { decodeRecord, encodeRecord, type SpooledMessage } from './record-codec.js';
export { openSourceSpool, type SourceSpool, type SourceSpoolOptions } from './source-spool.js';
export {
  type FsyncPolicy,
  type FullPolicy,
  readSpoolFolder,
  Spool,
  type SpoolEntry,
  type SpoolOptions,
} from './spool.js';
export { type SpoolEnv, spoolEnvShape, spoolOptionsFromEnv } from './spool-env.js';
export { type SpoolMetrics, spoolMetrics } from './spool-metrics.js';
export { SpoolSender, type SpoolSenderOptions } from './spool-sender.js';
