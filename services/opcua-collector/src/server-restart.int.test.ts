import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTestTopics, testKafka, waitFor } from '../../../test/helpers.js';
import { startOpcuaSimulator } from '../../simulator/src/opcua-server.js';
import {
  conflictingPoints,
  freePort,
  resentPoints,
  startCollector,
  tapSamples,
  tempDir,
} from '../test/harness.js';

/**
 * "Restart the OPC UA server (new session ids, same address space) → data resumes within 30 s without
 * restarting the collector, with no duplicate points." The server is stopped, left down for a few
 * seconds and started again on the same port. The first restart also renumbers every NodeId (a server
 * that assigns ids at start-up), so only re-resolving the browse paths brings the data back; the second
 * keeps the ids, the path node-opcua's own session repair covers.
 */

const DOWN_MS = 4_000;
const RESUME_LIMIT_MS = 30_000;

describe('opcua-collector across OPC UA server restarts', () => {
  const dir = tempDir('opcua-restart');
  const topics: string[] = [];

  afterAll(async () => {
    await removeTestTopics(testKafka(), topics);
    dir.remove();
  });

  it('resumes after each restart by itself, with new sessions and no duplicate points', async () => {
    const port = await freePort();
    const simOptions = { port, pkiDir: join(dir.path, 'sim-pki'), updateIntervalMs: 250 };
    let sim = await startOpcuaSimulator({ ...simOptions, numericNodeIdBase: 100_000 });
    const collector = await startCollector({
      pkiDir: dir.path,
      endpoints: [
        {
          name: 'plant',
          url: sim.endpointUrl,
          samplingIntervalMs: 100,
          publishingIntervalMs: 250,
          bufferMs: 100,
          reconnectMaxDelayMs: 2_000,
          devices: [
            {
              site: '000001',
              equipment: 'battery',
              device: 'bank1',
              browsePath: '/Objects/Microgrid/Site01/Battery01',
              points: ['SOC', 'Voltage', 'Current', 'Temperature', 'Fault'].map((name) => ({
                field: name.toLowerCase(),
                browsePath: name,
              })),
            },
            {
              site: '000001',
              equipment: 'pcs',
              device: 'pcs1',
              points: [{ field: 'active_power', browsePath: '/Objects/Microgrid/Site01/PCS01/ActivePower' }],
            },
          ],
        },
      ],
    });
    topics.push(collector.topic);
    const tap = await tapSamples(collector.topic);
    const sessionOf = () => collector.readiness.report().checks['opcua:plant']?.detail ?? '';
    const resumedAfter = async (since: number) =>
      waitFor(
        () =>
          ['bank1', 'pcs1'].map((d) => tap.samples.some((s) => s.device === d && Date.parse(s.ts) >= since)),
        (seen) => seen.every(Boolean),
        { timeoutMs: RESUME_LIMIT_MS, intervalMs: 100, what: 'samples from the restarted server' },
      );
    const timings: number[] = [];
    const gaps: { from: number; to: number }[] = [];

    try {
      await resumedAfter(0);
      const sessions = [sessionOf()];
      expect(sessions[0]).toMatch(/^connected session /);

      for (const numericNodeIdBase of [200_000, 200_000]) {
        await sim.stop();
        const downAt = Date.now();
        await new Promise((r) => setTimeout(r, DOWN_MS));
        // Timestamps from the new instance start when it is being created (its initial values).
        gaps.push({ from: downAt, to: Date.now() });
        sim = await startOpcuaSimulator({ ...simOptions, numericNodeIdBase });
        const upAt = Date.now();
        await resumedAfter(upAt);
        timings.push(Date.now() - upAt);
        await waitFor(sessionOf, (s) => s.startsWith('connected') && !sessions.includes(s), {
          timeoutMs: 10_000,
          what: 'a new session id',
        });
        sessions.push(sessionOf());
      }
      // Let the last notifications land before judging duplicates.
      await new Promise((r) => setTimeout(r, 1_000));

      expect(timings.every((ms) => ms < RESUME_LIMIT_MS)).toBe(true);
      expect(new Set(sessions).size).toBe(3);
      // Ids moved on the first restart only: monitored items recreated once by us.
      expect(await collector.metricValue('gridstream_opcua_reconnects_total', { kind: 'resubscribed' })).toBe(
        1,
      );
      expect(conflictingPoints(tap.samples)).toEqual([]);
      // Nothing was stamped with a time at which the server was down: every timestamp is the server's.
      const invented = tap.samples.filter((s) =>
        gaps.some((g) => Date.parse(s.ts) > g.from + 50 && Date.parse(s.ts) < g.to - 50),
      );
      expect(invented).toEqual([]);
      const resent = resentPoints(tap.samples);
      const skipped = await collector.metricValue('gridstream_opcua_duplicates_total');
      console.info(
        `OPC UA restart: resumed after ${timings.map((t) => `${(t / 1000).toFixed(1)} s`).join(', ')}; ` +
          `${tap.samples.length} samples, identical re-sends on Kafka ${resent}, re-sent values skipped by the collector ${skipped}`,
      );
      expect(resent).toBe(0);
    } finally {
      await tap.stop();
      await collector.stop();
      await sim.stop();
    }
  });

  it('starts over with a new client when nothing arrives for staleAfterMs (server down longer)', async () => {
    const port = await freePort();
    const simOptions = { port, pkiDir: join(dir.path, 'sim-pki'), updateIntervalMs: 250 };
    let sim = await startOpcuaSimulator(simOptions);
    const collector = await startCollector({
      pkiDir: dir.path,
      endpoints: [
        {
          name: 'watchdog',
          url: sim.endpointUrl,
          samplingIntervalMs: 100,
          publishingIntervalMs: 250,
          maxKeepAliveCount: 4,
          staleAfterMs: 2_500,
          reconnectMaxDelayMs: 1_000,
          bufferMs: 100,
          devices: [
            {
              site: '000001',
              equipment: 'pv',
              device: 'pv1',
              points: [{ field: 'power', browsePath: '/Objects/Microgrid/Site01/PV01/Power' }],
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
        (n) => n > 0,
        { timeoutMs: 20_000, what: 'first samples' },
      );
      await sim.stop();
      await new Promise((r) => setTimeout(r, 5_000));
      sim = await startOpcuaSimulator(simOptions);
      const upAt = Date.now();
      await waitFor(() => tap.samples.some((s) => Date.parse(s.ts) >= upAt), Boolean, {
        timeoutMs: RESUME_LIMIT_MS,
        intervalMs: 100,
        what: 'samples after the long outage',
      });
      expect(
        await collector.metricValue('gridstream_opcua_reconnects_total', { kind: 'rebuilt' }),
      ).toBeGreaterThanOrEqual(1);
      expect(collector.readiness.report().checks['opcua:watchdog']).toMatchObject({ ok: true });
      expect(conflictingPoints(tap.samples)).toEqual([]);
    } finally {
      await tap.stop();
      await collector.stop();
      await sim.stop();
    }
  });
});
