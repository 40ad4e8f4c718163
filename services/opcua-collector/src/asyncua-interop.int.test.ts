import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTestTopics, testKafka, waitFor } from '../../../test/helpers.js';
import { type AsyncuaPeer, type AsyncuaWrite, startAsyncuaPeer } from '../test/asyncua-peer.js';
import {
  conflictingPoints,
  freePort,
  type RunningCollector,
  resentPoints,
  startCollector,
  type TappedSample,
  tapSamples,
  tempDir,
} from '../test/harness.js';

/**
 * Interop with an OPC UA server nobody here wrote: FreeOpcUa's asyncua (Python, PyPI, installed by
 * deploy/local/asyncua.sh). The test writes known values with known source timestamps and status codes
 * into it; the collector, subscribed, must put exactly those on telemetry.raw: UInt32 above 2^31 still
 * unsigned, Int64 up to 2^53, Float and negative values intact, Bad/Uncertain flagged, the server
 * timestamp used when the source timestamp is missing, and nothing else.
 */

const T0 = '2024-03-01T00:00:00.000Z';
const T1 = '2024-03-01T00:00:01.250Z';
const T2 = '2024-03-01T00:00:02.500Z';
const T3 = '2024-03-01T00:00:02.750Z';
const T4 = '2024-03-01T00:00:05.000Z';

const WRITES: AsyncuaWrite[] = [
  { path: 'Battery01/SOC', value: 55.5, source: T1 },
  { path: 'Battery01/Voltage', value: 801.25, source: T1 },
  { path: 'Battery01/Current', value: -12.5, source: T1 },
  { path: 'Battery01/Cycles', value: 4_294_967_295, source: T1 },
  { path: 'Battery01/Energy', value: 9_007_199_254_740_991, source: T1 },
  { path: 'Battery01/Fault', value: true, source: T1 },
  { path: 'Inverter01/Power', value: 120.5, source: T1 },
  { path: 'Inverter01/Running', value: true, source: T1 },
  { path: 'Battery01/SOC', value: 56, source: T2, status: 'UncertainLastUsableValue' },
  { path: 'Battery01/Voltage', value: null, source: T2, status: 'BadSensorFailure' },
  { path: 'Battery01/Current', value: -0.75, source: T2 },
  { path: 'Battery01/Energy', value: -42, source: T2 },
  { path: 'Inverter01/Temperature', value: 41.25, source: null, server: T3 },
];

type Expected = {
  fields: Record<string, number>;
  flags?: Record<string, boolean>;
  quality?: Record<string, string[]>;
};

const EXPECTED: Record<string, Expected> = {
  [`bank1@${T0}`]: {
    fields: { soc: 0, voltage: 0, current: 0, cycles: 0, energy: 0 },
    flags: { fault: false },
  },
  [`inv1@${T0}`]: { fields: { power: 0, temperature: 0 }, flags: { running: false } },
  [`bank1@${T1}`]: {
    fields: {
      soc: 55.5,
      voltage: 801.25,
      current: -12.5,
      cycles: 4_294_967_295,
      energy: 9_007_199_254_740_991,
    },
    flags: { fault: true },
  },
  [`inv1@${T1}`]: { fields: { power: 120.5 }, flags: { running: true } },
  [`bank1@${T2}`]: {
    fields: { soc: 56, current: -0.75, energy: -42 },
    quality: { soc: ['uncertain'], voltage: ['bad'] },
  },
  [`inv1@${T3}`]: { fields: { temperature: 41.25 } },
};

function mergeByDeviceAndTs(samples: TappedSample[]): Record<string, Expected> {
  const out: Record<string, Expected> = {};
  for (const s of samples) {
    const key = `${s.device}@${s.ts}`;
    const m = out[key] ?? { fields: {} };
    out[key] = m;
    Object.assign(m.fields, s.fields);
    if (s.flags) m.flags = { ...m.flags, ...s.flags };
    if (s.quality) m.quality = { ...m.quality, ...s.quality };
  }
  return out;
}

