import { readFileSync } from 'node:fs';
import { DEAD_LETTER_REASONS, ParsedRecordSchema, ProblemSchema } from '@gridstream/schema';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMicrogridSite } from '../../../services/simulator/src/microgrid-generator.js';
import { type ParseResult, parseRaw, zoneResolver } from './parse-raw.js';

/**
 * Property-based fuzzing of the raw decoding path: the reference gateway message, generated messages and
 * samples.v1 messages, mutated at the byte level and at the JSON level. Whatever comes in, parseRaw must
 * return (never throw), give records and/or dead letters with a reason from the closed list, never a
 * record the canonical schema refuses, never an internal error ("unexpected error while parsing"), and
 * the same answer twice (a redelivered message must be decided the same way, or exactly-once breaks).
 *
 * FUZZ_RUNS sets the number of inputs per property (make test: 100,000 in all; make fuzz: 1,000,000+).
 */
const TOTAL_RUNS = Number(process.env.FUZZ_RUNS ?? 100_000);
const REFERENCE = readFileSync(
  new URL('../../../../shared/reference/microgrid/sample.json', import.meta.url),
);
const OPTIONS = {
  maxBytes: 1024 * 1024,
  zoneForSite: zoneResolver('UTC', { '000001': 'Asia/Seoul', '000002': 'America/New_York' }),
};
const REASONS = new Set(Object.keys(DEAD_LETTER_REASONS));
const site = createMicrogridSite({ siteId: '000002', seed: 7, racksPerBattery: 3 });
const GENERATED = Array.from({ length: 8 }, (_, i) =>
  site.next(new Date(Date.UTC(2024, 2, 10, 6, 59, 58) + i * 1000), 'America/New_York'),
);
const SAMPLES = Buffer.from(
  JSON.stringify({
    v: 1,
    samples: [
      {
        site: 'campus',
        equipment: 'meter',
        device: 'm1',
        ts: '2024-01-01T00:00:00.000Z',
        fields: { flow: 1.5, total: 1200 },
        flags: { ok: true },
      },
      {
        site: 'campus',
        equipment: 'battery',
        device: 'b1',
        rack: '2',
        ts: '2024-01-01T00:00:01Z',
        fields: { soc: 50 },
      },
    ],
  }),
);

function check(value: Buffer, schema: string | undefined): void {
  const headers = schema === undefined ? {} : { 'gs-schema': schema };
  const message = { value, headers, topic: 'telemetry.raw', partition: 1, offset: '42' };
  let result: ParseResult;
  try {
    result = parseRaw(message, OPTIONS);
  } catch (error) {
    throw new Error(
      `parseRaw threw ${(error as Error).message} for ${value.toString('latin1').slice(0, 200)}`,
    );
  }
  if (result.records.length + result.problems.length === 0) throw new Error('neither records nor a reason');
  for (const problem of result.problems) {
    if (!ProblemSchema.safeParse(problem).success || !REASONS.has(problem.reason))
      throw new Error(`bad problem ${JSON.stringify(problem)}`);
    if (problem.message.startsWith('unexpected error while parsing'))
      throw new Error(`internal error: ${problem.message}`);
  }
  for (const record of result.records) {
    const parsed = ParsedRecordSchema.safeParse(record);
    if (!parsed.success) throw new Error(`invalid record ${JSON.stringify(parsed.error.issues)}`);
  }
  const again = parseRaw(message, OPTIONS);
  expect(again).toEqual(result);
}

