import { join } from 'node:path';
import { removeTestTopics, ServiceProcess, sleep, testKafka, waitFor } from '@gridstream/testkit';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { readSamplesUntil, tempDir, testTopics, writeBrokerFile } from '../test/harness.js';
import { Mosquitto } from '../test/mosquitto.js';

/**
 * Nothing the broker acknowledged is lost: a device publishes numbered readings at QoS 1 (its ledger is
 * every PUBACK it got) while the broker is restarted (its persistence keeps the collector's session and
 * the messages queued for it) and while the collector — its own process, as deployed — is killed with
 * SIGKILL and started again (the persistent session queues at the broker meanwhile; what the collector
 * had acknowledged is in its disk spool). Every reading of the ledger must then be on the raw topic.
 */
const N = 400;
const T0 = Date.UTC(2026, 2, 1, 0, 0, 0);
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function subscribed(collector: ServiceProcess): Promise<void> {
  await waitFor(
    async () => {
      collector.assertAlive();
      try {
        const r = await fetch(`http://127.0.0.1:${collector.healthPort}/healthz/ready`);
        return await r.text();
      } catch {
        return '';
      }
    },
    (text) => text.includes('subscribed to'),
    { what: 'the collector subscribed', timeoutMs: 30_000 },
  );
}

describe.each(['5', '3.1.1'] as const)('MQTT %s', (protocol) => {
  it('loses no acknowledged reading across a broker restart and a kill -9 of the collector', async () => {
    const broker = await Mosquitto.start();
    cleanups.push(() => broker.remove());
    const topics = await testTopics();
    cleanups.push(() => removeTestTopics(testKafka(), [topics.raw, topics.dlq]));
    const dir = tempDir('gs-mqtt-restart');
    const configFile = writeBrokerFile(dir, [
      {
        name: 'site',
        url: broker.url,
        protocol,
        clientId: `gs-restart-${broker.port}`,
        reconnectPeriodMs: 300,
        subscriptions: [
          {
            topic: 'site/+/meter/+',
            format: 'json',
            site: '{1}',
            equipment: 'meter',
            device: '{3}',
            time: { path: 'ts', format: 'epoch-ms' },
            fields: { n: 'n' },
          },
        ],
      },
    ]);
    const collector = await ServiceProcess.start({
      service: 'mqtt-collector',
      env: { ...topics.env, MQTT_CONFIG: configFile, LOG_LEVEL: 'info' },
      logDir: join(dir, 'logs'),
    });
    cleanups.push(() => collector.stop());
    await subscribed(collector);

    const device = await mqtt.connectAsync(broker.url, {
      clientId: `device-${broker.port}`,
      clean: false,
      reconnectPeriod: 200,
      protocolVersion: protocol === '5' ? 5 : 4,
    });
    cleanups.push(() => device.endAsync(true));
    const acked: number[] = [];
    const publishing = (async () => {
      for (let n = 0; n < N; n++) {
        // Resolves on the broker's PUBACK: after a broker restart mqtt.js sends it again until one comes.
        await device.publishAsync(`site/s1/meter/m${n % 3}`, JSON.stringify({ ts: T0 + n * 1000, n }), {
          qos: 1,
        });
        acked.push(n);
        await sleep(5);
      }
    })();

    await waitFor(
      () => acked.length,
      (n) => n >= N / 4,
      { what: 'a quarter published' },
    );
    await broker.restart(1_000);
    await waitFor(
      () => acked.length,
      (n) => n >= N / 2,
      { what: 'half published', timeoutMs: 30_000 },
    );
    await collector.kill('SIGKILL');
    // The broker queues for the collector's session meanwhile.
    await waitFor(
      () => acked.length,
      (n) => n >= (3 * N) / 4,
      { what: 'three quarters published', timeoutMs: 30_000 },
    );
    await collector.restart();
    await publishing;
    expect(acked).toHaveLength(N);

    const samples = await readSamplesUntil(
      topics.raw,
      (s) => new Set(s.map((x) => x.fields.n)).size >= N,
      `all ${N} readings`,
      90_000,
    );
    const counts = new Map<number, number>();
    for (const s of samples) counts.set(s.fields.n!, (counts.get(s.fields.n!) ?? 0) + 1);
    const missing = acked.filter((n) => !counts.has(n));
    expect(missing).toEqual([]);
    for (const s of samples) {
      expect(s.device).toBe(`m${s.fields.n! % 3}`);
      expect(s.ts).toBe(new Date(T0 + s.fields.n! * 1000).toISOString());
    }
    // A copy is possible only for a message spooled in the instant between the append and the PUBACK
    // when the process was killed (the broker sends it again): at most one per kill.
    const copies = samples.length - counts.size;
    expect(copies, collector.tail(30)).toBeLessThanOrEqual(1);
    // A copy carries its original's gs-source and gs-message-id (message-id.ts): the parser drops it.
    const identities = new Map<number, Set<string>>();
    for (const s of samples) {
      const set = identities.get(s.fields.n!) ?? new Set<string>();
      set.add(`${s.source} ${s.messageId}`);
      identities.set(s.fields.n!, set);
    }
    expect([...identities.values()].filter((ids) => ids.size > 1)).toEqual([]);
    expect(collector.starts).toBe(2);
    expect(broker.log()).toMatch(/gs-restart-\d+/);
  });
});
