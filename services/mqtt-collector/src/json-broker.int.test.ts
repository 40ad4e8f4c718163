import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRaw } from '@gridstream/parsing';
import { DLQ_HEADER, RAW_HEADER } from '@gridstream/schema';
import { removeTestTopics, testKafka, waitFor } from '@gridstream/testkit';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Running,
  readMessagesUntil,
  readSamplesUntil,
  startCollector,
  tempDir,
  testTopics,
  writeBrokerFile,
} from '../test/harness.js';
import { Mosquitto } from '../test/mosquitto.js';

/**
 * A real mosquitto, two of its listeners (plain MQTT 3.1.1; TLS with a client certificate and a password,
 * MQTT 5), a device publishing JSON at QoS 1, the collector in this process and real Kafka: every
 * reading on the raw topic with its exact values, the bad payloads in the DLQ with their bytes, and the
 * raw messages through the parser.
 */
const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);
let broker: Mosquitto;
let collector: Running;
let topics: Awaited<ReturnType<typeof testTopics>>;
const dir = tempDir('gs-mqtt-json');

beforeAll(async () => {
  broker = await Mosquitto.start({ tls: { users: { gridstream: 'pw-7f3a' } } });
  topics = await testTopics();
  writeSecret('pw', 'pw-7f3a\n');
  const configFile = writeBrokerFile(dir, [
    {
      name: 'plain',
      url: broker.url,
      protocol: '3.1.1',
      clientId: `gs-json-${broker.port}`,
      subscriptions: [
        {
          topic: 'site/+/meter/+',
          format: 'json',
          site: '{1}',
          equipment: 'meter',
          device: '{3}',
          time: { path: 'ts', format: 'epoch-ms' },
          fields: { p_kw: { path: 'P', scale: 0.001 }, e_kwh: 'E', v: { path: 'V', optional: true } },
          flags: { on: 'on' },
        },
      ],
    },
    {
      name: 'secure',
      url: broker.tlsUrl,
      protocol: '5',
      username: 'gridstream',
      passwordEnv: 'MQTT_SECURE_PASSWORD',
      tls: {
        caFile: join(broker.certDir, 'ca.pem'),
        certFile: join(broker.certDir, 'client.pem'),
        keyFile: join(broker.certDir, 'client.key'),
      },
      subscriptions: [
        {
          topic: 'plant/+/pv',
          format: 'json',
          site: 'secure-site',
          equipment: 'pv',
          device: '{1}',
          time: { path: 'time', zone: 'Asia/Seoul' },
          fields: { p: 'p' },
        },
      ],
    },
  ]);
  collector = await startCollector({
    configFile,
    env: topics.env,
    secretEnv: { MQTT_SECURE_PASSWORD_FILE: join(dir, 'pw') },
  });
  await waitFor(
    () => collector.readiness.report().checks,
    (checks) => ['mqtt:plain', 'mqtt:secure'].every((c) => checks[c]?.detail?.includes('subscribed to')),
    { what: 'both brokers subscribed', timeoutMs: 20_000 },
  );
}, 60_000);

afterAll(async () => {
  await collector?.stop();
  await broker?.remove();
  if (topics) await removeTestTopics(testKafka(), [topics.raw, topics.dlq]);
});

function writeSecret(name: string, text: string) {
  writeFileSync(join(dir, name), text);
}

async function publish(
  url: string,
  messages: [string, string | object][],
  options: mqtt.IClientOptions = {},
) {
  const device = await mqtt.connectAsync(url, {
    clientId: `device-${Math.random().toString(36).slice(2, 8)}`,
    ...options,
  });
  for (const [topic, body] of messages)
    await device.publishAsync(topic, typeof body === 'string' ? body : JSON.stringify(body), { qos: 1 });
  await device.endAsync();
}

