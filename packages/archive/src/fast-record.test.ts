import { ParsedRecordSchema } from '@gridstream/schema';
import { describe, expect, it } from 'vitest';
import { isCertainlyValidRecord } from './fast-record.js';
import { testRecord } from './test-records.fixture.js';

/** Tiny deterministic PRNG so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const NASTY: unknown[] = [
  undefined,
  null,
  '',
  'x'.repeat(129),
  'a\u0000b',
  'A_B',
  '9abc',
  -1,
  1.5,
  Number.NaN,
  Infinity,
  true,
  [],
  {},
  '2024-02-30T00:00:00.000Z',
  '2024-02-29T23:59:60.000Z',
  '2024-03-01T00:00:00Z',
  '2024-03-01T00:00:00.1Z',
  '2024-03-01T00:00:00.000+00:00',
  '2023-02-29T00:00:00.000Z',
  'samples.v2',
  'stale',
  'very_bad',
  ['out_of_range', 'nope'],
  '42',
  '-42',
];

/** Mutates one property (possibly nested) of a valid record into something else. */
function mutate(record: Record<string, unknown>, random: () => number): unknown {
  const copy = JSON.parse(JSON.stringify(record)) as Record<string, unknown>;
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const value = pick(NASTY);
  const where = pick([
    'v',
    'site',
    'equipment',
    'device',
    'rack',
    'ts',
    'schema',
    'fields',
    'flags',
    'quality',
    'lineage',
  ]);
  if (where === 'fields' || where === 'flags' || where === 'quality') {
    const target = (copy[where] ?? {}) as Record<string, unknown>;
    if (random() < 0.3) target[pick(['', 'bad\u0001key', 'x'.repeat(201), 'ok'])] = value;
    else target[pick(Object.keys(target).concat('new'))] = value;
    copy[where] = random() < 0.1 ? value : target;
  } else if (where === 'lineage') {
    const lineage = copy.lineage as Record<string, unknown>;
    lineage[pick(['topic', 'partition', 'offset'])] = value;
  } else {
    copy[where] = value;
  }
  return copy;
}

describe('isCertainlyValidRecord', () => {
  it('accepts the records the parser writes', () => {
    for (let i = 0; i < 300; i++) {
      const record = JSON.parse(JSON.stringify(testRecord(i)));
      expect(isCertainlyValidRecord(record), `record ${i}`).toBe(true);
    }
  });

  it('never accepts what ParsedRecordSchema refuses (20,000 mutated records)', () => {
    const random = rng(20_240_301);
    let refusedByZod = 0;
    for (let i = 0; i < 20_000; i++) {
      const candidate = mutate(testRecord(i) as unknown as Record<string, unknown>, random);
      const zodOk = ParsedRecordSchema.safeParse(candidate).success;
      if (!zodOk) refusedByZod++;
      if (isCertainlyValidRecord(candidate)) expect(zodOk, JSON.stringify(candidate)).toBe(true);
    }
    expect(refusedByZod).toBeGreaterThan(10_000); // the mutations really do produce invalid records
  });
});
