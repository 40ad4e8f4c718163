export { issuePath, readConfigFile, readSecretFile } from './config-file.js';
export { envBoolean, envInt, envList, envMap } from './env-types.js';
export { ConfigError, type ConfigProblem, loadConfig } from './load-config.js';
