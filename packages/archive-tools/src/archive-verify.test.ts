import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalObjectStore } from '@gridstream/archive';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archiverKey, exportKey } from './archive-keys.js';
import { StoreArchiveSource } from './archive-source.js';
import {
  formatVerifyReport,
  type VerifyProgress,
  type VerifyReport,
  verifyArchive,
  verifyReportToJson,
} from './archive-verify.js';
import { type FixtureRow, writeFixtureFile } from './test-archive.fixture.js';

const TOPIC = 'telemetry.parsed';
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gs-verify-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Two rows per record (a reading and a flag), like a parsed record with one field and one flag. */
function records(partition: number, offsets: number[], day: string): FixtureRow[] {
  return offsets.flatMap((offset) => {
    const ts = new Date(Date.parse(`${day}T00:00:00Z`) + offset * 1000).toISOString();
    const base = { ts, site: 's1', equipment: 'pcs', device: `d${partition}`, partition, offset };
    return [
      { ...base, field: 'power', value: offset },
      { ...base, field: 'fault', value: 0, isFlag: true },
    ];
  });
}

const localSource = (d: string) => new StoreArchiveSource(new LocalObjectStore(d), join(d, '.cache'));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function file(
  day: string,
  partition: number,
  offsets: number[],
  first = offsets[0]!,
  last = offsets.at(-1)!,
) {
  await writeFixtureFile(
    dir,
    archiverKey(day, TOPIC, partition, BigInt(first), BigInt(last)),
    records(partition, offsets, day),
  );
}

describe('archive verify', () => {
  it('a complete archive is OK, including late data filed under an earlier day', async () => {
    // Partition 0: offsets 0..99; offsets 60..64 are late readings of 03-01 that arrived during 03-02.
    await file('2024-03-01', 0, range(0, 49));
    await file('2024-03-02', 0, [...range(50, 59), ...range(65, 99)], 50, 99);
    await file('2024-03-01', 0, range(60, 64));
    await file('2024-03-01', 1, range(0, 9));
    const source = localSource(dir);
    const report = await verifyArchive({
      source,
      topic: TOPIC,
      kafka: [
        { partition: 0, earliest: 0n, committed: 100n },
        { partition: 1, earliest: 0n, committed: 10n },
      ],
    });
    expect(report.totals).toEqual({
      gaps: 0,
      missingOffsets: 0n,
      duplicateRecords: 0,
      duplicateReadings: 0,
      overlappingRows: 0,
      unverifiableOffsets: 0n,
    });
    expect(report.ok).toBe(true);
    expect(report.partitions.map((p) => [p.partition, p.expectedFrom, p.expectedTo, p.present])).toEqual([
      [0, 0n, 99n, 100n],
      [1, 0n, 9n, 10n],
    ]);
    // A window of one day: the offsets it lacks (60..64) are found in the other day's file by its name.
    const window = await verifyArchive({
      source,
      topic: TOPIC,
      range: { from: '2024-03-02', to: '2024-03-02' },
    });
    expect(window.ok).toBe(true);
    expect(window.days.map((d) => [d.dt, d.records, d.archiverRows])).toEqual([['2024-03-02', 45, 90]]);
  });

  it('reports a known gap and a known duplicate per dt, with counts', async () => {
    // Partition 0: offsets 40..44 never archived; offset 70 in two files (a retry with other boundaries).
    await file('2024-03-01', 0, range(0, 39));
    await file('2024-03-02', 0, range(45, 70));
    await file('2024-03-02', 0, range(70, 99));
    const stages: VerifyProgress[] = [];
    const report = await verifyArchive({
      source: localSource(dir),
      topic: TOPIC,
      kafka: [{ partition: 0, earliest: 0n, committed: 100n }],
      recordOffsets: async (_p, ranges) =>
        new Set(ranges.flatMap(({ from, to }) => range(Number(from), Number(to)).map(BigInt))),
      onProgress: (p) => stages.push(p),
    });
    // What a long check says while it runs (a local archive is read in place: nothing to fetch).
    expect(stages).toEqual([
      { stage: 'listed', windowFiles: 3, exportFiles: 0 },
      { stage: 'reading', files: 3 },
      { stage: 'kafka', ranges: 1 },
      { stage: 'duplicates' },
    ]);
    expect(report.ok).toBe(false);
    expect(report.gaps).toEqual([{ partition: 0, from: 40n, to: 44n, count: 5n, dt: '2024-03-01' }]);
    expect(report.duplicates).toEqual([
      {
        partition: 0,
        offset: 70n,
        files: [archiverKey('2024-03-02', TOPIC, 0, 45n, 70n), archiverKey('2024-03-02', TOPIC, 0, 70n, 99n)],
      },
    ]);
    const byDay = Object.fromEntries(
      report.days.map((d) => [d.dt, [d.gaps, d.missingOffsets, d.duplicateRecords]]),
    );
    expect(byDay).toEqual({ '2024-03-01': [1, 5n, 0], '2024-03-02': [0, 0n, 1] });
    const text = formatVerifyReport(report);
    expect(text).toContain('GAP partition 0 offsets 40..44 (5 missing) near dt=2024-03-01');
    expect(text).toContain('DUPLICATE partition 0 offset 70');
    expect(text).toContain('PROBLEMS: 1 gap(s) (5 offsets missing), 1 duplicated record(s)');
  });

  it('offsets committed by the archiver but absent from the archive are a gap; the earliest offset bounds the start', async () => {
    await file('2024-03-01', 0, range(10, 89));
    const report = await verifyArchive({
      source: localSource(dir),
      topic: TOPIC,
      kafka: [
        // Retention removed 0..4; 5..9 are still in Kafka and were never archived; 90..119 committed.
        { partition: 0, earliest: 5n, committed: 120n },
        // Never committed, nothing archived: nothing expected.
        { partition: 1, earliest: 0n, committed: null },
      ],
    });
    expect(report.gaps.map((g) => [g.partition, g.from, g.to])).toEqual([
      [0, 5n, 9n],
      [0, 90n, 119n],
    ]);
    expect(report.totals.missingOffsets).toBe(35n);
  });

  it('files of another topic are ignored; exported rows that repeat archiver rows are overlaps', async () => {
    await file('2024-03-01', 0, range(0, 9));
    await writeFixtureFile(
      dir,
      archiverKey('2024-03-01', 'other.topic', 0, 100n, 100n),
      records(0, [100], '2024-03-01'),
    );
    // An export of the same readings (no Kafka lineage: -1/-1), plus one reading the archiver never saw.
    const exported = [...records(0, range(5, 9), '2024-03-01'), ...records(0, [500], '2024-03-01')].map(
      (r) => ({
        ...r,
        partition: -1,
        offset: -1,
      }),
    );
    const day = Date.parse('2024-03-01T00:00:00Z');
    await writeFixtureFile(dir, exportKey('2024-03-01', 'pcs', day, day + 86_400_000), exported);
    const report = await verifyArchive({ source: localSource(dir), topic: TOPIC });
    expect(report.gaps).toEqual([]);
    expect(report.duplicates).toEqual([]);
    expect(report.days).toEqual([
      expect.objectContaining({
        dt: '2024-03-01',
        archiverFiles: 1,
        records: 10,
        exportFiles: 1,
        exportRows: 12,
        overlappingRows: 10,
      }),
    ]);
    expect(report.ok).toBe(false);
  });
});

