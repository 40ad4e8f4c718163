import { randomUUID } from 'node:crypto';
import { createLogger } from '@gridstream/runtime';
import { RAW_HEADER, type Sample } from '@gridstream/schema';
import { type PushOptions, type SourceEndpoint, samplesMessages } from '@gridstream/source';
import type { IPublishPacket } from 'mqtt';
import { Registry } from 'prom-client';
import { get as sparkplugPayload } from 'sparkplug-payload';
import { describe, expect, it, vi } from 'vitest';
import { BrokerCollector } from './broker-collector.js';
import { parseMqttConfig } from './mqtt-config.js';
import { createMqttMetrics } from './mqtt-metrics.js';

/**
 * A message the collector takes twice — delivered again to a new process after a `kill -9` between the
 * spool append and the PUBACK, or published twice by a device that missed the broker's PUBACK — must give
 * messages with the same gs-source and gs-message-id, the identity the parser's duplicate window drops
 * copies by. (With the spool's `<spool id>-<sequence>` the copy had a new id and reached the archive.)
 */
const tahu = sparkplugPayload('spBv1.0')!;
type UPayload = Parameters<typeof tahu.encodePayload>[0];
const encode = (p: UPayload) => Buffer.from(tahu.encodePayload(p));
const T0 = Date.UTC(2026, 2, 1, 0, 0, 0);
const URL = 'mqtt://127.0.0.1:1883';

const { config, problems } = parseMqttConfig(
  {
    brokers: [
      {
        url: URL,
        subscriptions: [
          {
            topic: 'site/+/meter/+',
            format: 'json',
            site: '{1}',
            equipment: 'meter',
            device: '{3}',
            time: { path: 'ts', format: 'epoch-ms' },
            fields: { p: 'P' },
          },
          {
            topic: 'received/+',
            format: 'json',
            site: 'lab',
            equipment: 'meter',
            device: '{1}',
            fields: { p: 'P' },
          },
          {
            topic: 'batch/+',
            format: 'json',
            records: 'data',
            site: 'lab',
            equipment: 'meter',
            device: '{1}',
            time: { path: 'ts', format: 'epoch-ms' },
            fields: { p: 'P' },
          },
          { topic: 'spBv1.0/#', format: 'sparkplug' },
        ],
      },
    ],
  },
  { path: 'test.yaml', env: {}, baseDir: '/' },
);

/** The headers each push would carry once spooled, per message taken. */
type Taken = Record<string, string>[][];

/** One collector process: a BrokerCollector whose endpoint records what it pushes, never connected. */
function collectorProcess(): { take(packet: Partial<IPublishPacket>, at?: number): void; taken: Taken } {
  const taken: Taken = [];
  const spoolId = randomUUID();
  let seq = 0;
  const endpoint: SourceEndpoint = {
    name: 'local',
    uri: URL,
    isConnected: true,
    push(samples: readonly Sample[], options: PushOptions = {}) {
      const messages = samplesMessages(samples, {
        source: options.source ?? URL,
        receivedAt: options.receivedAt ?? new Date(),
        maxPerMessage: 2,
        ...(options.messageId ? { messageId: options.messageId } : {}),
      });
      // As the spool appends them: a message without an id gets `<spool id>-<sequence>`.
      taken.push(
        messages.map((m) => ({
          [RAW_HEADER.messageId]: `${spoolId}-${++seq}`,
          ...(m.headers as Record<string, string>),
        })),
      );
      return messages.length;
    },
    send: async () => 0,
    deadLetter: () => {
      throw new Error('no dead letter expected');
    },
    connected: () => undefined,
  } as SourceEndpoint;
  const collector = new BrokerCollector(config!.brokers[0]!, {
    endpoint,
    logger: createLogger({ service: 'test', level: 'fatal' }),
    metrics: createMqttMetrics(new Registry()),
  });
  const onMessage = (collector as unknown as { onMessage(p: IPublishPacket): void }).onMessage.bind(
    collector,
  );
  return {
    taken,
    take(packet, at = Date.now()) {
      vi.useFakeTimers({ toFake: ['Date'], now: at });
      try {
        onMessage({
          cmd: 'publish',
          qos: 1,
          dup: false,
          retain: false,
          messageId: 1,
          ...packet,
        } as IPublishPacket);
      } finally {
        vi.useRealTimers();
      }
    },
  };
}

