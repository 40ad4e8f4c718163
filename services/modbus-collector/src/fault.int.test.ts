import { join } from 'node:path';
import { loadConfig } from '@gridstream/config';
import type { InMessage } from '@gridstream/kafka';
import { createMetricsRegistry, Readiness, type RunningService } from '@gridstream/runtime';
import { SamplesMessageSchema } from '@gridstream/schema';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { readTopic, removeTestTopics, TEST_BROKERS, testKafka, uniqueName } from '../../../test/helpers.js';
import { REPO_ROOT, scratchDir } from '../../../test/modbus-peers.js';
import { type ModbusSimulator, startModbusSimulator } from '../../simulator/src/modbus-server.js';
import { startModbusCollector } from './collector-service.js';
import { modbusCollectorConfigSchema } from './config.js';

/**
 * Fault tests on real sockets, with the ESS profile (7 reads per poll) at a 200 ms interval:
 *  1. two devices on two connections; one server stops for 10 s → failures logged and counted, its
 *     breaker opens, the other device keeps its slots, and reads resume within one interval of the return;
 *  2. two devices behind ONE connection (a gateway); one unit goes silent (timeouts, the RS485 case) →
 *     after its breaker opens the other unit keeps its schedule on the shared line.
 *
 * Tolerances are for a loaded 2-core CI machine: slots are 200 ms apart and a poll takes a few ms, so a
 * timestamp more than 150 ms late, or a missing slot, would be a scheduling failure, not noise.
 */
const INTERVAL = 200;
const ESS_PROFILE = join(REPO_ROOT, 'sample/profiles/ess-sionyu.yaml');
const scratch = scratchDir('gs-modbus-fault');
const kafka = testKafka();
const topics: string[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await removeTestTopics(kafka, topics);
  scratch.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Started {
  stop: () => Promise<void>;
  metrics: () => Promise<string>;
  logs: Record<string, unknown>[];
  readiness: Readiness;
}

/** Like startInProcess, but with a logger whose lines the test can read. */
async function startCollector(topic: string, configYaml: string): Promise<Started> {
  const configPath = scratch.write(`${topic}.yaml`, configYaml);
  const config = loadConfig(modbusCollectorConfigSchema, {
    HEALTH_PORT: '0',
    KAFKA_BROKERS: TEST_BROKERS.join(','),
    KAFKA_TOPIC_RAW: topic,
    KAFKA_TOPIC_PARTITIONS: '1',
    MODBUS_CONFIG: configPath,
    // Its own spool: what an earlier run left in a shared one would be sent to this test's topic.
    SPOOL_DIR: join(scratch.dir, `${topic}.spool`),
  });
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const readiness = new Readiness();
  const registry = createMetricsRegistry('modbus-collector');
  const running: RunningService = await startModbusCollector({
    config,
    logger,
    metrics: registry,
    readiness,
  });
  readiness.state = 'running';
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await running.stop();
  };
  cleanups.push(stop);
  return { stop, metrics: () => registry.metrics(), logs, readiness };
}

function samplesBySource(messages: InMessage[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const m of messages) {
    const source = m.headers['gs-source'] ?? '';
    const body = SamplesMessageSchema.parse(JSON.parse(m.value?.toString() ?? ''));
    const list = out.get(source) ?? [];
    list.push(Date.parse(body.samples[0]?.ts ?? ''));
    out.set(source, list);
  }
  for (const list of out.values()) list.sort((a, b) => a - b);
  return out;
}

/**
 * Sum of every series of `name` carrying `labels`. Summed, not the first match: read failures are labelled
 * by reason too, and a 10 s outage yields one `timeout` then several `connect` failures — reading only the
 * first line saw 1 in CI.
 */
function metricValue(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      sum += Number(line.split(' ').pop());
  }
  return sum;
}

/** Gaps between consecutive timestamps within [from, to]. */
function gapsWithin(ts: number[], from: number, to: number): number[] {
  const inside = ts.filter((t) => t >= from && t <= to);
  return inside.slice(1).map((t, i) => t - (inside[i] as number));
}

/** Messages of answered polls (gridstream_source_messages_total); all in Kafka once the collector stopped. */
async function produced(collector: Started): Promise<number> {
  return metricValue(await collector.metrics(), 'gridstream_source_messages_total', { source: 'modbus' });
}

