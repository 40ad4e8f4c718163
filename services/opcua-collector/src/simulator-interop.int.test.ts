import { join } from 'node:path';
import { openApplicationPki } from '@gridstream/opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTestTopics, testKafka, waitFor } from '../../../test/helpers.js';
import { startOpcuaSimulator } from '../../simulator/src/opcua-server.js';
import {
  conflictingPoints,
  freePort,
  type RunningCollector,
  startCollector,
  type TappedSample,
  tapSamples,
  tempDir,
} from '../test/harness.js';

/**
 * The collector against our own OPC UA simulator (node-opcua server): exact values, source timestamps and
 * status codes; a secured endpoint with a password; polling mode.
 */

type Sim = Awaited<ReturnType<typeof startOpcuaSimulator>>;

const T1 = new Date('2024-01-02T03:04:05.678Z');
const T2 = new Date('2024-01-02T03:04:06.789Z');

function merged(samples: TappedSample[], device: string, ts: Date) {
  const out = {
    fields: {} as Record<string, number>,
    flags: {} as Record<string, boolean>,
    quality: {} as Record<string, string[]>,
    count: 0,
  };
  for (const s of samples) {
    if (s.device !== device || s.ts !== ts.toISOString()) continue;
    out.count++;
    Object.assign(out.fields, s.fields);
    Object.assign(out.flags, s.flags ?? {});
    Object.assign(out.quality, s.quality ?? {});
  }
  return out;
}

