/** The bound of one samples.v1 message's JSON, the same for every source (the source seam's envelope). */
export { MAX_MESSAGE_CHARS } from '@gridstream/schema';
export {
  DETECT_BYTES,
  detectEncoding,
  ENCODINGS,
  type Encoding,
  type EncodingChoice,
  EncodingError,
} from './encoding.js';
export {
  type FileSummary,
  ImportAbortedError,
  type ImportProgress,
  type ImportSummary,
  importFiles,
} from './import-files.js';
export {
  type KafkaImportSink,
  type KafkaImportSinkOptions,
  openKafkaImportSink,
} from './kafka-import-sink.js';
export { UnsupportedFileError } from './open-file.js';
export {
  checkImportOptions,
  FILE_FORMATS,
  type FileFormat,
  type ImportOptions,
  ImportOptionsError,
  type ImportOptionsInput,
  ImportOptionsSchema,
  type OptionProblem,
  parseImportOptions,
  toEquipmentName,
} from './options.js';
export { type FilePreview, listColumns, previewFile, type TablePreview } from './preview.js';
export { REJECT_REASONS, type Reject, type RejectReason } from './rejects.js';
export { MappingError } from './row-mapper.js';
export { CountingSink, type ImportSendOptions, type ImportSink, importMessages } from './sink.js';
export {
  equipmentFromFileName,
  type MappingSuggestion,
  type SampleTable,
  suggestMapping,
  timeFormatOf,
} from './suggest-mapping.js';
export { SYNTHETIC_HEADER, writeSyntheticCsv } from './synthetic-csv.js';
export { parseTime, TIME_FORMATS, type TimeFormat, TimeParseError } from './time-formats.js';
