import { createServer, type Socket } from 'node:net';
import type { ParsedRecord } from '@gridstream/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInfluxSink } from './create-influx-sink.js';
import { type InfluxConfig, influxConfig } from './influx-config.js';
import { countPoints, queryInflux } from './influx-query.js';
import type { InfluxSink } from './influx-sink.js';
import { InfluxWriteError } from './influx-write-error.js';
import { recordToLine } from './line-protocol.js';
import { SAMPLE_RECORDS } from './sample-records.fixture.js';
import { createTestDatabase, type TestDatabase, waitForInflux } from './test-database.js';

/**
 * The v2 write path against a real InfluxDB 1.8 (deploy/local/influxdb2compat.sh start), whose
 * /api/v2/write maps bucket `db[/rp]` onto a 1.x database. Debian's 1.6 has no such endpoint; `make test`
 * builds and starts the 1.8 server, and a missing server fails these tests rather than skipping them.
 */
const base: InfluxConfig = influxConfig({
  url: process.env.INFLUX2_URL ?? 'http://127.0.0.1:8087',
  api: 'v2',
  org: 'gridstream',
  // Auth is disabled on the test server; 1.8 ignores the token then (with auth on it would be `user:password`).
  token: 'unused',
  timeoutMs: 10_000,
});

const up = await waitForInflux(base, 60_000);

const lines = (records: readonly ParsedRecord[]) => records.map((r) => recordToLine(r)!);

async function expectWriteError(promise: Promise<unknown>): Promise<InfluxWriteError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InfluxWriteError);
  return error as InfluxWriteError;
}

describe('InfluxV2Sink against InfluxDB 1.8 /api/v2/write', () => {
  let db: TestDatabase;
  let sink: InfluxSink;

  beforeAll(async () => {
    if (!up)
      throw new Error(
        `InfluxDB 1.8 not answering on ${base.url}/ping: run deploy/local/influxdb2compat.sh start`,
      );
    db = await createTestDatabase(base, 'gs_test_v2');
    sink = createInfluxSink(db.config);
  });

  afterAll(async () => {
    await sink?.close();
    await db?.drop();
  });

  it('writes the 17 sample records with exact values, float/boolean types and ms timestamps', async () => {
    expect(sink.api).toBe('v2');
    await sink.write(lines(SAMPLE_RECORDS));
    const series = await queryInflux(db.config, 'SELECT * FROM /.*/ GROUP BY *');
    expect(series).toHaveLength(17);
    for (const record of SAMPLE_RECORDS) {
      const s = series.find(
        (x) =>
          x.name === record.equipment &&
          x.tags.device === record.device &&
          x.tags.rack === (record.rack ?? '') &&
          x.tags.site === record.site,
      );
      expect(s).toBeDefined();
      const row = Object.fromEntries(s!.columns.map((c, i) => [c, s!.values[0]![i]]));
      expect(row.time).toBe(Date.parse(record.ts));
      for (const [field, value] of Object.entries({ ...record.fields, ...record.flags })) {
        expect(row[field]).toBe(value);
      }
    }
    const fieldKeys = await queryInflux(db.config, 'SHOW FIELD KEYS FROM "transformer"');
    expect(new Set(fieldKeys[0]!.values.map((v) => v[1]))).toEqual(new Set(['float']));
    const batteryKeys = await queryInflux(db.config, 'SHOW FIELD KEYS FROM "battery"');
    const types = new Map(batteryKeys[0]!.values.map((v) => [v[0], v[1]]));
    expect(types.get('total_racks')).toBe('float');
    expect(types.get('run')).toBe('boolean');
    expect(types.get('soc__quality')).toBe('string');
  });

  it('overwrites redelivered points', async () => {
    await sink.write(lines(SAMPLE_RECORDS));
    expect(await countPoints(db.config, db.name)).toBe(17);
  });

  it('accepts bucket "database/retention-policy" and gzip bodies', async () => {
    const s = createInfluxSink({ ...db.config, bucket: `${db.name}/autogen`, gzip: true });
    await s.write(lines(SAMPLE_RECORDS.map((r) => ({ ...r, ts: '2023-06-09T11:35:06.000Z' }))));
    await s.close();
    expect(await countPoints(db.config, db.name)).toBe(34);
  });

  it('refuses a field type conflict as non-retriable with the server message', async () => {
    const error = await expectWriteError(
      sink.write(['battery,device=01,site=000001 soc=true 1686310447000']),
    );
    expect(error.status).toBe(400);
    expect(error.code).toBe('rejected');
    expect(error.retriable).toBe(false);
    expect(error.influxMessage).toMatch(/field type conflict/);
    expect(error.dropped).toBe(1);
  });

  it('runs several writes in flight', async () => {
    const writes = Array.from({ length: 6 }, (_, b) =>
      sink.write(
        Array.from({ length: 300 }, (_, i) => `bench,device=d${b},site=s v=${i} ${1_700_000_000_000 + i}`),
      ),
    );
    await Promise.all(writes);
    expect(await countPoints(db.config, db.name, 'bench')).toBe(1800);
  });

  it('reports a missing bucket as a retriable configuration problem', async () => {
    const s = createInfluxSink({ ...db.config, bucket: `${db.name}_missing` });
    const error = await expectWriteError(s.write(['m v=1 1']));
    expect(error.status).toBe(404);
    expect(error.code).toBe('not_found');
    expect(error.retriable).toBe(true);
    expect(error.influxMessage).toMatch(/database not found/);
  });

  it('answers ping', async () => {
    expect(await sink.ping()).toBe(true);
  });
});

describe('InfluxV2Sink transport failures', () => {
  it('reports a refused connection as a retriable network error', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const address = probe.address();
    await new Promise((resolve) => probe.close(resolve));
    const port = typeof address === 'object' && address ? address.port : 0;

    const s = createInfluxSink({ ...base, bucket: 'b', url: `http://127.0.0.1:${port}` });
    const error = await expectWriteError(s.write(['m v=1 1']));
    expect(error.code).toBe('network');
    expect(error.retriable).toBe(true);
    expect(error.influxMessage).toMatch(/ECONNREFUSED/);
    expect(await s.ping()).toBe(false);
  });

  it('times out on a server that never answers', async () => {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const s = createInfluxSink({ ...base, bucket: 'b', url: `http://127.0.0.1:${port}`, timeoutMs: 300 });
      const started = Date.now();
      const error = await expectWriteError(s.write(['m v=1 1']));
      expect(error.code).toBe('timeout');
      expect(error.retriable).toBe(true);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
