export * from './dead-letter.js';
export * from './identifiers.js';
export * from './microgrid.js';
export * from './parsed-record.js';
export * from './quality.js';
export * from './raw-headers.js';
export * from './samples.js';
export * from './topics.js';