const ids = (t: Taken) =>
  t.map((messages) => messages.map((h) => `${h[RAW_HEADER.source]} ${h[RAW_HEADER.messageId]}`));

describe('message ids of what the MQTT collector takes', () => {
  expect(problems).toEqual([]);
  const meter = (ts: number, p: number) => ({
    topic: 'site/plant7/meter/m1',
    payload: Buffer.from(JSON.stringify({ ts, P: p })),
  });

  it('a message delivered again to a new process (kill -9 before the PUBACK) gets the ids it had', () => {
    const before = collectorProcess();
    before.take(meter(T0, 12));
    before.take(meter(T0 + 1000, 13));
    const after = collectorProcess(); // the next process: nothing of the first in memory
    after.take({ ...meter(T0 + 1000, 13), dup: true });
    expect(after.taken).toHaveLength(1);
    expect(ids(after.taken)).toEqual([ids(before.taken)[1]]);
    expect(ids(after.taken)[0]![0]).toMatch(
      /^mqtt:\/\/127\.0\.0\.1:1883\/site\/plant7\/meter\/m1 mqtt:[\w-]{24}\.0$/,
    );
    // Another reading is another message.
    expect(ids(before.taken)[0]).not.toEqual(ids(before.taken)[1]);
  });

  it('a message the device published twice (no DUP flag) is taken twice with the same ids', () => {
    const one = collectorProcess();
    one.take(meter(T0, 12));
    one.take(meter(T0, 12));
    expect(one.taken).toHaveLength(2);
    expect(ids(one.taken)[1]).toEqual(ids(one.taken)[0]);
  });

  it('the messages of one MQTT message are told apart by their first sample', () => {
    const before = collectorProcess();
    const data = [0, 1, 2, 3, 4].map((i) => ({ ts: T0 + i * 1000, P: i }));
    before.take({ topic: 'batch/m3', payload: Buffer.from(JSON.stringify({ data })) });
    const after = collectorProcess();
    after.take({ topic: 'batch/m3', payload: Buffer.from(JSON.stringify({ data })), dup: true });
    // maxPerMessage 2 here: three messages.
    expect(ids(before.taken)[0]!.map((id) => id.split('.').pop())).toEqual(['0', '2', '4']);
    expect(ids(after.taken)).toEqual(ids(before.taken));
  });

  it('readings timed on receipt are new readings each time', () => {
    const one = collectorProcess();
    const packet = { topic: 'received/m9', payload: Buffer.from('{"P": 1}') };
    one.take(packet, T0);
    one.take(packet, T0 + 1000);
    expect(ids(one.taken)[1]).not.toEqual(ids(one.taken)[0]);
  });

  it('Sparkplug births and data delivered again to a new process get the ids they had', () => {
    const packets = [
      {
        topic: 'spBv1.0/g/NBIRTH/edge1',
        payload: encode({
          timestamp: T0,
          seq: 0,
          metrics: [
            { name: 'bdSeq', type: 'Int64', value: 3 },
            { name: 'Uptime', type: 'UInt32', value: 42, alias: 1 },
          ],
        }),
      },
      {
        topic: 'spBv1.0/g/DBIRTH/edge1/pv1',
        payload: encode({
          timestamp: T0 + 1,
          seq: 1,
          metrics: [
            { name: 'AC/Power', type: 'Float', value: 2.5, alias: 10 },
            { name: 'Energy', type: 'UInt64', value: 1000, alias: 11 },
            { name: 'Running', type: 'Boolean', value: true, alias: 12 },
          ],
        }),
      },
      {
        topic: 'spBv1.0/g/DDATA/edge1/pv1',
        payload: encode({
          timestamp: T0 + 1000,
          seq: 2,
          metrics: [
            { alias: 10, type: 'Float', value: 2.75 },
            { alias: 11, type: 'UInt64', value: 1001 },
          ],
        }),
      },
    ];
    const before = collectorProcess();
    for (const p of packets) before.take(p);
    const after = collectorProcess();
    for (const p of packets) after.take({ ...p, dup: true });
    expect(before.taken).toHaveLength(3);
    expect(ids(after.taken)).toEqual(ids(before.taken));
    expect(new Set(ids(before.taken).flat()).size).toBe(ids(before.taken).flat().length);
  });
});
