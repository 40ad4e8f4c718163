import { createHash } from 'node:crypto';
import { DeadLetterHeadersSchema, DLQ_HEADER } from '@gridstream/schema';
import { describe, expect, it } from 'vitest';
import { deadLetter, deadLetterFor } from './dead-letters.js';
import { splitRequests } from './partition-requests.js';

describe('deadLetter', () => {
  it('keeps the original bytes and headers and adds valid dead-letter headers', () => {
    const payload = Buffer.from('{"header":');
    const letter = deadLetterFor(
      {
        topic: 'telemetry.raw',
        partition: 2,
        offset: '41',
        key: Buffer.from('000001'),
        value: payload,
        headers: { 'gs-schema': 'microgrid.v1', 'gs-dlq-reason': 'stale' },
        timestamp: 0,
      },
      { stage: 'parser', reason: 'not_json', message: 'Unexpected end of JSON input', now: new Date(0) },
    );
    expect(letter.value).toEqual(payload);
    expect(letter.key).toEqual(Buffer.from('000001'));
    const headers = letter.headers!;
    expect(DeadLetterHeadersSchema.parse(headers)).toBeTruthy();
    expect(headers['gs-schema']).toBe('microgrid.v1');
    expect(headers[DLQ_HEADER.reason]).toBe('not_json');
    expect(headers[DLQ_HEADER.sourceTopic]).toBe('telemetry.raw');
    expect(headers[DLQ_HEADER.sourcePartition]).toBe('2');
    expect(headers[DLQ_HEADER.sourceOffset]).toBe('41');
    expect(headers[DLQ_HEADER.truncated]).toBe('false');
    expect(headers[DLQ_HEADER.at]).toBe('1970-01-01T00:00:00.000Z');
  });

  it('truncates an oversized payload but records its size and hash', () => {
    const payload = Buffer.alloc(20 * 1024 * 1024, 0x41);
    const letter = deadLetter({ stage: 'bridge', reason: 'oversized', payload, maxPayloadBytes: 1024 });
    expect((letter.value as Buffer).length).toBe(1024);
    expect(letter.headers![DLQ_HEADER.truncated]).toBe('true');
    expect(letter.headers![DLQ_HEADER.originalSize]).toBe(String(payload.length));
    expect(letter.headers![DLQ_HEADER.sha256]).toBe(createHash('sha256').update(payload).digest('hex'));
  });

  it('caps the problem list so a pathological message cannot make the letter itself too large', () => {
    const problems = Array.from({ length: 500 }, (_, i) => ({
      reason: 'wrong_type' as const,
      path: `x${i}`,
      message: 'm',
    }));
    const letter = deadLetter({
      stage: 'parser',
      reason: 'wrong_type',
      payload: Buffer.from('{}'),
      problems,
    });
    expect(JSON.parse(letter.headers![DLQ_HEADER.problems]!)).toHaveLength(50);
  });
});

describe('splitRequests', () => {
  it('splits by size and keeps every message in order', () => {
    const mk = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.alloc(1000, i % 256) }));
    const requests = splitRequests(
      [
        { topic: 'a', messages: mk(25) },
        { topic: 'b', messages: mk(7) },
      ],
      10_000,
    );
    expect(requests.length).toBeGreaterThan(3);
    for (const r of requests) {
      const bytes = r.reduce((n, t) => n + t.messages.length * 1064, 0);
      expect(bytes).toBeLessThanOrEqual(10_000);
    }
    const flat = requests.flat();
    expect(flat.filter((t) => t.topic === 'a').reduce((n, t) => n + t.messages.length, 0)).toBe(25);
    expect(flat.filter((t) => t.topic === 'b').reduce((n, t) => n + t.messages.length, 0)).toBe(7);
  });

  it('sends a single message larger than the limit on its own rather than looping forever', () => {
    const requests = splitRequests(
      [{ topic: 'a', messages: [{ key: null, value: Buffer.alloc(50_000) }] }],
      10_000,
    );
    expect(requests).toHaveLength(1);
  });
});
