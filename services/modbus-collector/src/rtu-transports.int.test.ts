import { SamplesMessageSchema } from '@gridstream/schema';
import { afterAll, describe, expect, it } from 'vitest';
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
import { scratchDir, startPtyPair, startPymodbus } from '../../../test/modbus-peers.js';
import { startModbusCollector } from './collector-service.js';
import { modbusCollectorConfigSchema } from './config.js';

/**
 * The RTU transports against pymodbus: RTU over a serial line (a socat pty pair stands in for the RS485
 * adapter: the collector opens one end with serialport, pymodbus's RTU server the other) and RTU frames
 * over TCP (a serial gateway in transparent mode). Same registers and hand-written expectations as the
 * TCP interop test.
 */
const UNIT = 9;
const scratch = scratchDir('gs-modbus-rtu');
const kafka = testKafka();
const topics: string[] = [];
const stops: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await removeTestTopics(kafka, topics);
  scratch.cleanup();
});

async function collectFrom(connectionYaml: string): Promise<void> {
  const topic = uniqueName('test.modbus.rtu');
  topics.push(topic);
  scratch.write('interop.yaml', INTEROP_PROFILE);
  const configPath = scratch.write(
    `collector-${topic}.yaml`,
    `site: rtu-site
connections:
  - ${connectionYaml.trim().split('\n').join('\n    ')}
    devices:
      - name: meter
        profile: interop.yaml
        unitId: ${UNIT}
        pollIntervalMs: 500
        timeoutMs: 400
`,
  );
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
    messages = await readTopic(kafka, topic, 2, 30_000);
  } finally {
    await collector.stop();
  }
  expect(messages.length).toBeGreaterThanOrEqual(2);
  for (const message of messages) {
    const body = SamplesMessageSchema.parse(JSON.parse(message.value?.toString() ?? ''));
    expect(byRecord(body.samples)).toEqual(expectedInteropSamples('rtu-site'));
  }
  return;
}

describe('RTU transports ↔ pymodbus', () => {
  // 8N1: a Linux pseudo-terminal refuses parity (tcsetattr with PARENB fails with EINVAL on this kernel)
  // and passes bytes without framing anyway, so parity and stop bits cannot be exercised on a pty.
  it('RTU over a serial line (socat pty pair, 19200 8N1)', async () => {
    const line = await startPtyPair(scratch.dir);
    stops.push(line.stop);
    const peer = await startPymodbus(
      {
        serial: { port: line.b, baudrate: 19200, parity: 'N', bytesize: 8, stopbits: 1 },
        units: { [UNIT]: INTEROP_REGISTERS },
      },
      scratch.dir,
    );
    stops.push(peer.stop);
    await collectFrom(`transport: rtu
path: ${line.a}
baudRate: 19200
parity: none
dataBits: 8
stopBits: 1`);
  });

  it('RTU frames over TCP (serial gateway)', async () => {
    const peer = await startPymodbus(
      { tcp: { host: '127.0.0.1', port: 0, framer: 'rtu' }, units: { [UNIT]: INTEROP_REGISTERS } },
      scratch.dir,
    );
    stops.push(peer.stop);
    await collectFrom(`transport: rtu-over-tcp
host: 127.0.0.1
port: ${peer.port}`);
  });
});