describe('opcua-collector with an asyncua (Python) OPC UA server', () => {
  const dir = tempDir('opcua-asyncua');
  let peer: AsyncuaPeer;
  let port: number;
  let collector: RunningCollector | undefined;

  beforeAll(async () => {
    port = await freePort();
    peer = await startAsyncuaPeer(port, T0);
  });

  afterAll(async () => {
    await collector?.stop();
    await peer?.stop();
    if (collector) await removeTestTopics(testKafka(), [collector.topic]);
    dir.remove();
  });

  it('delivers the values, source timestamps and status codes it was given, exactly and once', async () => {
    collector = await startCollector({
      pkiDir: dir.path,
      endpoints: [
        {
          name: 'asyncua',
          url: peer.url,
          samplingIntervalMs: 50,
          publishingIntervalMs: 100,
          queueSize: 100,
          bufferMs: 150,
          devices: [
            {
              site: 'py01',
              equipment: 'battery',
              device: 'bank1',
              browsePath: '/Objects/Plant/Battery01',
              points: ['SOC', 'Voltage', 'Current', 'Cycles', 'Energy', 'Fault'].map((name) => ({
                field: name.toLowerCase(),
                browsePath: name,
              })),
            },
            {
              site: 'py01',
              equipment: 'inverter',
              device: 'inv1',
              points: [
                { field: 'power', relativePath: '/Objects/2:Plant/2:Inverter01/2:Power' },
                { field: 'temperature', relativePath: '/Objects/2:Plant/2:Inverter01/2:Temperature' },
                { field: 'running', browsePath: '/Objects/2:Plant/Inverter01/Running' },
              ],
            },
          ],
        },
      ],
    });
    const tap = await tapSamples(collector.topic);
    try {
      await waitFor(
        () => collector!.readiness.report(),
        (r) => r.ready,
        { timeoutMs: 30_000, what: 'collector readiness' },
      );
      // The initial values (all zero at T0) arrive first; then the writes, paced a little so that every
      // one is a separate notification as a real device's changes would be.
      await waitFor(() => mergeByDeviceAndTs(tap.samples)[`inv1@${T0}`], Boolean, {
        timeoutMs: 20_000,
        what: 'initial values',
      });
      for (const write of WRITES) {
        await peer.write(write);
        await new Promise((r) => setTimeout(r, 30));
      }
      await waitFor(
        () => mergeByDeviceAndTs(tap.samples),
        (got) => isDeepStrictEqual(got, EXPECTED),
        { timeoutMs: 20_000, what: 'exactly the expected samples' },
      );
      // Anything late (a duplicate, a re-stamped value) would show up in this second.
      await new Promise((r) => setTimeout(r, 1_000));

      expect(mergeByDeviceAndTs(tap.samples)).toEqual(EXPECTED);
      expect(conflictingPoints(tap.samples)).toEqual([]);
      expect(new Set(tap.samples.map((s) => s.source))).toEqual(
        new Set([`opcua://${peer.url.slice('opc.tcp://'.length)}`]),
      );
      expect(
        await collector.metricValue('gridstream_opcua_timestamp_fallback_total', { used: 'server' }),
      ).toBe(1);
      expect(
        await collector.metricValue('gridstream_opcua_values_total', { device: 'bank1', quality: 'bad' }),
      ).toBe(1);
      expect(
        await collector.metricValue('gridstream_opcua_values_total', {
          device: 'bank1',
          quality: 'uncertain',
        }),
      ).toBe(1);
    } finally {
      await tap.stop();
    }
  });

  it('comes back by itself after the asyncua server restarts, without conflicting points', async () => {
    const tap = await tapSamples(collector!.topic);
    try {
      const recoveries = () =>
        Promise.all([
          collector!.metricValue('gridstream_opcua_reconnects_total', { kind: 'session_restored' }),
          collector!.metricValue('gridstream_opcua_reconnects_total', { kind: 'rebuilt' }),
        ]).then(([a, b]) => a + b);
      const before = await recoveries();
      await peer.stop();
      await new Promise((r) => setTimeout(r, 2_000));
      // Same port, same address space, values back at their initial state: a restarted process.
      peer = await startAsyncuaPeer(port, T0);
      const upAt = Date.now();
      await waitFor(recoveries, (n) => n > before, { timeoutMs: 30_000, what: 'the collector to recover' });
      const recoveredMs = Date.now() - upAt;
      await waitFor(
        () => collector!.readiness.report(),
        (r) => r.ready,
        { timeoutMs: 30_000, what: 'readiness' },
      );
      await peer.write({ path: 'Battery01/SOC', value: 60.5, source: T4 });
      await waitFor(() => mergeByDeviceAndTs(tap.samples)[`bank1@${T4}`], Boolean, {
        timeoutMs: 30_000,
        what: 'a value written after the restart',
      });
      expect(Date.now() - upAt).toBeLessThan(30_000);
      expect(mergeByDeviceAndTs(tap.samples)[`bank1@${T4}`]).toEqual({ fields: { soc: 60.5 } });
      // The restarted server hands out its initial values (T0) again: identical to what was sent at the
      // start, which downstream overwrites with itself; never a different value for the same time.
      expect(conflictingPoints(tap.samples)).toEqual([]);
      console.info(
        `asyncua restart: collecting again ${(recoveredMs / 1000).toFixed(1)} s after the server was up; identical re-sends ${resentPoints(tap.samples)}`,
      );
    } finally {
      await tap.stop();
    }
  });
});
