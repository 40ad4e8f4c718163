import type { Logger } from '@gridstream/runtime';
import mqtt from 'mqtt';
import { get as sparkplugPayload } from 'sparkplug-payload';
import { Prng } from './prng.js';

/**
 * MQTT devices for the demo (docs/mqtt-collector.md, sample/mqtt/collector-local.yaml): two JSON meters
 * on `site/<site>/meter/<m1|m2>` at QoS 1, and a Sparkplug B edge node `gridstream/sim-edge1` with one
 * PV inverter device (`pv1`): births with aliases, data by alias, its NDEATH as the MQTT will, and an
 * answer to the host's rebirth request. Payloads are encoded with Eclipse Tahu's JavaScript library.
 */
export interface MqttSimulatorOptions {
  url: string;
  intervalMs: number;
  site: string;
  seed: number;
  logger: Logger;
}

const GROUP = 'gridstream';
const NODE = 'sim-edge1';
const DEVICE = 'pv1';
const tahu = sparkplugPayload('spBv1.0')!;
type Metric = NonNullable<Parameters<typeof tahu.encodePayload>[0]['metrics']>[number];

export async function startMqttSimulator(options: MqttSimulatorOptions): Promise<{ stop(): Promise<void> }> {
  const prng = new Prng(options.seed);
  const random = () => prng.next();
  const spb = (type: string, device?: string) =>
    `spBv1.0/${GROUP}/${type}/${NODE}${device ? `/${device}` : ''}`;
  const bdSeq = Math.floor(Date.now() / 1000) % 256;
  let seq = 0;
  let energyWh = 1_000_000 + Math.floor(random() * 100_000);
  const meterEnergy = [2_000_000, 3_000_000];
  const started = Date.now();
  // Strictly increasing: a birth answering a rebirth request and a DDATA of the same millisecond would be two
  // values of one metric at one instant: two rows of one reading in the archive, and a failed soak verdict.
  let lastTimestamp = 0;
  const clock = () => {
    lastTimestamp = Math.max(Date.now(), lastTimestamp + 1);
    return lastTimestamp;
  };
  const encode = (metrics: Metric[], withSeq = true) =>
    Buffer.from(tahu.encodePayload({ timestamp: clock(), ...(withSeq ? { seq: nextSeq() } : {}), metrics }));
  const nextSeq = () => {
    const s = seq;
    seq = (seq + 1) % 256;
    return s;
  };
  const pv = () => {
    const power = Math.round(2000 + random() * 3000) / 1000;
    energyWh += Math.round(power * (options.intervalMs / 3600));
    return { power, dc: Math.round(6000 + random() * 400) / 10 };
  };

  const client = await mqtt.connectAsync(options.url, {
    clientId: `gridstream-sim-${NODE}`,
    reconnectPeriod: 2_000,
    will: {
      topic: spb('NDEATH'),
      payload: Buffer.from(
        tahu.encodePayload({
          timestamp: Date.now(),
          metrics: [{ name: 'bdSeq', type: 'Int64', value: bdSeq }],
        }),
      ),
      qos: 1,
      retain: false,
    },
  });
  const births = () => {
    seq = 0;
    const now = pv();
    client.publish(
      spb('NBIRTH'),
      encode([
        { name: 'bdSeq', type: 'Int64', value: bdSeq },
        { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
        { name: 'Uptime', type: 'UInt32', value: Math.floor((Date.now() - started) / 1000), alias: 1 },
      ]),
    );
    client.publish(
      spb('DBIRTH', DEVICE),
      encode([
        { name: 'AC/Power', type: 'Float', value: now.power, alias: 10 },
        { name: 'DC/Voltage', type: 'Float', value: now.dc, alias: 11 },
        { name: 'Energy', type: 'UInt64', value: energyWh, alias: 12 },
        { name: 'Running', type: 'Boolean', value: true, alias: 13 },
        { name: 'Model', type: 'String', value: 'SIM-PV-5K', alias: 14 },
      ]),
    );
  };
  await client.subscribeAsync(spb('NCMD'), { qos: 1 });
  client.on('message', (topic, payload) => {
    if (topic !== spb('NCMD')) return;
    const cmd = tahu.decodePayload(payload);
    if (cmd.metrics?.some((m) => m.name === 'Node Control/Rebirth' && m.value === true)) {
      options.logger.info({ node: NODE }, 'rebirth requested');
      births();
    }
  });
  client.on('connect', births);
  births();

  const timer = setInterval(() => {
    const ts = Date.now();
    meterEnergy.forEach((e, i) => {
      const p = Math.round(8_000 + random() * 4_000);
      meterEnergy[i] = e + Math.round(p * (options.intervalMs / 3_600_000));
      const body = { ts, P: p, E: meterEnergy[i], V: Math.round(2290 + random() * 30) / 10, running: true };
      client.publish(`site/${options.site}/meter/m${i + 1}`, JSON.stringify(body), { qos: 1 });
    });
    const now = pv();
    client.publish(
      spb('DDATA', DEVICE),
      encode([
        { alias: 10, type: 'Float', value: now.power } as Metric,
        { alias: 11, type: 'Float', value: now.dc } as Metric,
        { alias: 12, type: 'UInt64', value: energyWh } as Metric,
      ]),
    );
  }, options.intervalMs);

  options.logger.info(
    { url: options.url, site: options.site, group: GROUP, node: NODE },
    'MQTT simulator publishing',
  );
  return {
    async stop() {
      clearInterval(timer);
      client.publish(
        spb('NDEATH'),
        Buffer.from(
          tahu.encodePayload({
            timestamp: Date.now(),
            metrics: [{ name: 'bdSeq', type: 'Int64', value: bdSeq }],
          }),
        ),
      );
      await client.endAsync();
    },
  };
}