describe('modbus collector faults', () => {
  it('a server stopped for 10 s: failures counted and logged, breaker opens, the other device keeps its slots, reads resume within one interval', async () => {
    const a = await startModbusSimulator({ port: 0, profile: ESS_PROFILE, seed: 11, updateIntervalMs: 0 });
    let b: ModbusSimulator = await startModbusSimulator({
      port: 0,
      profile: ESS_PROFILE,
      seed: 12,
      updateIntervalMs: 0,
    });
    cleanups.push(() => a.stop());
    cleanups.push(() => b.stop());
    const topic = uniqueName('test.modbus.fault');
    topics.push(topic);
    const device = (name: string, port: number) => `  - transport: tcp
    host: 127.0.0.1
    port: ${port}
    connectTimeoutMs: 150
    devices:
      - name: ${name}
        profile: ${ESS_PROFILE}
        pollIntervalMs: ${INTERVAL}
        timeoutMs: 100
        retries: 1
`;
    const collector = await startCollector(
      topic,
      `site: fault-site\nconnections:\n${device('ess-a', a.port)}${device('ess-b', b.port)}`,
    );
    await sleep(1_500);

    const stoppedAt = Date.now();
    await b.stop();
    await sleep(10_000);
    const midOutage = await collector.metrics();
    const readinessDuring = collector.readiness.report();
    b = await startModbusSimulator({ port: b.port, profile: ESS_PROFILE, seed: 12, updateIntervalMs: 0 });
    const returnedAt = Date.now();
    await sleep(1_500);
    await collector.stop();
    const endedAt = Date.now();

    // Failures counted, breaker opened (and closed again), and said so in the logs.
    expect(
      metricValue(midOutage, 'gridstream_modbus_read_failures_total', { device: 'ess-b' }),
    ).toBeGreaterThanOrEqual(3);
    expect(metricValue(midOutage, 'gridstream_modbus_breaker_state', { device: 'ess-b' })).toBeGreaterThan(0);
    expect(metricValue(midOutage, 'gridstream_modbus_read_failures_total', { device: 'ess-a' })).toBe(0);
    expect(readinessDuring.checks['device:ess-b']?.detail).toMatch(/breaker (open|half_open)/);
    expect(readinessDuring.checks['device:ess-a']?.detail).toMatch(/breaker closed/);
    // The standard connection state of the source seam, per device (endpoint): B's line lost, A's up.
    const connected = (text: string, device: string) =>
      metricValue(text, 'gridstream_source_connected', { source: 'modbus', endpoint: device });
    expect(connected(midOutage, 'ess-b')).toBe(0);
    expect(connected(midOutage, 'ess-a')).toBe(1);
    expect(
      metricValue(midOutage, 'gridstream_source_disconnects_total', { endpoint: 'ess-b' }),
    ).toBeGreaterThanOrEqual(1);
    expect(metricValue(midOutage, 'gridstream_source_disconnects_total', { endpoint: 'ess-a' })).toBe(0);
    const final = await collector.metrics();
    expect(
      metricValue(final, 'gridstream_modbus_breaker_transitions_total', { device: 'ess-b', to: 'open' }),
    ).toBeGreaterThanOrEqual(1);
    expect(metricValue(final, 'gridstream_modbus_breaker_state', { device: 'ess-b' })).toBe(0);
    expect(collector.logs.some((l) => l.msg === 'poll failed' && l.device === 'ess-b')).toBe(true);
    expect(
      collector.logs.some((l) => String(l.msg).startsWith('circuit breaker opened') && l.device === 'ess-b'),
    ).toBe(true);
    // Not one log line per failed poll for 10 s (50 slots): repeated identical failures are not re-logged.
    expect(collector.logs.filter((l) => l.msg === 'poll failed').length).toBeLessThan(10);

    const messages = await readTopic(kafka, topic, await produced(collector), 30_000);
    const bySource = samplesBySource(messages);
    const tsA = bySource.get(`modbus://127.0.0.1:${a.port}/unit/1`) ?? [];
    const tsB = bySource.get(`modbus://127.0.0.1:${b.port}/unit/1`) ?? [];

    // A kept its schedule through B's outage: polls one interval apart, no missing slot.
    const gapsA = gapsWithin(tsA, stoppedAt, returnedAt);
    expect(gapsA.length).toBeGreaterThanOrEqual(Math.floor((returnedAt - stoppedAt) / INTERVAL) - 2);
    for (const gap of gapsA) {
      expect(gap).toBeGreaterThan(INTERVAL - 150);
      expect(gap).toBeLessThan(INTERVAL + 150);
    }
    expect(
      metricValue(final, 'gridstream_modbus_skipped_cycles_total', { device: 'ess-a' }),
    ).toBeLessThanOrEqual(1);

    // B: nothing while down; back within one interval of the server's return.
    expect(tsB.filter((t) => t > stoppedAt + 50 && t < returnedAt)).toEqual([]);
    const firstBack = tsB.find((t) => t >= returnedAt);
    expect(firstBack).toBeDefined();
    expect((firstBack as number) - returnedAt).toBeLessThanOrEqual(INTERVAL + 150);
    console.info(
      `fault test: device B back ${(firstBack as number) - returnedAt} ms after its server returned; ` +
        `device A gaps during the outage ${Math.min(...gapsA)}..${Math.max(...gapsA)} ms over ${gapsA.length} polls`,
    );
    // …and on schedule again afterwards.
    const gapsBack = gapsWithin(tsB, returnedAt, endedAt);
    expect(gapsBack.length).toBeGreaterThanOrEqual(4);
    for (const gap of gapsBack) expect(gap).toBeLessThan(INTERVAL + 150);
  });

  it('a silent unit behind a shared connection: its breaker opens and the other unit keeps its schedule', async () => {
    const gateway = await startModbusSimulator({
      port: 0,
      profile: ESS_PROFILE,
      unitIds: [1, 2],
      seed: 21,
      updateIntervalMs: 0,
    });
    cleanups.push(() => gateway.stop());
    const topic = uniqueName('test.modbus.shared');
    topics.push(topic);
    const collector = await startCollector(
      topic,
      `site: fault-site
connections:
  - transport: tcp
    host: 127.0.0.1
    port: ${gateway.port}
    devices:
      - { name: unit-1, profile: ${ESS_PROFILE}, unitId: 1, pollIntervalMs: ${INTERVAL}, timeoutMs: 100, retries: 1 }
      - { name: unit-2, profile: ${ESS_PROFILE}, unitId: 2, pollIntervalMs: ${INTERVAL}, timeoutMs: 100, retries: 1, phaseMs: 100 }
`,
    );
    await sleep(1_000);
    const silencedAt = Date.now();
    gateway.silence(true, 2);
    await sleep(6_000);
    const mid = await collector.metrics();
    gateway.silence(false, 2);
    const answeringAt = Date.now();
    await sleep(2_000);
    await collector.stop();

    expect(
      metricValue(mid, 'gridstream_modbus_read_failures_total', { device: 'unit-2', reason: 'timeout' }),
    ).toBeGreaterThanOrEqual(3);
    expect(metricValue(mid, 'gridstream_modbus_breaker_state', { device: 'unit-2' })).toBeGreaterThan(0);
    // Open: unit 2 costs the line one 100 ms probe per cool-down (5 intervals on a shared line) instead
    // of 2 × 100 ms every slot, so unit 1 is not pushed off its slots.
    const skippedProbes = metricValue(mid, 'gridstream_modbus_polls_total', {
      device: 'unit-2',
      outcome: 'breaker_open',
    });
    expect(skippedProbes).toBeGreaterThan(10);

    const messages = await readTopic(kafka, topic, await produced(collector), 30_000);
    const bySource = samplesBySource(messages);
    const ts1 = bySource.get(`modbus://127.0.0.1:${gateway.port}/unit/1`) ?? [];
    const ts2 = bySource.get(`modbus://127.0.0.1:${gateway.port}/unit/2`) ?? [];
    // Once unit 2's breaker is open (3 failed polls ≈ 0.6 s after silencing), unit 1 is read every slot.
    const settled = silencedAt + 4 * INTERVAL;
    const gaps1 = gapsWithin(ts1, settled, answeringAt);
    expect(gaps1.length).toBeGreaterThanOrEqual(Math.floor((answeringAt - settled) / INTERVAL) - 2);
    for (const gap of gaps1) expect(gap).toBeLessThan(INTERVAL + 150);
    // Unit 2 comes back at its next probe: within the shared-line cool-down plus one interval.
    const back = ts2.find((t) => t >= answeringAt);
    expect(back).toBeDefined();
    expect((back as number) - answeringAt).toBeLessThanOrEqual(5 * INTERVAL + INTERVAL + 150);
  });
});
