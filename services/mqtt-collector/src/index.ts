export {
  type MqttCollectorConfig,
  makeMqttCollectorConfigSchema,
  mqttCollectorConfigSchema,
} from './config.js';
export { startMqttCollector } from './mqtt-collector-service.js';
export {
  type BrokerConfig,
  loadMqttConfigFile,
  type MqttFileConfig,
  parseMqttConfig,
} from './mqtt-config.js';
export { DATATYPE, parseSparkplugTopic } from './sparkplug-codec.js';
