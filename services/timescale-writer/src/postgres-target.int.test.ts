import { loadConfig } from '@gridstream/config';
import type { AlarmAction, AlarmEvent, ParsedRecord } from '@gridstream/schema';
import { SinkWriteError, writeWithSplit } from '@gridstream/sink';
import { testLogger } from '@gridstream/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_RECORDS } from '../../../packages/influx/src/sample-records.fixture.js';
import {
  expectedReadings,
  KEY_ORDER,
  READING_COLUMNS,
  type Reading,
  sortedByKey,
} from '../test/expected-rows.js';
import { createTestPgDatabase, ensurePgRunning, type TestPgDatabase } from '../test/test-postgres.js';
import { timescaleWriterConfigSchema } from './config.js';
import type { PgRow } from './pg-rows.js';
import { createPostgresTarget, type PostgresTarget } from './postgres-target.js';

// The target alone against the real PostgreSQL 15 of deploy/local (no Kafka): tables, exact rows, upsert,
// refusals and outages as the seam sees them. The service through Kafka: writer-service.int.test.ts.

const logger = testLogger();
let db: TestPgDatabase;
let target: PostgresTarget;
const targets: PostgresTarget[] = [];

const config = (env: Record<string, string> = {}) =>
  loadConfig(timescaleWriterConfigSchema, { ...db.env, PG_CONNECT_TIMEOUT_MS: '3000', ...env });

async function open(env: Record<string, string> = {}): Promise<PostgresTarget> {
  const t = await createPostgresTarget(config(env), logger);
  targets.push(t);
  return t;
}

const rowsOf = (records: ParsedRecord[]) => records.flatMap((r) => target.recordPoints(r));

const readings = () => db.query<Reading>(`SELECT ${READING_COLUMNS} FROM readings ${KEY_ORDER}`);
const count = async (table: string) =>
  Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);

/** Record i: a sample reading at its own second, so records never share a key. */
const recordAt = (i: number, base = SAMPLE_RECORDS[i % SAMPLE_RECORDS.length]!): ParsedRecord => ({
  ...base,
  ts: new Date(Date.parse('2024-01-01T00:00:00.000Z') + i * 1000).toISOString(),
});

beforeAll(async () => {
  await ensurePgRunning();
  db = await createTestPgDatabase('gs_target');
  target = await open();
});

afterAll(async () => {
  for (const t of targets) await t.close().catch(() => undefined);
  await db?.drop();
});

