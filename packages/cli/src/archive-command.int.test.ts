import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiverKey } from '@gridstream/archive-tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestTopics,
  removeTestTopics,
  TEST_BROKERS,
  testKafka,
  uniqueName,
} from '../../../test/helpers.js';
import { type FixtureRow, writeFixtureFile } from '../../archive-tools/src/test-archive.fixture.js';
import { runArchiveCommand } from './archive-command.js';

/**
 * `gridstream archive verify` with the real Kafka: the archiver group's committed offsets and the topic's
 * earliest offsets set the expected range; a hand-made archive holds a known gap and a known duplicate.
 */

const kafka = testKafka();
const topic = uniqueName('test.parsed');
const group = uniqueName('test-archiver');
let dir: string;

function records(partition: number, offsets: number[], day: string): FixtureRow[] {
  return offsets.map((offset) => ({
    ts: new Date(Date.parse(`${day}T06:00:00Z`) + offset * 60_000).toISOString(),
    site: 's1',
    equipment: 'pcs',
    device: 'pcs',
    field: 'power',
    value: offset,
    partition,
    offset,
  }));
}

async function file(day: string, partition: number, offsets: number[]) {
  const key = archiverKey(day, topic, partition, BigInt(offsets[0]!), BigInt(offsets.at(-1)!));
  await writeFixtureFile(dir, key, records(partition, offsets, day));
}

const span = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function capture() {
  let text = '';
  return {
    write: (s: string) => (text += s),
    get text() {
      return text;
    },
  };
}

beforeAll(async () => {
  await createTestTopics(kafka, [topic], 2);
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: [
      ...span(0, 19).map((i) => ({ partition: 0, value: `p0-${i}` })),
      ...span(0, 9).map((i) => ({ partition: 1, value: `p1-${i}` })),
    ],
  });
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Retention removed offsets 0..4 of partition 0; the archiver committed everything of partition 0
    // and partition 1 up to offset 7 (8..9 uploaded but not yet committed).
    await admin.fetchTopicMetadata({ topics: [topic] }); // deleteTopicRecords needs it loaded
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '5' }] });
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: [
        { partition: 0, offset: '20' },
        { partition: 1, offset: '8' },
      ],
    });
  } finally {
    await admin.disconnect();
  }
  dir = await mkdtemp(join(tmpdir(), 'gs-verify-int-'));
}, 120_000);

