export {
  makeOpcuaCollectorConfigSchema,
  type OpcuaCollectorConfig,
  opcuaCollectorConfigSchema,
} from './config.js';
export { startOpcuaCollector } from './opcua-collector-service.js';
export {
  type EndpointConfig,
  loadOpcuaConfigFile,
  type OpcuaFileConfig,
  parseOpcuaConfig,
} from './opcua-config.js';