describe('verifyReportToJson', () => {
  it('is the whole report with every bigint as its decimal string, and survives JSON.stringify', () => {
    const report: VerifyReport = {
      range: { from: '2024-03-01' },
      days: [
        {
          dt: '2024-03-01',
          archiverFiles: 2,
          archiverRows: 80,
          records: 40,
          exportFiles: 0,
          exportRows: 0,
          gaps: 1,
          missingOffsets: 5n,
          duplicateRecords: 1,
          duplicateReadings: 0,
          overlappingRows: 0,
        },
      ],
      partitions: [
        {
          partition: 0,
          expectedFrom: 0n,
          expectedTo: 9007199254740993n,
          present: 95n,
          missing: 5n,
          committed: null,
        },
      ],
      gaps: [{ partition: 0, from: 40n, to: 44n, count: 5n, dt: '2024-03-01' }],
      duplicates: [{ partition: 0, offset: 70n, files: ['a.parquet', 'b.parquet'] }],
      duplicateReadings: [
        { reading: 's1/pcs/d0//power@2024-03-01T00:00:01.000Z', copies: 2, offsets: ['0:1', '0:2'] },
      ],
      unverifiable: [],
      totals: {
        gaps: 1,
        missingOffsets: 5n,
        duplicateRecords: 1,
        duplicateReadings: 0,
        overlappingRows: 0,
        unverifiableOffsets: 0n,
      },
      ok: false,
    };
    const json = verifyReportToJson(report);
    expect(JSON.parse(JSON.stringify(json))).toEqual({
      range: { from: '2024-03-01' },
      days: [
        {
          dt: '2024-03-01',
          archiverFiles: 2,
          archiverRows: 80,
          records: 40,
          exportFiles: 0,
          exportRows: 0,
          gaps: 1,
          missingOffsets: '5',
          duplicateRecords: 1,
          duplicateReadings: 0,
          overlappingRows: 0,
        },
      ],
      // Past 2^53 too: a string keeps every digit.
      partitions: [
        {
          partition: 0,
          expectedFrom: '0',
          expectedTo: '9007199254740993',
          present: '95',
          missing: '5',
          committed: null,
        },
      ],
      gaps: [{ partition: 0, from: '40', to: '44', count: '5', dt: '2024-03-01' }],
      duplicates: [{ partition: 0, offset: '70', files: ['a.parquet', 'b.parquet'] }],
      duplicateReadings: [
        { reading: 's1/pcs/d0//power@2024-03-01T00:00:01.000Z', copies: 2, offsets: ['0:1', '0:2'] },
      ],
      unverifiable: [],
      totals: {
        gaps: 1,
        missingOffsets: '5',
        duplicateRecords: 1,
        duplicateReadings: 0,
        overlappingRows: 0,
        unverifiableOffsets: '0',
      },
      ok: false,
    });
    // The report itself is left as it was.
    expect(report.gaps[0]!.from).toBe(40n);
  });
});
