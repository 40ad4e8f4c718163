import { removeTestTopics, sleep, testKafka, waitFor } from '@gridstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EdgeNodePeer } from '../test/edge-node.js';
import {
  type RawSample,
  type Running,
  readSamplesUntil,
  startCollector,
  tempDir,
  testTopics,
  writeBrokerFile,
} from '../test/harness.js';
import { Mosquitto } from '../test/mosquitto.js';

/**
 * The collector as a Sparkplug B host against an independent edge node (pysparkplug, Python) through a
 * real mosquitto: births with names, aliases and datatypes; data by alias without datatypes; a lost
 * message (sequence gap) answered by exactly one rebirth request, which the node answers; a device death
 * and the node's death certificate (its MQTT will) marking devices and node offline.
 */
const T = Date.UTC(2026, 2, 1, 0, 0, 0);
let broker: Mosquitto;
let collector: Running;
let node: EdgeNodePeer | undefined;
let topics: Awaited<ReturnType<typeof testTopics>>;

beforeAll(async () => {
  broker = await Mosquitto.start();
  topics = await testTopics();
  const configFile = writeBrokerFile(tempDir('gs-mqtt-spb'), [
    {
      name: 'plant',
      url: broker.url,
      subscriptions: [{ topic: 'spBv1.0/plantA/#', format: 'sparkplug', equipment: 'inverter' }],
    },
  ]);
  collector = await startCollector({ configFile, env: topics.env });
  await waitFor(
    () => collector.readiness.report().checks['mqtt:plant']?.detail ?? '',
    (detail) => detail.includes('subscribed to'),
    { what: 'the collector subscribed', timeoutMs: 20_000 },
  );
}, 60_000);

afterAll(async () => {
  await node?.kill();
  await collector?.stop();
  await broker?.remove();
  if (topics) await removeTestTopics(testKafka(), [topics.raw, topics.dlq]);
});

const view = (s: RawSample) => ({ device: s.device, fields: s.fields, flags: s.flags ?? {} });

describe('Sparkplug B against a pysparkplug edge node', () => {
  it('takes births, data by alias, one rebirth after a gap, and marks deaths offline', async () => {
    node = EdgeNodePeer.start({
      port: broker.port,
      group: 'plantA',
      node: 'edge1',
      devices: ['inv1', 'inv2'],
    });
    await node.waitFor('born');
    const births = await readSamplesUntil(topics.raw, (s) => s.length >= 3, 'the births');
    const device = { 'AC/Power': 230.5, Temp: -12, Energy: 123_456_789_012 };
    expect(births.map(view)).toEqual([
      { device: 'edge1', fields: { Uptime: 42 }, flags: { online: true } },
      { device: 'edge1.inv1', fields: device, flags: { Running: true, online: true } },
      { device: 'edge1.inv2', fields: device, flags: { Running: true, online: true } },
    ]);
    expect(new Set(births.map((s) => `${s.site}/${s.equipment}`))).toEqual(new Set(['plantA/inverter']));
    expect(births[1]!.source).toBe(`${broker.url}/spBv1.0/plantA/DBIRTH/edge1/inv1`);

    node.send({ cmd: 'data', device: 'inv1', values: { 'AC/Power': 231.25, Temp: 25 }, timestamp: T });
    node.send({ cmd: 'data', device: 'inv2', values: { Running: false }, timestamp: T + 1000 });
    await node.waitFor('published', 2);
    // A message the collector never sees: the next one's sequence number jumps.
    node.send({ cmd: 'skip' });
    node.send({ cmd: 'data', device: 'inv1', values: { 'AC/Power': 1.5 }, timestamp: T + 2000 });
    await node.waitFor('rebirth-request');
    await node.waitFor('born', 2);
    node.send({ cmd: 'data', device: 'inv1', values: { 'AC/Power': 240 }, timestamp: T + 3000 });
    node.send({ cmd: 'ddeath', device: 'inv2', timestamp: T + 4000 });
    await node.waitFor('published', 5);
    await sleep(500);
    await node.kill();

    const all = await readSamplesUntil(topics.raw, (s) => s.length >= 12, 'data, rebirth and deaths');
    expect(all.slice(3).map((s) => ({ ...view(s), ts: s.ts }))).toEqual([
      {
        device: 'edge1.inv1',
        fields: { 'AC/Power': 231.25, Temp: 25 },
        flags: {},
        ts: new Date(T).toISOString(),
      },
      { device: 'edge1.inv2', fields: {}, flags: { Running: false }, ts: new Date(T + 1000).toISOString() },
      // The rebirth: the values the node holds now (1.5 was sent after the gap and not taken from DDATA).
      { device: 'edge1', fields: { Uptime: 42 }, flags: { online: true }, ts: all[5]!.ts },
      {
        device: 'edge1.inv1',
        fields: { ...device, 'AC/Power': 1.5, Temp: 25 },
        flags: { Running: true, online: true },
        ts: all[6]!.ts,
      },
      { device: 'edge1.inv2', fields: device, flags: { Running: false, online: true }, ts: all[7]!.ts },
      { device: 'edge1.inv1', fields: { 'AC/Power': 240 }, flags: {}, ts: new Date(T + 3000).toISOString() },
      { device: 'edge1.inv2', fields: {}, flags: { online: false }, ts: new Date(T + 4000).toISOString() },
      // The node's will, published by the broker when its connection dropped: inv1 and the node.
      { device: 'edge1.inv1', fields: {}, flags: { online: false }, ts: all[11]!.ts },
      { device: 'edge1', fields: {}, flags: { online: false }, ts: all[11]!.ts },
    ]);
    expect(all).toHaveLength(12);
    expect(node.count('rebirth-request')).toBe(1);
    expect(await collector.metricValue('gridstream_mqtt_sparkplug_rebirth_requests_total')).toBe(1);
    expect(
      await collector.metricValue('gridstream_mqtt_sparkplug_ignored_total', { reason: 'seq_gap' }),
    ).toBe(1);
    expect(
      await collector.metricValue('gridstream_mqtt_sparkplug_skipped_metrics_total', { why: 'String' }),
    ).toBe(2 * (1 + 2));
    expect(await collector.metricValue('gridstream_mqtt_sparkplug_nodes_online')).toBe(0);
  });
});
