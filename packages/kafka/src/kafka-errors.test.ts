import { describe, expect, it } from 'vitest';
import { isFencedError, isMembershipError, isProducerStateError } from './kafka-errors.js';

/** kafkajs errors carry the protocol error's name in `type`; its retrier wraps the last one in `cause`. */
const protocolError = (type: string) => Object.assign(new Error(type), { type });

describe('Kafka error classes', () => {
  it('recognises a lost producer sequence, also wrapped by the retrier, and nothing else', () => {
    expect(isProducerStateError(protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER'))).toBe(true);
    expect(isProducerStateError(protocolError('UNKNOWN_PRODUCER_ID'))).toBe(true);
    const wrapped = Object.assign(new Error('Number of retries exceeded'), {
      cause: protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER'),
    });
    expect(isProducerStateError(wrapped)).toBe(true);
    expect(isProducerStateError(protocolError('NOT_LEADER_FOR_PARTITION'))).toBe(false);
    expect(isProducerStateError(new Error('Connection error: connect ECONNREFUSED'))).toBe(false);
    expect(isProducerStateError(undefined)).toBe(false);
  });

  it('tells membership errors (rejoin) from fencing (drop the producer)', () => {
    expect(isMembershipError(protocolError('UNKNOWN_MEMBER_ID'))).toBe(true);
    expect(isMembershipError(protocolError('PRODUCER_FENCED'))).toBe(false);
    expect(isFencedError(protocolError('PRODUCER_FENCED'))).toBe(true);
    expect(isFencedError(protocolError('UNKNOWN_MEMBER_ID'))).toBe(false);
  });
});
