import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { crc32cImplementation } from './kafkajs.js';

const require = createRequire(import.meta.url);

describe("kafkajs's record-batch CRC32C", () => {
  it('is the native one on this platform and gives the CRC-32C check values', () => {
    expect(crc32cImplementation).toBe('native');
    const crc = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number;
    expect(crc(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc(Buffer.alloc(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    expect(crc(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43); // 32 bytes of ones
  });
});