afterAll(async () => {
  await removeTestTopics(kafka, [topic]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('gridstream archive verify (Kafka)', () => {
  it('finds the gap and the duplicate, per dt, and exits 1; a window without them is OK', async () => {
    // Partition 0: 5..11 on 03-01, 14..19 on 03-02 → 12..13 missing. Partition 1: offset 4 in two files.
    await file('2024-03-01', 0, span(5, 11));
    await file('2024-03-02', 0, span(14, 19));
    await file('2024-03-01', 1, span(0, 4));
    await file('2024-03-01', 1, span(4, 9));
    const env = { KAFKA_BROKERS: TEST_BROKERS.join(','), KAFKA_TOPIC_PARSED: topic };
    const out = capture();
    const err = capture();
    const code = await runArchiveCommand(['verify', '--dir', dir, '--group', group], out, { env, err });
    expect(err.text).not.toMatch(/gridstream archive/);
    expect(code).toBe(1);
    const lines = out.text.split('\n');
    expect(lines.find((l) => l.startsWith('2024-03-01'))).toMatch(/^2024-03-01\s+3\s+17\s+18\s+1\s+2\s+1\s/);
    expect(lines.find((l) => l.startsWith('2024-03-02'))).toMatch(/^2024-03-02\s+1\s+6\s+6\s+0\s+0\s+0\s/);
    expect(out.text).toContain('GAP partition 0 offsets 12..13 (2 missing) near dt=2024-03-01');
    expect(out.text).toMatch(
      /DUPLICATE partition 1 offset 4 in .*\+1\+0+0\+0+4\.parquet, .*\+1\+0+4\+0+9\.parquet/,
    );
    expect(out.text).toMatch(/^\s+0\s+5\.\.19\s+13\s+2\s+20$/m);
    expect(out.text).toMatch(/^\s+1\s+0\.\.9\s+10\s+0\s+8$/m);
    expect(out.text).toContain('PROBLEMS: 1 gap(s) (2 offsets missing), 1 duplicated record(s)');

    const window = capture();
    expect(
      await runArchiveCommand(
        ['verify', '--dir', dir, '--group', group, '--from', '2024-03-02', '--to', '2024-03-02'],
        window,
        {
          env,
          err: capture(),
        },
      ),
    ).toBe(0);
    expect(window.text).toContain('OK: no gaps, no duplicates');
  });

  it('--json: the same report as one JSON document, offsets as strings; still exit 1', async () => {
    // The archive of the test above (written again: same names, same content).
    await file('2024-03-01', 0, span(5, 11));
    await file('2024-03-02', 0, span(14, 19));
    await file('2024-03-01', 1, span(0, 4));
    await file('2024-03-01', 1, span(4, 9));
    const env = { KAFKA_BROKERS: TEST_BROKERS.join(','), KAFKA_TOPIC_PARSED: topic };
    const out = capture();
    const err = capture();
    const code = await runArchiveCommand(['verify', '--dir', dir, '--group', group, '--json'], out, {
      env,
      err,
    });
    expect(err.text).not.toMatch(/gridstream archive/);
    expect(err.text).toContain('verifying ');
    expect(code).toBe(1);
    expect(out.text.split('\n')).toHaveLength(2); // one document, one line
    const day = { exportFiles: 0, exportRows: 0, overlappingRows: 0 };
    expect(JSON.parse(out.text)).toEqual({
      range: {},
      days: [
        {
          dt: '2024-03-01',
          archiverFiles: 3,
          records: 17,
          archiverRows: 18,
          gaps: 1,
          missingOffsets: '2',
          duplicateRecords: 1,
          // Both partitions hold offsets 5..9 of the same series at the same minutes: 5 readings twice.
          duplicateReadings: 5,
          ...day,
        },
        {
          dt: '2024-03-02',
          archiverFiles: 1,
          records: 6,
          archiverRows: 6,
          gaps: 0,
          missingOffsets: '0',
          duplicateRecords: 0,
          duplicateReadings: 0,
          ...day,
        },
      ],
      partitions: [
        { partition: 0, expectedFrom: '5', expectedTo: '19', present: '13', missing: '2', committed: '20' },
        { partition: 1, expectedFrom: '0', expectedTo: '9', present: '10', missing: '0', committed: '8' },
      ],
      gaps: [{ partition: 0, from: '12', to: '13', count: '2', dt: '2024-03-01' }],
      duplicates: [
        {
          partition: 1,
          offset: '4',
          files: [archiverKey('2024-03-01', topic, 1, 0n, 4n), archiverKey('2024-03-01', topic, 1, 4n, 9n)],
        },
      ],
      duplicateReadings: span(5, 9).map((o) => ({
        reading: `s1/pcs/pcs//power@2024-03-01T06:0${o}:00.000Z`,
        copies: 2,
        offsets: [`0:${o}`, `1:${o}`],
      })),
      unverifiable: [],
      totals: {
        gaps: 1,
        missingOffsets: '2',
        duplicateRecords: 1,
        duplicateReadings: 5,
        overlappingRows: 0,
        unverifiableOffsets: '0',
      },
      ok: false,
    });

    const window = capture();
    expect(
      await runArchiveCommand(
        ['verify', '--dir', dir, '--group', group, '--from', '2024-03-02', '--to', '2024-03-02', '--json'],
        window,
        { env, err: capture() },
      ),
    ).toBe(0);
    expect(JSON.parse(window.text)).toMatchObject({
      range: { from: '2024-03-02', to: '2024-03-02' },
      gaps: [],
      duplicates: [],
      ok: true,
    });
  });

  it('offsets the archiver committed but that are not in the archive are a gap', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'gs-verify-empty-'));
    try {
      const out = capture();
      const env = { KAFKA_BROKERS: TEST_BROKERS.join(','), KAFKA_TOPIC_PARSED: topic };
      expect(
        await runArchiveCommand(['verify', '--dir', empty, '--group', group], out, { env, err: capture() }),
      ).toBe(1);
      expect(out.text).toContain('GAP partition 0 offsets 5..19 (15 missing)');
      expect(out.text).toContain('GAP partition 1 offsets 0..7 (8 missing)');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
