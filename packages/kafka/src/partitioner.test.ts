import { describe, expect, it } from 'vitest';
import { Partitioners } from './kafkajs.js';
import { partitionOfKey } from './partitioner.js';

describe('partitionOfKey', () => {
  it('agrees with the kafkajs default partitioner (Java-compatible murmur2) for keys of every tail length', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    for (const n of [1, 3, 6, 7, 64]) {
      const partitionMetadata = Array.from({ length: n }, (_, i) => ({
        partitionId: i,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [0],
        isr: [0],
      }));
      for (const key of ['a', 'ab', 'abc', 'abcd', 'sionyu', '000001', 'site-한국', 'x'.repeat(37)]) {
        const expected = partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
        expect(partitionOfKey(key, n), `${key} over ${n}`).toBe(expected);
      }
    }
  });
});
