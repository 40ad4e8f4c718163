export {
  type ParseOptions,
  type ParseResult,
  parseRaw,
  type RawMessage,
  zoneResolver,
} from './parse-raw.js';