describe('JSON over MQTT', () => {
  it('maps every reading to the raw topic with exact values and dead-letters the bad payloads', async () => {
    const good: [string, object][] = [];
    for (let i = 0; i < 20; i++) {
      const meter = i % 2 === 0 ? 'm1' : 'm2';
      good.push([
        `site/plant7/meter/${meter}`,
        { ts: T0 + i * 1000, P: 12_500 + i, E: 1000.5 + i, ...(i === 3 ? { V: 231.2 } : {}), on: i !== 5 },
      ]);
    }
    await publish(broker.url, [
      ...good.slice(0, 10),
      ['site/plant7/meter/m1', '{"ts": 1772366400000, "P": '],
      ['site/plant7/meter/m3', { ts: T0, P: 1 }],
      ...good.slice(10),
    ]);
    await publish(
      broker.tlsUrl,
      [
        ['plant/inv-a/pv', { time: '2026-03-01 21:00:00', p: 4.25 }],
        ['plant/inv-b/pv', { time: '2026-03-01T12:00:01Z', p: 3.5 }],
      ],
      {
        protocolVersion: 5,
        username: 'gridstream',
        password: 'pw-7f3a',
        ca: readFileSync(join(broker.certDir, 'ca.pem')),
        cert: readFileSync(join(broker.certDir, 'client.pem')),
        key: readFileSync(join(broker.certDir, 'client.key')),
      },
    );

    const samples = await readSamplesUntil(topics.raw, (s) => s.length >= 22, '22 samples');
    expect(samples).toHaveLength(22);
    const meters = samples.filter((s) => s.equipment === 'meter');
    expect(meters.map((s) => [s.device, s.ts, s.fields, s.flags])).toEqual(
      good.map(([topic], i) => [
        topic.split('/')[3],
        new Date(T0 + i * 1000).toISOString(),
        { p_kw: (12_500 + i) * 0.001, e_kwh: 1000.5 + i, ...(i === 3 ? { v: 231.2 } : {}) },
        { on: i !== 5 },
      ]),
    );
    expect(new Set(meters.map((s) => s.site))).toEqual(new Set(['plant7']));
    expect(meters[0]!.source).toBe(`${broker.url}/site/plant7/meter/m1`);
    const pv = samples.filter((s) => s.equipment === 'pv');
    expect(pv.map((s) => [s.site, s.device, s.ts, s.fields])).toEqual([
      ['secure-site', 'inv-a', '2026-03-01T12:00:00.000Z', { p: 4.25 }],
      ['secure-site', 'inv-b', '2026-03-01T12:00:01.000Z', { p: 3.5 }],
    ]);

    const letters = await readMessagesUntil(topics.dlq, 2, '2 dead letters');
    expect(letters).toHaveLength(2);
    expect(
      letters.map((l) => [
        l.headers[DLQ_HEADER.reason],
        l.headers[DLQ_HEADER.stage],
        l.headers[RAW_HEADER.source],
      ]),
    ).toEqual([
      ['not_json', 'collector', `${broker.url}/site/plant7/meter/m1`],
      ['unreadable', 'collector', `${broker.url}/site/plant7/meter/m3`],
    ]);
    expect(letters[0]!.value!.toString()).toBe('{"ts": 1772366400000, "P": ');
    expect(letters[1]!.headers[DLQ_HEADER.message]).toBe('E: e_kwh: absent; on: on: absent');
    expect(await collector.metricValue('gridstream_source_bad_input_total', { reason: 'not_json' })).toBe(1);
    expect(await collector.metricValue('gridstream_mqtt_messages_total', { outcome: 'taken' })).toBe(22);
  });

  it('hands the parser messages it reads into the same records', async () => {
    const raw = await readMessagesUntil(topics.raw, 1, 'raw messages');
    const records = raw.flatMap((m) => {
      const result = parseRaw(
        { value: m.value, headers: m.headers, topic: m.topic, partition: m.partition, offset: m.offset },
        { maxBytes: 1_048_576, zoneForSite: () => 'UTC' },
      );
      expect(result.problems).toEqual([]);
      return result.records;
    });
    expect(records).toHaveLength(22);
    expect(records[3]).toMatchObject({
      site: 'plant7',
      equipment: 'meter',
      device: 'm2',
      ts: new Date(T0 + 3000).toISOString(),
      fields: { p_kw: 12_503 * 0.001, e_kwh: 1003.5, v: 231.2 },
      flags: { on: true },
      schema: 'samples.v1',
    });
  });
});
