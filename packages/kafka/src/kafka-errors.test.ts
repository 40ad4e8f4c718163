import { describe, expect, it } from 'vitest';
import { isFencedError, isMembershipError } from './kafka-errors.js';

/** kafkajs errors carry the protocol error's name in `type`; its retrier wraps the last one in `cause`. */
const protocolError = (type: string) => Object.assign(new Error(type), { type });

describe('Kafka error classes', () => {
  it('tells membership errors (rejoin) from fencing (drop the producer)', () => {
    expect(isMembershipError(protocolError('UNKNOWN_MEMBER_ID'))).toBe(true);
    expect(isMembershipError(protocolError('PRODUCER_FENCED'))).toBe(false);
    expect(isFencedError(protocolError('PRODUCER_FENCED'))).toBe(true);
    expect(isFencedError(protocolError('UNKNOWN_MEMBER_ID'))).toBe(false);
  });
});
