import { SamplesMessageSchema } from '@gridstream/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readTopic,
  removeTestTopics,
  startInProcess,
  TEST_BROKERS,
  testKafka,
  uniqueName,
} from '../../../test/helpers.js';
import {
  byRecord,
  expectedInteropSamples,
  INTEROP_PROFILE,
  INTEROP_REGISTERS,
} from '../../../test/modbus-fixtures.js';
import { type RunningPeer, scratchDir, startPymodbus } from '../../../test/modbus-peers.js';
import { startModbusCollector } from './collector-service.js';
import { modbusCollectorConfigSchema } from './config.js';

/**
 * Interop with a Modbus slave nobody here wrote (pymodbus from Debian): it holds register words written
 * down by hand, and the values the collector must produce are written down by hand too — not computed
 * with our own codec — so a word-order, sign or scaling bug on our side cannot cancel itself out.
 */
const UNIT = 7;

describe('modbus collector ↔ pymodbus (Debian python3-pymodbus)', () => {
  const scratch = scratchDir('gs-modbus-interop');
  const topic = uniqueName('test.modbus.raw');
  const kafka = testKafka();
  let peer: RunningPeer;

  beforeAll(async () => {
    peer = await startPymodbus(
      { tcp: { host: '127.0.0.1', port: 0 }, units: { [UNIT]: INTEROP_REGISTERS } },
      scratch.dir,
    );
  });

  afterAll(async () => {
    await peer?.stop();
    await removeTestTopics(kafka, [topic]);
    scratch.cleanup();
  });

  it('produces exactly the expected samples, with lineage headers and UTC read timestamps', async () => {
    scratch.write('interop.yaml', INTEROP_PROFILE);
    const configPath = scratch.write(
      'collector.yaml',
      `site: interop-site
connections:
  - transport: tcp
    host: 127.0.0.1
    port: ${peer.port}
    devices:
      - name: meter
        profile: interop.yaml
        unitId: ${UNIT}
`,
    );
    const started = Date.now();
    const collector = await startInProcess(
      'modbus-collector',
      modbusCollectorConfigSchema,
      startModbusCollector,
      {
        KAFKA_BROKERS: TEST_BROKERS.join(','),
        KAFKA_TOPIC_RAW: topic,
        KAFKA_TOPIC_PARTITIONS: '1',
        MODBUS_CONFIG: configPath,
      },
    );
    let messages: Awaited<ReturnType<typeof readTopic>>;
    try {
      messages = await readTopic(kafka, topic, 3, 30_000);
    } finally {
      await collector.stop();
    }
    const ended = Date.now();
    expect(messages.length).toBeGreaterThanOrEqual(3);
    const timestamps: number[] = [];
    for (const message of messages) {
      expect(message.key?.toString()).toBe('interop-site');
      expect(message.headers['gs-schema']).toBe('samples.v1');
      expect(message.headers['gs-source']).toBe(`modbus://127.0.0.1:${peer.port}/unit/${UNIT}`);
      expect(message.headers['gs-received-at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const body = SamplesMessageSchema.parse(JSON.parse(message.value?.toString() ?? ''));
      expect(body.samples).toHaveLength(3);
      // One read time for the whole poll: every record of it carries the same UTC timestamp.
      const ts = new Set(body.samples.map((s) => s.ts));
      expect(ts.size).toBe(1);
      const t = Date.parse(body.samples[0]?.ts ?? '');
      expect(t).toBeGreaterThanOrEqual(started);
      expect(t).toBeLessThanOrEqual(ended);
      timestamps.push(t);
      expect(byRecord(body.samples)).toEqual(expectedInteropSamples('interop-site'));
    }
    // Aligned schedule: consecutive polls are one interval (400 ms) apart, give or take scheduling noise.
    for (let i = 1; i < timestamps.length; i++) {
      const gap = (timestamps[i] ?? 0) - (timestamps[i - 1] ?? 0);
      expect(gap).toBeGreaterThan(250);
      expect(gap).toBeLessThan(550);
    }
    const text = await collector.metrics.metrics();
    expect(text).toMatch(/gridstream_modbus_values_out_of_range_total\{device="meter"[^}]*\} [1-9]/);
    expect(text).toMatch(/gridstream_modbus_reads_total\{device="meter",outcome="ok"[^}]*\} [1-9]/);
  });
});
