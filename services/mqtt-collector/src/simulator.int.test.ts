import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, removeTestTopics, testKafka, testLogger, waitFor } from '@gridstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMqttSimulator } from '../../simulator/src/mqtt-publisher.js';
import { type Running, readSamplesUntil, startCollector, tempDir, testTopics } from '../test/harness.js';
import { Mosquitto } from '../test/mosquitto.js';

/**
 * What the demo runs: the simulator's MQTT devices (JSON meters, a Sparkplug B edge node encoded with
 * Tahu's JavaScript library) into the collector configured by sample/mqtt/collector-local.yaml.
 */
let broker: Mosquitto;
let collector: Running;
let simulator: { stop(): Promise<void> } | undefined;
let topics: Awaited<ReturnType<typeof testTopics>>;

beforeAll(async () => {
  broker = await Mosquitto.start();
  topics = await testTopics();
  const configFile = join(tempDir('gs-mqtt-sim'), 'collector.yaml');
  writeFileSync(
    configFile,
    readFileSync(join(REPO_ROOT, 'sample/mqtt/collector-local.yaml'), 'utf8')
      .replace('url: mqtt://127.0.0.1:1883', `url: ${broker.url}`)
      .replace('clientId: gridstream-mqtt-local', `clientId: gs-sim-${broker.port}`),
  );
  collector = await startCollector({ configFile, env: topics.env });
  // Subscribed before the edge node's birth, or its first data would (rightly) ask for a rebirth.
  await waitFor(
    () => collector.readiness.report().checks['mqtt:local']?.detail ?? '',
    (detail) => detail.includes('subscribed to'),
    { what: 'the collector subscribed', timeoutMs: 20_000 },
  );
  simulator = await startMqttSimulator({
    url: broker.url,
    intervalMs: 200,
    site: 'mqtt01',
    seed: 3,
    logger: testLogger(),
  });
}, 60_000);

afterAll(async () => {
  await simulator?.stop();
  await collector?.stop();
  await broker?.remove();
  if (topics) await removeTestTopics(testKafka(), [topics.raw, topics.dlq]);
});

describe('the simulator’s MQTT devices with the sample broker file', () => {
  it('reach the raw topic as meters, a PV inverter and its gateway', async () => {
    const key = (s: { site: string; equipment: string; device: string }) =>
      `${s.site}/${s.equipment}/${s.device}`;
    const samples = await readSamplesUntil(
      topics.raw,
      (s) => new Set(s.map(key)).size >= 4 && s.filter((x) => x.device === 'sim-edge1.pv1').length >= 3,
      'meters and Sparkplug data',
    );
    expect(new Set(samples.map(key))).toEqual(
      new Set([
        'mqtt01/meter/m1',
        'mqtt01/meter/m2',
        'sparkplug01/pv/sim-edge1.pv1',
        'sparkplug01/gateway/sim-edge1',
      ]),
    );
    const meter = samples.find((s) => s.device === 'm1')!;
    expect(Object.keys(meter.fields).sort()).toEqual(['e_kwh', 'p_kw', 'v']);
    expect(meter.flags).toEqual({ running: true });
    const pv = samples.filter((s) => s.device === 'sim-edge1.pv1');
    expect(pv[0]!.flags).toEqual({ Running: true, online: true });
    expect(Object.keys(pv[1]!.fields).sort()).toEqual(['AC/Power', 'DC/Voltage', 'Energy']);
    expect(await collector.metricValue('gridstream_mqtt_sparkplug_rebirth_requests_total')).toBe(0);
  });
});
