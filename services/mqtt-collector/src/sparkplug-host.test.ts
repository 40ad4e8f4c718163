import { get as sparkplugPayload } from 'sparkplug-payload';
import proto from 'sparkplug-payload/lib/sparkplugPayloadProto.js';
import { describe, expect, it } from 'vitest';
import { parseMqttConfig, type SparkplugSubscriptionConfig } from './mqtt-config.js';
import { parseSparkplugTopic } from './sparkplug-codec.js';
import { SparkplugHost } from './sparkplug-host.js';

// Tahu's own JavaScript encoder: the payloads under test are not made by the code under test.
const tahu = sparkplugPayload('spBv1.0')!;
type UPayload = Parameters<typeof tahu.encodePayload>[0];
const encode = (p: UPayload) => Buffer.from(tahu.encodePayload(p));

function host(spec: Record<string, unknown> = {}): SparkplugHost {
  const { config, problems } = parseMqttConfig(
    {
      brokers: [
        {
          url: 'mqtt://127.0.0.1:1883',
          subscriptions: [{ topic: 'spBv1.0/#', format: 'sparkplug', ...spec }],
        },
      ],
    },
    { path: 'test.yaml', env: {}, baseDir: '/' },
  );
  expect(problems).toEqual([]);
  return new SparkplugHost((config!.brokers[0]!.subscriptions[0] as SparkplugSubscriptionConfig).mapping);
}

const T0 = Date.UTC(2026, 2, 1, 0, 0, 0);
const at = (ms: number) => ({ receivedAt: new Date(ms), dup: false });
const topic = (t: string) => parseSparkplugTopic(t)!;

