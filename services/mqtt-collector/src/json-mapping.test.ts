import { describe, expect, it } from 'vitest';
import { mapJsonPayload } from './json-mapping.js';
import { type JsonSubscriptionConfig, parseMqttConfig } from './mqtt-config.js';

/** A subscription as the config file gives it, so the tests go through the same parsing as production. */
function subscription(spec: Record<string, unknown>): JsonSubscriptionConfig {
  const { config, problems } = parseMqttConfig(
    {
      brokers: [
        {
          url: 'mqtt://127.0.0.1:1883',
          subscriptions: [{ topic: 'site/+/meter/+', format: 'json', equipment: 'meter', ...spec }],
        },
      ],
    },
    { path: 'test.yaml', env: {}, baseDir: '/' },
  );
  expect(problems).toEqual([]);
  return config!.brokers[0]!.subscriptions[0] as JsonSubscriptionConfig;
}

const received = new Date('2026-03-01T00:00:00.000Z');
const map = (sub: JsonSubscriptionConfig, payload: unknown, topic = 'site/plant7/meter/m1') =>
  mapJsonPayload(sub.mapping, Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)), {
    topicLevels: topic.split('/'),
    receivedAt: received,
  });

describe('JSON mapping', () => {
  const meter = subscription({
    site: '{1}',
    device: '{3}',
    time: { path: 'ts', format: 'epoch-ms' },
    fields: {
      p_kw: { path: 'values.P', scale: 0.001 },
      e_kwh: 'values.E',
      t: { path: 'temp', optional: true },
    },
    flags: { on: 'status.on' },
  });

  it('takes identity from topic levels, time, scaled values and flags', () => {
    const out = map(meter, { ts: 1772323200123, values: { P: 12500, E: '1234.5' }, status: { on: 1 } });
    expect(out.problems).toEqual([]);
    expect(out.samples).toEqual([
      {
        site: 'plant7',
        equipment: 'meter',
        device: 'm1',
        ts: '2026-03-01T00:00:00.123Z',
        fields: { p_kw: 12.5, e_kwh: 1234.5 },
        flags: { on: true },
      },
    ]);
  });

  it('dead-letters the whole message, with every problem, when a required path is absent or mistyped', () => {
    const out = map(meter, { ts: 1772323200123, values: { P: 'high' }, status: { on: 'maybe' } });
    expect(out.samples).toEqual([]);
    expect(out.problems.map((p) => [p.reason, p.path])).toEqual([
      ['wrong_type', 'values.P'],
      ['unreadable', 'values.E'],
      ['wrong_type', 'status.on'],
    ]);
  });

  it('reads null as "no reading" and an optional absent path as nothing', () => {
    const out = map(meter, { ts: 0, values: { P: null, E: 1 }, status: { on: false } });
    expect(out.samples[0]!.fields).toEqual({ e_kwh: 1 });
    expect(out.samples[0]!.ts).toBe('1970-01-01T00:00:00.000Z');
  });

  it('says not_json for a payload that is not JSON', () => {
    expect(map(meter, '{"ts": 1,').problems[0]!.reason).toBe('not_json');
  });

  it('reads identity from payload paths and validates it', () => {
    const sub = subscription({
      site: 'plant-{$.site}',
      device: '{$.id}',
      fields: { v: 'v' },
    });
    expect(map(sub, { site: 7, id: 'inv-1', v: 2 }).samples[0]).toMatchObject({
      site: 'plant-7',
      device: 'inv-1',
      ts: received.toISOString(),
    });
    expect(map(sub, { site: 7, v: 2 }).problems).toEqual([
      { reason: 'unreadable', path: '$.id (absent)', message: 'device ({$.id}): $.id (absent) is missing' },
    ]);
    const badEquipment = subscription({ site: 's', equipment: '{$.kind}', device: 'd', fields: { v: 'v' } });
    expect(map(badEquipment, { kind: 'Big Meter', v: 1 }).problems[0]).toMatchObject({
      reason: 'invalid_record',
      path: 'equipment',
    });
  });

  it('maps each element of a records array, paths relative to it', () => {
    const sub = subscription({
      site: '{1}',
      device: '{$.id}',
      records: 'data',
      time: { path: 't', format: 'epoch-s' },
      fields: { p: 'p' },
    });
    const out = map(sub, {
      data: [
        { id: 'a', t: 1700000000.123, p: 1 },
        { id: 'b', t: 1700000001, p: 2 },
      ],
    });
    expect(out.samples.map((s) => [s.device, s.ts, s.fields.p])).toEqual([
      ['a', '2023-11-14T22:13:20.123Z', 1],
      ['b', '2023-11-14T22:13:21.000Z', 2],
    ]);
    expect(
      map(sub, {
        data: [
          { id: 'a', t: 1, p: 1 },
          { t: 2, p: 2 },
        ],
      }).problems[0]!.path,
    ).toBe('data[1].id (absent)');
    expect(map(sub, { data: {} }).problems[0]!.reason).toBe('wrong_type');
  });

  it.each([
    ['2026-03-01T09:00:00+09:00', 'UTC', '2026-03-01T00:00:00.000Z'],
    ['2026-03-01T00:00:00Z', 'Asia/Seoul', '2026-03-01T00:00:00.000Z'],
    ['2026-03-01 09:00:00', 'Asia/Seoul', '2026-03-01T00:00:00.000Z'],
    ['2026-03-01T09:00:00.5', 'Asia/Seoul', '2026-03-01T00:00:00.500Z'],
  ])('reads ISO time %s in zone %s', (text, zone, expected) => {
    const sub = subscription({ site: 's', device: 'd', time: { path: 'ts', zone }, fields: { v: 'v' } });
    expect(map(sub, { ts: text, v: 1 }).samples[0]!.ts).toBe(expected);
  });

  it('refuses a time that does not exist or cannot be read', () => {
    const sub = subscription({
      site: 's',
      device: 'd',
      time: { path: 'ts', zone: 'Europe/Berlin' },
      fields: { v: 'v' },
    });
    expect(map(sub, { ts: '2026-03-29 02:30:00', v: 1 }).problems[0]!.reason).toBe('bad_timestamp');
    expect(map(sub, { ts: 'yesterday', v: 1 }).problems[0]!.reason).toBe('bad_timestamp');
    expect(map(sub, { v: 1 }).problems[0]!.reason).toBe('unreadable');
    const epoch = subscription({
      site: 's',
      device: 'd',
      time: { path: 'ts', format: 'epoch-s' },
      fields: { v: 'v' },
    });
    expect(map(epoch, { ts: 1e15, v: 1 }).problems[0]!.reason).toBe('bad_timestamp');
  });

  it('says no_readings when every value is null', () => {
    const sub = subscription({ site: 's', device: 'd', fields: { v: 'v' } });
    expect(map(sub, { v: null }).problems[0]!.reason).toBe('no_readings');
  });
});
