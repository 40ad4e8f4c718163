export {
  type DecodeOptions,
  decodeRegisters,
  encodeRegisters,
  type RegisterType,
  registerCount,
} from './codec.js';
export {
  decodePoint,
  decodePointBit,
  encodePoint,
  engineeringToRaw,
  isOutOfRange,
  type PointReading,
  rawToEngineering,
} from './decode.js';
export { decodeRead, failRead } from './decode-read.js';
export { loadProfile, parseProfileYaml } from './load-profile.js';
export {
  describeModbusError,
  MODBUS_EXCEPTION_MEANINGS,
  type ModbusErrorInfo,
  type ModbusErrorKind,
} from './modbus-errors.js';
export { type PlanOptions, planDeviceReads, planReads, type ReadRequest } from './plan-reads.js';
export {
  type DeviceProfile,
  type DeviceProfileInput,
  DeviceProfileInputSchema,
  DeviceProfileSchema,
  MAX_BITS_PER_READ,
  MAX_REGISTERS_PER_READ,
  MODBUS_FUNCTIONS,
  type ModbusFunction,
  type ParsedProfile,
  POINT_TYPES,
  type PointRange,
  type PointType,
  ProfileError,
  type ProfileIssue,
  type ProfilePoint,
  parseProfile,
  REGISTER_ORDERS,
  type RegisterOrder,
} from './profile-schema.js';
export { toSamples } from './to-samples.js';
