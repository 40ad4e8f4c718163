export * from './backoff.js';
export * from './batch-consumer.js';
export * from './connect.js';
export * from './env.js';
export * from './logger.js';
export * from './publisher.js';
export * from './topology.js';
