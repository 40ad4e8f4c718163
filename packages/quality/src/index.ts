export { type Expression, evaluate, parseExpression } from './expression.js';
export { type Fences, fenceLevels, iqrFences, quantileSorted } from './fences.js';
export { compileGlob, isGlob, type NameMatcher } from './glob.js';
export {
  type AlarmRule,
  compileQualityConfig,
  EMPTY_QUALITY_CONFIG,
  type ExpectedDevice,
  type FieldRule,
  loadQualityConfig,
  parseQualityConfigYaml,
  profileRangeRules,
  type QualityConfig,
  QualityConfigError,
  type QualityConfigFile,
  type QualityConfigInput,
  QualityConfigSchema,
  validateQualityConfig,
} from './quality-config.js';
export {
  DEVICE_MISSING_FIELD,
  DEVICE_MISSING_RULE,
  type Fence,
  mergeFlags,
  QualityStage,
  type QualityStageOptions,
  type SliceOffsets,
  type StageResult,
  seriesKey,
  targetLevel,
} from './quality-stage.js';