describe('opcua-collector with the gridstream OPC UA simulator', () => {
  const dir = tempDir('opcua-sim-interop');
  const topics: string[] = [];
  let sim: Sim;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    sim = await startOpcuaSimulator({
      port,
      pkiDir: join(dir.path, 'sim-pki'),
      updateIntervalMs: 300,
      users: [{ username: 'operator', password: 'pw-123' }],
      allowAnonymous: true,
    });
  });

  afterAll(async () => {
    await sim?.stop();
    await removeTestTopics(testKafka(), topics);
    dir.remove();
  });

  it('subscribes by browse path and NodeId and sends values, source timestamps and quality exactly', async () => {
    let collector: RunningCollector | undefined;
    const endpoint = {
      name: 'sim',
      url: sim.endpointUrl,
      samplingIntervalMs: 100,
      publishingIntervalMs: 200,
      bufferMs: 100,
      devices: [
        {
          site: '000001',
          equipment: 'battery',
          device: 'bank1',
          browsePath: '/Objects/Microgrid/Site01/Battery01',
          points: [
            { field: 'soc', browsePath: 'SOC', unit: '%' },
            { field: 'voltage', browsePath: 'Voltage' },
            { field: 'current', browsePath: '2:Current' },
            { field: 'fault', browsePath: 'Fault' },
            { field: 'missing', browsePath: 'NoSuchVariable' },
          ],
        },
        {
          site: '000001',
          equipment: 'pcs',
          device: 'pcs1',
          points: [
            { field: 'active_power', nodeId: sim.nodeIdOf('Site01/PCS01/ActivePower') },
            { field: 'frequency', nodeId: `nsu=${sim.namespaceUri};s=Microgrid/Site01/PCS01/Frequency` },
          ],
        },
      ],
    };
    collector = await startCollector({ endpoints: [endpoint], pkiDir: dir.path });
    topics.push(collector.topic);
    const tap = await tapSamples(collector.topic);
    try {
      await waitFor(
        () => collector!.readiness.report(),
        (r) => r.ready,
        { timeoutMs: 30_000, what: 'collector readiness' },
      );
      // Live values first: both devices, every resolved point.
      await waitFor(
        () => tap.samples.filter((s) => s.device === 'pcs1' && s.fields.frequency !== undefined).length,
        (n) => n > 0,
        { timeoutMs: 20_000, what: 'live PCS samples' },
      );
      expect(await collector.metricValue('gridstream_opcua_unresolved_points', { endpoint: 'sim' })).toBe(1);
      expect(await collector.metricValue('gridstream_opcua_monitored_items', { endpoint: 'sim' })).toBe(6);

      sim.pause();
      sim.set('Site01/Battery01/SOC', 77.25, { sourceTimestamp: T1 });
      sim.set('Site01/Battery01/Current', -12.5, { sourceTimestamp: T1 });
      sim.set('Site01/Battery01/Fault', true, { sourceTimestamp: T1 });
      sim.set('Site01/Battery01/Voltage', 801.5, { sourceTimestamp: T1, status: 'UncertainLastUsableValue' });
      sim.set('Site01/PCS01/ActivePower', null, { sourceTimestamp: T2, status: 'BadSensorFailure' });
      sim.set('Site01/PCS01/Frequency', 59.98, { sourceTimestamp: T2 });

      await waitFor(
        () => [merged(tap.samples, 'bank1', T1), merged(tap.samples, 'pcs1', T2)],
        ([battery, pcs]) =>
          Object.keys(battery!.fields).length === 3 &&
          Object.keys(battery!.flags).length === 1 &&
          Object.keys(battery!.quality).length === 1 &&
          'frequency' in pcs!.fields &&
          'active_power' in pcs!.quality,
        { timeoutMs: 20_000, what: 'the injected values' },
      );
      const battery = merged(tap.samples, 'bank1', T1);
      expect(battery.fields).toEqual({ soc: 77.25, current: -12.5, voltage: 801.5 });
      expect(battery.flags).toEqual({ fault: true });
      expect(battery.quality).toEqual({ voltage: ['uncertain'] });
      const pcs = merged(tap.samples, 'pcs1', T2);
      expect(pcs.fields).toEqual({ frequency: 59.98 });
      expect(pcs.quality).toEqual({ active_power: ['bad'] });

      const one = tap.samples.find((s) => s.device === 'bank1')!;
      expect(one).toMatchObject({
        site: '000001',
        equipment: 'battery',
        source: `opcua://127.0.0.1:${port}`,
      });
      expect(conflictingPoints(tap.samples)).toEqual([]);

      const age = await collector.metricValue('gridstream_opcua_last_good_value_age_seconds', {
        device: 'bank1',
      });
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThan(60);
      expect(
        await collector.metricValue('gridstream_opcua_values_total', { device: 'pcs1', quality: 'bad' }),
      ).toBe(1);
    } finally {
      sim.resume();
      await tap.stop();
      await collector.stop();
    }
  });

  it('connects with SignAndEncrypt + Basic256Sha256 and a password; a wrong password fails alone', async () => {
    const secured = {
      url: sim.endpointUrl,
      securityMode: 'SignAndEncrypt',
      securityPolicy: 'Basic256Sha256',
      samplingIntervalMs: 100,
      publishingIntervalMs: 200,
      bufferMs: 100,
    };
    const collector = await startCollector({
      pkiDir: dir.path,
      secretEnv: { SIM_PASSWORD: 'pw-123', WRONG_PASSWORD: 'nope' },
      endpoints: [
        {
          ...secured,
          name: 'secure',
          identity: { type: 'username', username: 'operator', passwordEnv: 'SIM_PASSWORD' },
          devices: [
            {
              site: '000001',
              equipment: 'pv',
              device: 'pv1',
              browsePath: '/Objects/Microgrid/Site01/PV01',
              points: [{ field: 'power', browsePath: 'Power' }],
            },
          ],
        },
        {
          ...secured,
          name: 'wrong-password',
          identity: { type: 'username', username: 'operator', passwordEnv: 'WRONG_PASSWORD' },
          devices: [
            {
              site: '000001',
              equipment: 'ev_charger',
              device: 'ev1',
              points: [{ field: 'power', browsePath: '/Objects/Microgrid/Site01/EVCharger01/Power' }],
            },
          ],
        },
      ],
    });
    topics.push(collector.topic);
    const tap = await tapSamples(collector.topic);
    try {
      await waitFor(
        () => tap.samples.filter((s) => s.device === 'pv1').length,
        (n) => n >= 2,
        { timeoutMs: 30_000, what: 'samples over the encrypted channel' },
      );
      await waitFor(
        () =>
          collector.metricValue('gridstream_opcua_connect_failures_total', { endpoint: 'wrong-password' }),
        (n) => n >= 1,
        { timeoutMs: 20_000, what: 'the refused login to be counted' },
      );
      const report = collector.readiness.report();
      expect(report.checks).toMatchObject({
        'opcua:secure': { ok: true },
        'opcua:wrong-password': { ok: false },
      });
      expect(tap.samples.some((s) => s.device === 'ev1')).toBe(false);
    } finally {
      await tap.stop();
      await collector.stop();
    }
  });

  it('logs in with an X509 user certificate', async () => {
    // A user certificate of its own, made the way the collector makes its application certificate.
    const user = await openApplicationPki({
      pkiDir: join(dir.path, 'user-cert'),
      applicationName: 'gridstream-test-user',
      applicationUri: 'urn:gridstream:test-user',
      watch: false,
    });
    await user.dispose();
    const collector = await startCollector({
      pkiDir: dir.path,
      endpoints: [
        {
          name: 'x509',
          url: sim.endpointUrl,
          securityMode: 'Sign',
          securityPolicy: 'Aes128_Sha256_RsaOaep',
          identity: {
            type: 'certificate',
            certificateFile: user.certificateFile,
            privateKeyFile: user.privateKeyFile,
          },
          samplingIntervalMs: 100,
          publishingIntervalMs: 200,
          bufferMs: 100,
          devices: [
            {
              site: '000003',
              equipment: 'pcs',
              device: 'pcs1',
              points: [{ field: 'frequency', browsePath: '/Objects/Microgrid/Site01/PCS01/Frequency' }],
            },
          ],
        },
      ],
    });
    topics.push(collector.topic);
    const tap = await tapSamples(collector.topic);
    try {
      await waitFor(
        () => tap.samples.length,
        (n) => n >= 2,
        { timeoutMs: 30_000, what: 'samples with a certificate login' },
      );
      expect(collector.readiness.report().checks['opcua:x509']).toMatchObject({ ok: true });
    } finally {
      await tap.stop();
      await collector.stop();
    }
  });

  it('polls on a schedule and does not re-send a value whose source timestamp did not move', async () => {
    const collector = await startCollector({
      pkiDir: dir.path,
      endpoints: [
        {
          name: 'poll',
          url: sim.endpointUrl,
          mode: 'polling',
          pollIntervalMs: 200,
          bufferMs: 50,
          devices: [
            {
              site: '000002',
              equipment: 'battery',
              device: 'bank2',
              browsePath: '/Objects/Microgrid/Site01/Battery02',
              points: [
                { field: 'soc', browsePath: 'SOC' },
                { field: 'soh', browsePath: 'SOH' },
              ],
            },
          ],
        },
      ],
    });
    topics.push(collector.topic);
    const tap = await tapSamples(collector.topic);
    try {
      await waitFor(
        () => tap.samples.length,
        (n) => n >= 2,
        { timeoutMs: 20_000, what: 'polled samples' },
      );
      sim.pause();
      // Let what was in flight arrive, then count: ten more polls must add nothing.
      await new Promise((r) => setTimeout(r, 1_000));
      const before = tap.samples.length;
      const duplicatesBefore = await collector.metricValue('gridstream_opcua_duplicates_total', {
        endpoint: 'poll',
      });
      await new Promise((r) => setTimeout(r, 2_000));
      expect(tap.samples.length).toBe(before);
      expect(
        await collector.metricValue('gridstream_opcua_duplicates_total', { endpoint: 'poll' }),
      ).toBeGreaterThan(duplicatesBefore + 10);
      expect(conflictingPoints(tap.samples)).toEqual([]);
    } finally {
      sim.resume();
      await tap.stop();
      await collector.stop();
    }
  });
});
