import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  archiveObjectKey,
  LocalObjectStore,
  ParquetEngine,
  partitionObjectsPrefix,
} from '@gridstream/archive';
import type { InMessage } from '@gridstream/kafka';
import { createLogger } from '@gridstream/runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testRecord } from '../../../packages/archive/src/test-records.fixture.js';
import { type ArchiveShared, MembershipUnconfirmedError, PartitionArchive } from './partition-archive.js';

// One partition's archive against a real directory store and DuckDB: what a member does when the group
// may have moved on without it, and how an owner cleans up a former owner's upload that lands late.
const TOPIC = 'telemetry.parsed';
let dir: string;
let engine: ParquetEngine;
let store: LocalObjectStore;
let confirmed: boolean;
let superseded: string[];

function shared(): ArchiveShared {
  return {
    engine,
    store,
    spoolDir: join(dir, 'spool'),
    logger: createLogger({ service: 'test', level: 'silent' }),
    limits: {
      targetFileBytes: 64 * 1024 * 1024,
      maxFileAgeMs: 60_000,
      maxFileRows: 0,
      maxOpenFiles: 8,
      reconcileIntervalMs: 1_000,
      reconcileWindowMs: 10_000,
    },
    generation: () => 7,
    membershipConfirmed: () => confirmed,
    openFiles: new Set(),
    opening: { count: 0 },
    nextSpoolId: { value: 0 },
    hooks: {
      deadLetter: async () => undefined,
      onRows: () => undefined,
      onSkipped: () => undefined,
      onClosed: () => undefined,
      onUpload: () => undefined,
      onStoreError: () => undefined,
      onStoreOk: () => undefined,
      onSuperseded: (key) => superseded.push(key),
      pauseAfterUploadMs: 0,
    },
  };
}

/** Records of one UTC day (testRecord(4k) are all on 2024-02-28) at offsets first..last. */
function messages(first: number, last: number): InMessage[] {
  return Array.from({ length: last - first + 1 }, (_, i) => ({
    topic: TOPIC,
    partition: 0,
    offset: String(first + i),
    key: null,
    value: Buffer.from(JSON.stringify(testRecord(4 * (first + i)))),
    headers: {},
    timestamp: 0,
  }));
}

const DT = '2024-02-28';
const listKeys = async () =>
  (await store.list(partitionObjectsPrefix(DT, TOPIC, 0))).map((o) => o.key.split('/').pop()).sort();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gs-partition-archive-'));
  await mkdir(join(dir, 'spool'));
  engine = await ParquetEngine.create({ tempDirectory: join(dir, 'duckdb') });
});

afterAll(async () => {
  engine.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  store = new LocalObjectStore(join(dir, `store-${Math.random().toString(36).slice(2)}`));
  await store.ensureReady();
  confirmed = true;
  superseded = [];
});

describe('PartitionArchive', () => {
  it('uploads nothing while the group has not confirmed this member, then uploads once it has', async () => {
    const archive = new PartitionArchive(shared(), TOPIC, 0);
    await archive.accept(messages(0, 9));
    confirmed = false;
    await expect(archive.flush(1)).resolves.toBe('0');
    expect(await listKeys()).toEqual([]);
    await expect(archive.tick(Date.now())).resolves.toBe('0');
    expect(await listKeys()).toEqual([]);
    confirmed = true;
    await expect(archive.tick(Date.now() + 60_000)).resolves.toBe('10');
    expect(await listKeys()).toEqual([
      'telemetry.parsed+0+00000000000000000000+00000000000000000009+g7.parquet',
    ]);
  });

  it('refuses the upload with MembershipUnconfirmedError inside a slice', async () => {
    const archive = new PartitionArchive(
      { ...shared(), limits: { ...shared().limits, maxFileRows: 5 } },
      TOPIC,
      0,
    );
    confirmed = false;
    await expect(archive.accept(messages(0, 9))).rejects.toBeInstanceOf(MembershipUnconfirmedError);
    expect(await listKeys()).toEqual([]);
  });

  it('deletes a former owner’s object that lands after its own upload, at the next late-upload check', async () => {
    const archive = new PartitionArchive(shared(), TOPIC, 0);
    await archive.accept(messages(0, 9));
    const start = Date.now();
    await expect(archive.flush(1)).resolves.toBe('10');
    // A generation-5 member's upload of offsets 5..12, in flight since before the rebalance, lands now.
    const late = archiveObjectKey({
      dt: DT,
      topic: TOPIC,
      partition: 0,
      firstOffset: 5n,
      lastOffset: 12n,
      generation: 5,
    });
    const body = join(dir, 'late.parquet');
    await writeFile(body, 'late upload');
    await store.putFile(late, body);
    expect(await listKeys()).toHaveLength(2);
    await archive.tick(start + 2_000);
    expect(superseded).toEqual([late]);
    expect(await listKeys()).toEqual([
      'telemetry.parsed+0+00000000000000000000+00000000000000000009+g7.parquet',
    ]);
  });

  it('stops checking a day once the window since its last upload has passed', async () => {
    const archive = new PartitionArchive(shared(), TOPIC, 0);
    await archive.accept(messages(0, 9));
    const start = Date.now();
    await archive.flush(1);
    const late = archiveObjectKey({
      dt: DT,
      topic: TOPIC,
      partition: 0,
      firstOffset: 5n,
      lastOffset: 12n,
      generation: 5,
    });
    await writeFile(join(dir, 'late.parquet'), 'late upload');
    await store.putFile(late, join(dir, 'late.parquet'));
    await archive.tick(start + 20_000);
    expect(superseded).toEqual([]);
    expect(await listKeys()).toHaveLength(2);
  });
});
