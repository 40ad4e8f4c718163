export { envBoolean, envInt, envList, envMap } from './env-types.js';
export { type ConfigProblem, ConfigError, loadConfig } from './load-config.js';