describe('PostgreSQL target (real PostgreSQL 15)', () => {
  it('creates the three tables with their primary keys, as plain tables where TimescaleDB is absent', async () => {
    expect(target.timescale).toBeNull();
    expect(target.name).toBe('postgresql');
    expect(target.stage).toBe('timescale-writer');
    const keys = await db.query<{ table: string; key: string }>(
      `SELECT c.conrelid::regclass::text AS table, pg_get_constraintdef(c.oid) AS key
         FROM pg_constraint c WHERE c.contype = 'p' AND c.connamespace = 'public'::regnamespace ORDER BY 1`,
    );
    expect(keys).toEqual([
      { table: 'alarm_actions', key: 'PRIMARY KEY (id, "time")' },
      { table: 'alarms', key: 'PRIMARY KEY (site, equipment, device, rack, rule, level, state, "time")' },
      { table: 'readings', key: 'PRIMARY KEY (site, equipment, device, rack, field, "time")' },
    ]);
    // A second writer on the same database (a restart, a replica) finds them and changes nothing.
    const [a, b] = await Promise.all([open(), open()]);
    expect(a.timescale).toBeNull();
    expect(b.timescale).toBeNull();
  });

  it('writes the 17 sample records as exactly one row per reading and flag, with exact values', async () => {
    const rows = rowsOf(SAMPLE_RECORDS);
    const expected = expectedReadings(SAMPLE_RECORDS);
    expect(rows).toHaveLength(expected.length);
    await target.write(rows);
    expect(await readings()).toEqual(sortedByKey(expected));
    // A rack's rows and the battery's own rows are told apart by `rack` ('' for the device itself).
    const racks = await db.query<{ rack: string; n: string }>(
      "SELECT rack, count(*) AS n FROM readings WHERE equipment = 'battery' GROUP BY rack ORDER BY rack",
    );
    expect(racks.map((r) => r.rack)).toEqual(
      ['', ...new Set(SAMPLE_RECORDS.flatMap((r) => r.rack ?? []))].sort(),
    );
  });

  it('overwrites a redelivered row (the later value wins, even twice in one batch) and leaves an identical one untouched', async () => {
    const before = await count('readings');
    const soc =
      "WHERE site = '000001' AND equipment = 'battery' AND device = '01' AND rack = '' AND field = 'soc'";
    const [{ xmin: untouched }] = (await db.query<{ xmin: string }>(`SELECT xmin FROM readings ${soc}`)) as [
      { xmin: string },
    ];
    // The same records again: nothing changes, not even the row versions (no dead tuples for a replay).
    await target.write(rowsOf(SAMPLE_RECORDS));
    expect(await count('readings')).toBe(before);
    expect((await db.query<{ xmin: string }>(`SELECT xmin FROM readings ${soc}`))[0]!.xmin).toBe(untouched);

    // One batch holding the same key three times: PostgreSQL alone would refuse it ("cannot affect row a
    // second time"); the last value is the one stored.
    const battery = SAMPLE_RECORDS[0]!;
    const versions = [40, 41, 42.25].map((v) => ({ ...battery, fields: { soc: v }, flags: {} }));
    await target.write(rowsOf(versions));
    expect(await count('readings')).toBe(before);
    expect(await db.query(`SELECT value, quality FROM readings ${soc}`)).toEqual([
      { value: 42.25, quality: 'out_of_range' },
    ]);
  });

  it('writes alarm events and operator actions with exact values, each event once', async () => {
    const event: AlarmEvent = {
      v: 1,
      id: '000001/battery/01/1/cell_over_voltage@2023-06-09T11:34:06.000Z',
      site: '000001',
      equipment: 'battery',
      device: '01',
      rack: '1',
      rule: 'cell_over_voltage',
      field: 'max_cell_voltage',
      state: 'raised',
      level: 'warning',
      value: 3.71,
      threshold: 3.65,
      raisedAt: '2023-06-09T11:34:06.000Z',
      ts: '2023-06-09T11:34:06.000Z',
      message: 'max cell voltage 3.71 V above 3.65 V\ttab, "quotes", \\ and a\nnewline',
    };
    const cleared: AlarmEvent = {
      ...event,
      state: 'cleared',
      value: null,
      threshold: 3.6,
      ts: '2023-06-09T11:40:00.000Z',
      message: 'back below 3.6 V',
    };
    const action: AlarmAction = {
      v: 1,
      id: 'a6a0f3b2-8f1e-4d2a-9c55-1b6c0d1e2f3a',
      action: 'acknowledged',
      episode: event.id,
      site: '000001',
      equipment: 'battery',
      device: '01',
      rack: '1',
      rule: 'cell_over_voltage',
      level: 'warning',
      by: 'operator kim',
      at: '2023-06-09T11:35:00.000Z',
      comment: '',
    };
    const points: PgRow[] = [
      ...target.alarmPoints!(event),
      ...target.alarmPoints!(cleared),
      ...target.alarmActionPoints!(action),
      ...target.alarmPoints!(event), // resent in the same batch
    ];
    await target.write(points);
    await target.write(target.alarmPoints!(event)); // and again later
    expect(
      await db.query(
        'SELECT site, equipment, device, rack, rule, level, state, time, field, value, threshold, active, message, id, raised_at FROM alarms ORDER BY time',
      ),
    ).toEqual([
      {
        ...{ site: '000001', equipment: 'battery', device: '01', rack: '1', rule: 'cell_over_voltage' },
        level: 'warning',
        state: 'raised',
        time: new Date(event.ts),
        field: 'max_cell_voltage',
        value: 3.71,
        threshold: 3.65,
        active: true,
        message: event.message,
        id: event.id,
        raised_at: new Date(event.raisedAt),
      },
      {
        ...{ site: '000001', equipment: 'battery', device: '01', rack: '1', rule: 'cell_over_voltage' },
        level: 'warning',
        state: 'cleared',
        time: new Date(cleared.ts),
        field: 'max_cell_voltage',
        value: null,
        threshold: 3.6,
        active: false,
        message: 'back below 3.6 V',
        id: event.id,
        raised_at: new Date(event.raisedAt),
      },
    ]);
    expect(await db.query('SELECT * FROM alarm_actions')).toEqual([
      {
        id: action.id,
        time: new Date(action.at),
        action: 'acknowledged',
        site: '000001',
        equipment: 'battery',
        device: '01',
        rack: '1',
        rule: 'cell_over_voltage',
        episode: event.id,
        level: 'warning',
        done_by: 'operator kim',
        comment: '',
        shelved_until: null,
      },
    ]);
  });

  it("refuses a batch holding a row the table's own CHECK refuses, with the server's message, and writes none of it", async () => {
    // What a DBA may add; the writer knows nothing of it.
    await db.query(
      "ALTER TABLE readings ADD CONSTRAINT soc_range CHECK (field <> 'soc' OR value BETWEEN 0 AND 100)",
    );
    const before = await count('readings');
    const good = [1, 2, 3].map((i) => recordAt(1_000 + i));
    const bad = { ...recordAt(1_100, SAMPLE_RECORDS[0]), fields: { soc: 150, soh: 99 } };
    const error = await target.write(rowsOf([...good, bad])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SinkWriteError);
    expect(error).toMatchObject({ retriable: false, status: '23514' });
    expect((error as SinkWriteError).serverMessage).toMatch(
      /^new row for relation "readings" violates check constraint "soc_range" \(Failing row contains \(2024-01-01 00:18:20\+00, 000001, battery, 01, , soc, 150, f, out_of_range\)\.\)$/,
    );
    expect(await count('readings')).toBe(before);

    // The seam's split: only the refused row is left out, every other row of the batch is written.
    const items = rowsOf([...good, bad]).map((point, i) => ({ point, ref: i }));
    const rejected = await writeWithSplit((p: PgRow[]) => target.write(p), items);
    expect(rejected).toHaveLength(1);
    expect(items[rejected[0]!.ref]!.point.line).toContain('\tsoc\t150\t');
    expect(rejected[0]!.message).toMatch(/violates check constraint "soc_range"/);
    expect(await count('readings')).toBe(before + items.length - 1);
    await db.query('ALTER TABLE readings DROP CONSTRAINT soc_range');
  });

  it('refuses text PostgreSQL cannot store (a NUL character) as a data exception', async () => {
    const event: AlarmEvent = {
      v: 1,
      id: 'nul',
      site: 's',
      equipment: 'pv',
      device: '1',
      rule: 'r',
      field: 'p',
      state: 'raised',
      level: 'fault',
      value: 1,
      threshold: 0,
      raisedAt: '2024-01-01T00:00:00.000Z',
      ts: '2024-01-01T00:00:00.000Z',
      message: 'a\u0000b',
    };
    const error = await target.write(target.alarmPoints!(event)).catch((e: unknown) => e);
    expect(error).toMatchObject({ retriable: false, status: '22021' });
    expect((error as SinkWriteError).serverMessage).toMatch(
      /^invalid byte sequence for encoding "UTF8": 0x00/,
    );
  });

  it('does not deadlock when concurrent writes hold the same rows in opposite orders, new or already stored', async () => {
    const records = Array.from({ length: 600 }, (_, i) => recordAt(10_000 + i));
    const rows = rowsOf(records);
    const before = await count('readings');
    // New rows: every write takes the direct COPY; the second waits for the first, then upserts.
    await Promise.all([target.write(rows), target.write([...rows].reverse()), target.write(rows)]);
    expect(await count('readings')).toBe(before + rows.length);
    // Stored rows with new values: every write upserts from staging.
    const plusOne = records.map((r) => ({
      ...r,
      fields: Object.fromEntries(Object.entries(r.fields).map(([k, v]) => [k, v + 1])),
    }));
    const changed = rowsOf(plusOne);
    await Promise.all([target.write(changed), target.write([...changed].reverse()), target.write(changed)]);
    expect(await count('readings')).toBe(before + rows.length);
    const stored = await db.query<Reading>(
      `SELECT ${READING_COLUMNS} FROM readings WHERE time >= $1 AND time <= $2 ${KEY_ORDER}`,
      [plusOne[0]!.ts, plusOne.at(-1)!.ts],
    );
    expect(stored).toEqual(sortedByKey(expectedReadings(plusOne)));
  });

  it('upserts a whole batch when a row in its middle is stored already (the direct COPY fails midway)', async () => {
    const records = Array.from({ length: 400 }, (_, i) => recordAt(30_000 + i));
    const middle = records[200]!;
    await target.write(rowsOf([middle]));
    const before = await count('readings');
    const batch = records.map((r) => (r === middle ? { ...r, fields: { ...r.fields, soc: 77.5 } } : r));
    const rows = rowsOf(batch);
    expect(rows.length).toBeGreaterThan(5_000);
    await target.write(rows);
    expect(await count('readings')).toBe(before + rows.length - rowsOf([middle]).length);
    const stored = await db.query<Reading>(
      `SELECT ${READING_COLUMNS} FROM readings WHERE time >= $1 AND time <= $2 ${KEY_ORDER}`,
      [records[0]!.ts, records.at(-1)!.ts],
    );
    expect(stored).toEqual(sortedByKey(expectedReadings(batch)));
  });

  it('throws a retriable error while the database refuses connections, and writes once it takes them again', async () => {
    const rows = rowsOf([recordAt(20_000)]);
    await db.adminQuery(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS false`);
    try {
      await db.adminQuery(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db.name}'`,
      );
      const error = await target.write(rows).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      // Either the server's refusal (55000: not accepting connections) or a dropped socket: never a refusal.
      expect(error instanceof SinkWriteError ? error.retriable : true).toBe(true);
    } finally {
      await db.adminQuery(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS true`);
    }
    const before = await count('readings');
    await target.write(rows);
    expect(await count('readings')).toBe(before + rows.length);
  });

  it('stops at start when PG_TIMESCALE=on and TimescaleDB is missing, or the tables are missing and may not be made', async () => {
    await expect(open({ PG_TIMESCALE: 'on' })).rejects.toThrow(
      /PG_TIMESCALE=on, but the timescaledb extension is not installed/,
    );
    await expect(open({ PG_SCHEMA: 'nowhere', PG_CREATE_TABLES: 'false' })).rejects.toThrow(
      /PG_CREATE_TABLES=false, but nowhere\.readings, nowhere\.alarms, nowhere\.alarm_actions do\(es\) not exist/,
    );
    await expect(open({ PG_PASSWORD: 'wrong', PG_PASSWORD_FILE: '' })).rejects.toMatchObject({
      code: '28P01',
    });
    // Its own schema: the tables appear there.
    const other = await open({ PG_SCHEMA: 'site_b' });
    await other.write(other.recordPoints(SAMPLE_RECORDS[0]!));
    expect(Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM site_b.readings'))[0]!.n)).toBe(
      expectedReadings([SAMPLE_RECORDS[0]!]).length,
    );
  });
});