/** Byte-level damage: flips, inserts, deletes, truncation, splices of the message into itself. */
const byteMutation = (seed: Buffer) =>
  fc
    .array(
      fc.oneof(
        fc.record({
          kind: fc.constant('flip' as const),
          at: fc.nat(),
          byte: fc.integer({ min: 0, max: 255 }),
        }),
        fc.record({
          kind: fc.constant('insert' as const),
          at: fc.nat(),
          bytes: fc.uint8Array({ maxLength: 8 }),
        }),
        fc.record({
          kind: fc.constant('delete' as const),
          at: fc.nat(),
          length: fc.integer({ min: 1, max: 64 }),
        }),
        fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
        fc.record({
          kind: fc.constant('token' as const),
          at: fc.nat(),
          token: fc.constantFrom(
            'NaN',
            'Infinity',
            '-Infinity',
            'null',
            'true',
            '"',
            '\\',
            '{',
            ']',
            ',',
            '1e999',
            '-0',
            '"31.5"',
            '\u0008',
          ),
        }),
      ),
      { minLength: 1, maxLength: 6 },
    )
    .map((ops) => {
      let bytes = Buffer.from(seed);
      for (const op of ops) {
        const at = bytes.length === 0 ? 0 : op.at % bytes.length;
        if (op.kind === 'flip') {
          if (bytes.length > 0) bytes[at] = op.byte;
        } else if (op.kind === 'insert') {
          bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(op.bytes), bytes.subarray(at)]);
        } else if (op.kind === 'delete') {
          bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + op.length)]);
        } else if (op.kind === 'truncate') {
          bytes = bytes.subarray(0, at);
        } else {
          bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(op.token, 'latin1'), bytes.subarray(at)]);
        }
      }
      return bytes;
    });

/** JSON-level damage: any value anywhere replaced, removed or renamed. */
const anyJson = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1e308, -0, '', '31.5', 'NaN', '__proto__', '2023-06-09 20:34:06'),
  fc.double(),
  fc.string({ maxLength: 12 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.integer(), { maxKeys: 3 }),
);

function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(prefix);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) paths(v, [...prefix, i], out);
  } else if (typeof value === 'object' && value !== null)
    for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

const jsonMutation = (seed: Buffer) => {
  const base = JSON.parse(seed.toString('utf8').replace('\b', '\\b')) as unknown;
  const all = paths(base).filter((p) => p.length > 0);
  return fc
    .array(
      fc.record({
        path: fc.constantFrom(...all),
        op: fc.constantFrom('set', 'delete', 'rename', 'nan'),
        value: anyJson,
        name: fc.constantFrom('__proto__', 'constructor', '', 'x'.repeat(300), 'soc', 'id', 'racks', 'index'),
      }),
      { minLength: 1, maxLength: 5 },
    )
    .map((ops) => {
      const doc = structuredClone(base) as Record<string, unknown>;
      let nan = false;
      for (const { path, op, value, name } of ops) {
        let parent: unknown = doc;
        for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)?.[key];
        if (typeof parent !== 'object' || parent === null) continue;
        const last = path[path.length - 1]!;
        const holder = parent as Record<string | number, unknown>;
        if (op === 'set') holder[last] = value;
        else if (op === 'delete') delete holder[last];
        else if (op === 'rename' && !Array.isArray(holder)) {
          const v = holder[last];
          delete holder[last];
          holder[name] = v;
        } else if (op === 'nan') {
          // Python's json.dumps writes a failed float sensor as a bare NaN.
          holder[last] = '__NAN_MARK__';
          nan = true;
        }
      }
      let text = JSON.stringify(doc);
      if (nan) text = text.replaceAll('"__NAN_MARK__"', 'NaN');
      return Buffer.from(text);
    });
};

const seeds: { name: string; bytes: Buffer; schema: string | undefined }[] = [
  { name: 'reference gateway message', bytes: REFERENCE, schema: undefined },
  { name: 'generated gateway message (DST week, 3 racks)', bytes: GENERATED[2]!, schema: 'microgrid.v1' },
  { name: 'samples.v1 message', bytes: SAMPLES, schema: 'samples.v1' },
];
const RUNS = Math.max(1, Math.floor(TOTAL_RUNS / (seeds.length * 2)));

describe(`parseRaw under fuzzing (${TOTAL_RUNS} inputs)`, () => {
  for (const seed of seeds) {
    it(`byte mutations of the ${seed.name}`, () => {
      fc.assert(
        fc.property(
          byteMutation(seed.bytes),
          fc.constantFrom(seed.schema, 'microgrid.v1', 'samples.v1', 'nonsense'),
          (bytes, schema) => check(bytes, schema),
        ),
        { numRuns: RUNS, seed: 20261206 },
      );
    }, 600_000);

    it(`JSON mutations of the ${seed.name}`, () => {
      fc.assert(
        fc.property(jsonMutation(seed.bytes), (bytes) => check(bytes, seed.schema)),
        { numRuns: RUNS, seed: 20261207 },
      );
    }, 600_000);
  }
});