function nbirth(seq = 0, bdSeq = 1) {
  return encode({
    timestamp: T0,
    seq,
    metrics: [
      { name: 'bdSeq', type: 'Int64', value: bdSeq },
      { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
      { name: 'Uptime', type: 'UInt32', value: 42, alias: 1 },
      { name: 'Firmware', type: 'String', value: '1.2.3', alias: 2 },
    ],
  });
}

function dbirth(seq: number) {
  return encode({
    timestamp: T0 + 1,
    seq,
    metrics: [
      { name: 'AC/Power', type: 'Float', value: 230.1, alias: 10 },
      { name: 'Temp', type: 'Int16', value: -12, alias: 11 },
      { name: 'Running', type: 'Boolean', value: true, alias: 12 },
      { name: 'Energy', type: 'UInt64', value: 123456789012, alias: 13 },
      { name: 'Serial', type: 'String', value: 'X1', alias: 14 },
    ],
  });
}

/** DDATA by alias only, without datatypes (what the spec recommends), built at the protobuf level. */
function ddataByAlias(
  seq: number,
  values: { alias: number; float?: number; int?: number; bool?: boolean }[],
) {
  const { Payload } = proto.org.eclipse.tahu.protobuf;
  return Buffer.from(
    Payload.encode(
      Payload.create({
        timestamp: T0 + 1000,
        seq,
        metrics: values.map((v) => ({
          alias: v.alias,
          ...(v.float !== undefined ? { floatValue: v.float } : {}),
          ...(v.int !== undefined ? { intValue: v.int >>> 0 } : {}),
          ...(v.bool !== undefined ? { booleanValue: v.bool } : {}),
        })),
      }),
    ).finish(),
  );
}

describe('Sparkplug B host', () => {
  it('takes births and data by alias with the birth datatypes, and counts what is not a reading', () => {
    const h = host({ equipment: 'inverter' });
    const nb = h.handle(topic('spBv1.0/plant/NBIRTH/edge1'), nbirth(), at(T0));
    expect(nb.samples).toEqual([
      {
        site: 'plant',
        equipment: 'inverter',
        device: 'edge1',
        ts: new Date(T0).toISOString(),
        fields: { Uptime: 42 },
        flags: { online: true },
      },
    ]);
    expect([...nb.skipped]).toEqual([['String', 1]]);
    const db = h.handle(topic('spBv1.0/plant/DBIRTH/edge1/inv1'), dbirth(1), at(T0));
    expect(db.samples[0]).toMatchObject({
      device: 'edge1.inv1',
      fields: { 'AC/Power': 230.1, Temp: -12, Energy: 123456789012 },
      flags: { Running: true, online: true },
    });
    const dd = h.handle(
      topic('spBv1.0/plant/DDATA/edge1/inv1'),
      ddataByAlias(2, [
        { alias: 10, float: 231.7 },
        { alias: 11, int: -3 },
        { alias: 12, bool: false },
      ]),
      at(T0 + 1000),
    );
    expect(dd.rebirth).toBeUndefined();
    expect(dd.samples).toEqual([
      {
        site: 'plant',
        equipment: 'inverter',
        device: 'edge1.inv1',
        ts: new Date(T0 + 1000).toISOString(),
        fields: { 'AC/Power': 231.7, Temp: -3 },
        flags: { Running: false },
      },
    ]);
    expect(h.summary()).toEqual({ nodes: 1, online: 1, devicesOnline: 1 });
  });

  it('asks for one rebirth on a sequence gap, takes nothing until the node is born again', () => {
    const h = host();
    h.handle(topic('spBv1.0/g/NBIRTH/n'), nbirth(0), at(T0));
    h.handle(topic('spBv1.0/g/DBIRTH/n/d'), dbirth(1), at(T0));
    const gap = h.handle(
      topic('spBv1.0/g/DDATA/n/d'),
      ddataByAlias(3, [{ alias: 10, float: 1 }]),
      at(T0 + 1),
    );
    expect(gap.samples).toEqual([]);
    expect(gap.ignored?.reason).toBe('seq_gap');
    expect(gap.rebirth).toEqual({ group: 'g', node: 'n', reason: 'sequence gap: expected seq 2, got 3' });
    // The next messages, in sequence or not, wait for the rebirth and do not ask again.
    for (const seq of [4, 5]) {
      const next = h.handle(
        topic('spBv1.0/g/DDATA/n/d'),
        ddataByAlias(seq, [{ alias: 10, float: 1 }]),
        at(T0 + 2),
      );
      expect(next.ignored?.reason).toBe('awaiting_rebirth');
      expect(next.rebirth).toBeUndefined();
    }
    // Still no birth after rebirthTimeoutMs (default 30 s): asked again, once.
    const late = h.handle(
      topic('spBv1.0/g/DDATA/n/d'),
      ddataByAlias(6, [{ alias: 10, float: 1 }]),
      at(T0 + 31_000),
    );
    expect(late.rebirth?.reason).toBe('no rebirth after the request');
    h.handle(topic('spBv1.0/g/NBIRTH/n'), nbirth(0), at(T0 + 32_000));
    h.handle(topic('spBv1.0/g/DBIRTH/n/d'), dbirth(1), at(T0 + 32_000));
    const ok = h.handle(
      topic('spBv1.0/g/DDATA/n/d'),
      ddataByAlias(2, [{ alias: 10, float: 5 }]),
      at(T0 + 33_000),
    );
    expect(ok.samples[0]!.fields).toEqual({ 'AC/Power': 5 });
  });

  it('asks for a rebirth on data before any birth, and on an alias no birth declared', () => {
    const h = host();
    const early = h.handle(topic('spBv1.0/g/NDATA/n'), ddataByAlias(7, [{ alias: 1, int: 1 }]), at(T0));
    expect(early.ignored?.reason).toBe('before_birth');
    expect(early.rebirth?.reason).toBe('NDATA before NBIRTH');
    expect(h.handle(topic('spBv1.0/g/NDATA/n'), ddataByAlias(8, []), at(T0 + 1)).rebirth).toBeUndefined();

    h.handle(topic('spBv1.0/g/NBIRTH/n'), nbirth(0), at(T0 + 2));
    const unknown = h.handle(
      topic('spBv1.0/g/NDATA/n'),
      ddataByAlias(1, [
        { alias: 1, int: 43 },
        { alias: 99, int: 1 },
      ]),
      at(T0 + 3),
    );
    expect(unknown.samples).toEqual([]);
    expect(unknown.ignored).toEqual({
      reason: 'unknown_alias',
      detail: 'NDATA: alias 99 is not in the birth',
    });
    expect(unknown.rebirth?.reason).toBe('NDATA: alias 99 is not in the birth');

    const noDevice = host();
    noDevice.handle(topic('spBv1.0/g/NBIRTH/n'), nbirth(0), at(T0));
    const dd = noDevice.handle(
      topic('spBv1.0/g/DDATA/n/d'),
      ddataByAlias(1, [{ alias: 10, float: 1 }]),
      at(T0),
    );
    expect(dd.ignored?.reason).toBe('unknown_device');
    expect(dd.rebirth).toBeDefined();
  });

  it('wraps the sequence at 255', () => {
    const h = host();
    h.handle(topic('spBv1.0/g/NBIRTH/n'), nbirth(254), at(T0));
    for (const seq of [255, 0, 1]) {
      const out = h.handle(topic('spBv1.0/g/NDATA/n'), ddataByAlias(seq, [{ alias: 1, int: seq }]), at(T0));
      expect(out.ignored, `seq ${seq}`).toBeUndefined();
      expect(out.samples[0]!.fields).toEqual({ Uptime: seq });
    }
  });

  it('marks the node and its devices offline on an NDEATH with the birth bdSeq, not on an old one', () => {
    const h = host();
    h.handle(topic('spBv1.0/g/NBIRTH/n'), nbirth(0, 5), at(T0));
    h.handle(topic('spBv1.0/g/DBIRTH/n/d'), dbirth(1), at(T0));
    const stale = h.handle(
      topic('spBv1.0/g/NDEATH/n'),
      encode({ timestamp: T0 - 60_000, metrics: [{ name: 'bdSeq', type: 'Int64', value: 4 }] }),
      at(T0 + 10),
    );
    expect(stale.ignored?.reason).toBe('stale_death');
    expect(stale.samples).toEqual([]);
    const death = h.handle(
      topic('spBv1.0/g/NDEATH/n'),
      encode({ timestamp: T0 - 60_000, metrics: [{ name: 'bdSeq', type: 'Int64', value: 5 }] }),
      at(T0 + 20),
    );
    const ts = new Date(T0 + 20).toISOString();
    expect(death.samples).toEqual([
      { site: 'g', equipment: 'sparkplug', device: 'n.d', ts, fields: {}, flags: { online: false } },
      { site: 'g', equipment: 'sparkplug', device: 'n', ts, fields: {}, flags: { online: false } },
    ]);
    expect(death.state).toEqual([
      { node: 'n', device: 'd', online: false },
      { node: 'n', online: false },
    ]);
    expect(h.summary()).toEqual({ nodes: 1, online: 0, devicesOnline: 0 });
  });

  it('marks one device offline on its DDEATH at the payload time', () => {
    const h = host({
      device: '{device}',
      overrides: [{ node: 'n', device: 'd', equipment: 'pv', id: 'pv-1' }],
    });
    h.handle(topic('spBv1.0/g/NBIRTH/n'), nbirth(0), at(T0));
    h.handle(topic('spBv1.0/g/DBIRTH/n/d'), dbirth(1), at(T0));
    const death = h.handle(topic('spBv1.0/g/DDEATH/n/d'), encode({ timestamp: T0 + 5, seq: 2 }), at(T0 + 9));
    expect(death.samples).toEqual([
      {
        site: 'g',
        equipment: 'pv',
        device: 'pv-1',
        ts: new Date(T0 + 5).toISOString(),
        fields: {},
        flags: { online: false },
      },
    ]);
    const after = h.handle(
      topic('spBv1.0/g/DDATA/n/d'),
      ddataByAlias(3, [{ alias: 10, float: 1 }]),
      at(T0 + 10),
    );
    expect(after.ignored?.reason).toBe('unknown_device');
  });

  it('dead-letters bytes that are not a Sparkplug payload and ignores commands', () => {
    const h = host();
    expect(h.handle(topic('spBv1.0/g/NBIRTH/n'), Buffer.from([0xff, 0xff, 0xff]), at(T0)).bad?.reason).toBe(
      'unreadable',
    );
    expect(h.handle(topic('spBv1.0/g/NCMD/n'), Buffer.alloc(0), at(T0)).ignored?.reason).toBe('command');
  });

  it('takes a redelivered copy of the last message as a duplicate, not a gap', () => {
    const h = host();
    h.handle(topic('spBv1.0/g/NBIRTH/n'), nbirth(0), at(T0));
    const msg = ddataByAlias(1, [{ alias: 1, int: 7 }]);
    expect(h.handle(topic('spBv1.0/g/NDATA/n'), msg, at(T0)).samples).toHaveLength(1);
    const copy = h.handle(topic('spBv1.0/g/NDATA/n'), msg, { receivedAt: new Date(T0), dup: true });
    expect(copy.ignored?.reason).toBe('duplicate');
    expect(copy.rebirth).toBeUndefined();
  });

  it('flags values whose Quality property is not good', () => {
    const h = host();
    const out = h.handle(
      topic('spBv1.0/g/NBIRTH/n'),
      encode({
        timestamp: T0,
        seq: 0,
        metrics: [
          { name: 'a', type: 'Double', value: 1.5, properties: { Quality: { type: 'Int32', value: 0 } } },
          { name: 'b', type: 'Double', value: 2.5, properties: { Quality: { type: 'Int32', value: 500 } } },
          { name: 'c', type: 'Double', value: 3.5, properties: { Quality: { type: 'Int32', value: 192 } } },
        ],
      }),
      at(T0),
    );
    expect(out.samples[0]!.quality).toEqual({ a: ['bad'], b: ['stale'] });
  });
});
