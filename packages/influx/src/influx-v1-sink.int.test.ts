import { createServer, type Server, type Socket } from 'node:net';
import type { ParsedRecord } from '@gridstream/schema';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createInfluxSink } from './create-influx-sink.js';
import { type InfluxConfig, influxConfig } from './influx-config.js';
import { countPoints, executeInflux, queryInflux } from './influx-query.js';
import type { InfluxSink } from './influx-sink.js';
import { InfluxWriteError } from './influx-write-error.js';
import { recordToLine } from './line-protocol.js';
import { SAMPLE_RECORDS } from './sample-records.fixture.js';
import { createTestDatabase, type TestDatabase, waitForInflux } from './test-database.js';

// The real InfluxDB 1.6 from deploy/local/influxdb.sh.
const base = influxConfig({ url: process.env.INFLUX_URL ?? 'http://127.0.0.1:8086', timeoutMs: 10_000 });

const lines = (records: readonly ParsedRecord[]) => records.map((r) => recordToLine(r)!);

async function expectWriteError(promise: Promise<unknown>): Promise<InfluxWriteError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InfluxWriteError);
  return error as InfluxWriteError;
}

/**
 * A loopback port nobody listens on. (Not port 1: fetch refuses the WHATWG "bad ports" list with
 * `bad port` before connecting, which would not exercise a refused connection.)
 */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

function seriesKey(name: string, tags: Record<string, string | undefined>): string {
  return `${name}|${tags.device}|${tags.rack ?? ''}|${tags.site}`;
}

let db: TestDatabase;
let sink: InfluxSink;
const extraDatabases: string[] = [];

beforeAll(async () => {
  if (!(await waitForInflux(base, 60_000))) {
    throw new Error(
      `InfluxDB is not answering on ${base.url}/ping; start it with deploy/local/influxdb.sh start`,
    );
  }
});

describe('InfluxV1Sink against InfluxDB 1.x', () => {
  beforeAll(async () => {
    db = await createTestDatabase(base);
    sink = createInfluxSink(db.config);
  });

  afterAll(async () => {
    await sink?.close();
    await db?.drop();
  });

  it('writes the 17 sample records and reads back exact values, tags and ms timestamps', async () => {
    await sink.write(lines(SAMPLE_RECORDS));
    const series = await queryInflux(db.config, 'SELECT * FROM /.*/ GROUP BY *');
    const byKey = new Map(series.map((s) => [seriesKey(s.name, s.tags), s]));
    expect(byKey.size).toBe(17);

    for (const record of SAMPLE_RECORDS) {
      const s = byKey.get(
        seriesKey(record.equipment, { site: record.site, device: record.device, rack: record.rack }),
      );
      expect(s, `series for ${record.equipment}/${record.device}/${record.rack}`).toBeDefined();
      expect(s!.tags).toEqual({ device: record.device, rack: record.rack ?? '', site: record.site });
      expect(s!.values).toHaveLength(1);
      const row = Object.fromEntries(s!.columns.map((c, i) => [c, s!.values[0]![i]]));
      expect(row.time).toBe(Date.parse(record.ts));
      const expected: Record<string, unknown> = { ...record.fields, ...record.flags };
      for (const [field, flags] of Object.entries(record.quality ?? {}))
        expected[`${field}__quality`] = flags.join(',');
      const stored = Object.fromEntries(Object.entries(row).filter(([k, v]) => k !== 'time' && v !== null));
      expect(stored).toEqual(expected);
    }
  });

  it('stores readings as float (even integer-valued ones), flags as boolean, quality as string', async () => {
    const fieldKeys = await queryInflux(db.config, 'SHOW FIELD KEYS');
    const types = new Map<string, string>();
    for (const s of fieldKeys)
      for (const [key, type] of s.values) types.set(`${s.name}.${key}`, String(type));

    for (const record of SAMPLE_RECORDS) {
      for (const field of Object.keys(record.fields))
        expect(types.get(`${record.equipment}.${field}`)).toBe('float');
      for (const flag of Object.keys(record.flags))
        expect(types.get(`${record.equipment}.${flag}`)).toBe('boolean');
    }
    // first value ever written for these was a whole number: 1, 1927341568, 100.0
    expect(types.get('battery.total_racks')).toBe('float');
    expect(types.get('transformer.ACTIVEPOWERCONSUMPTION')).toBe('float');
    expect(types.get('battery.soc__quality')).toBe('string');

    const tagKeys = await queryInflux(db.config, 'SHOW TAG KEYS FROM "battery"');
    expect(tagKeys[0]!.values.map((v) => v[0])).toEqual(['device', 'rack', 'site']);
  });

  it('overwrites redelivered points instead of duplicating them', async () => {
    expect(await countPoints(db.config, db.name)).toBe(17);
    await sink.write(lines(SAMPLE_RECORDS));
    await sink.write(lines(SAMPLE_RECORDS.slice(0, 5)));
    expect(await countPoints(db.config, db.name)).toBe(17);
    expect(await countPoints(db.config, db.name, 'battery')).toBe(6);
  });

  it('keeps millisecond timestamps exact', async () => {
    const record = { ...SAMPLE_RECORDS[0]!, device: 'ms-check', ts: '2023-06-09T11:34:06.789Z' };
    await sink.write(lines([record]));
    const [s] = await queryInflux(db.config, `SELECT soc FROM "battery" WHERE device = 'ms-check'`);
    expect(s!.values).toEqual([[1686310446789, 31.5]]);
  });

  it('round-trips names with spaces, commas, equals, quotes, backslashes and non-ASCII', async () => {
    const record: ParsedRecord = {
      ...SAMPLE_RECORDS[0]!,
      site: 'Mirae building, east=1',
      device: 'inv "A" \\ 1',
      rack: 'r\\,2',
      fields: { 'AC active,kW=x': 1.5, 'k"q': 2, 'k\\"r': 3, 'b\\x': 4, 'a\\\\,b': 5, 온도: 6 },
      flags: { 'run state': true },
      quality: undefined,
    };
    await sink.write(lines([record]));
    const [s] = await queryInflux(
      db.config,
      `SELECT * FROM "battery" WHERE site = 'Mirae building, east=1' GROUP BY *`,
    );
    expect(s!.tags).toEqual({ device: record.device, rack: record.rack, site: record.site });
    const row = Object.fromEntries(s!.columns.map((c, i) => [c, s!.values[0]![i]]));
    const stored = Object.fromEntries(Object.entries(row).filter(([k, v]) => k !== 'time' && v !== null));
    expect(stored).toEqual({ ...record.fields, ...record.flags });
  });

  it('refuses a field type conflict as non-retriable, with the server message and dropped count', async () => {
    const before = await countPoints(db.config, db.name);
    const conflicting = 'battery,device=01,site=000001 soc=true 1686310447000';
    const good = 'battery,device=01,site=000001 soc=50 1686310448000';

    const error = await expectWriteError(sink.write([conflicting]));
    expect(error.retriable).toBe(false);
    expect(error.code).toBe('rejected');
    expect(error.status).toBe(400);
    expect(error.influxMessage).toMatch(/field type conflict/);
    expect(error.partial).toBe(true);
    expect(error.dropped).toBe(1);

    // Mixed batch: 1.x stores the good line and reports the bad one.
    const mixed = await expectWriteError(sink.write([good, conflicting]));
    expect(mixed.dropped).toBe(1);
    expect(mixed.lines).toBe(2);
    expect(await countPoints(db.config, db.name)).toBe(before + 1);
  });

  it('refuses unparsable line protocol as non-retriable (1.x says dropped=0 for those)', async () => {
    const error = await expectWriteError(sink.write(['battery,device=01,site=000001 soc=oops 1']));
    expect(error.retriable).toBe(false);
    expect(error.influxMessage).toMatch(/unable to parse/);
  });

  it('writes gzip bodies', async () => {
    const gz = createInfluxSink({ ...db.config, gzip: true });
    await gz.write(lines(SAMPLE_RECORDS.map((r) => ({ ...r, ts: '2023-06-09T11:35:06.000Z' }))));
    await gz.close();
    expect(await countPoints(db.config, db.name, 'ev_charger')).toBe(6);
  });

  it('runs several writes in flight on one sink, and close() waits for them', async () => {
    const batches = Array.from({ length: 8 }, (_, b) =>
      Array.from({ length: 500 }, (_, i) => `bench,device=d${b},site=s v=${i} ${1_700_000_000_000 + i}`),
    );
    const s = createInfluxSink(db.config);
    const writes = batches.map((batch) => s.write(batch));
    await s.close();
    await Promise.all(writes);
    expect(await countPoints(db.config, db.name, 'bench')).toBe(4000);
    await expect(s.write(['bench,device=x,site=s v=1 1'])).rejects.toThrow(/closed/);
  });

  it('answers ping', async () => {
    expect(await sink.ping()).toBe(true);
    const url = `http://127.0.0.1:${await closedPort()}`;
    expect(await createInfluxSink({ ...base, url, timeoutMs: 1000 }).ping()).toBe(false);
  });
});

describe('InfluxV1Sink database creation and failures', () => {
  afterAll(async () => {
    for (const name of extraDatabases) await executeInflux(base, `DROP DATABASE "${name}"`).catch(() => {});
  });

  it('creates a missing database on the first write when allowed', async () => {
    const name = `gs_test_create_${Date.now().toString(36)}`;
    extraDatabases.push(name);
    const s = createInfluxSink({ ...base, database: name, createDatabase: true });
    await s.write(lines(SAMPLE_RECORDS.slice(0, 3)));
    expect(await countPoints(base, name)).toBe(3);
    // and explicitly, idempotently
    await s.ensureDatabase!();
    await s.close();
  });

  it('reports a missing database as a retriable configuration problem when creation is off', async () => {
    const s = createInfluxSink({
      ...base,
      database: `gs_test_missing_${Date.now().toString(36)}`,
      createDatabase: false,
    });
    const error = await expectWriteError(s.write(lines(SAMPLE_RECORDS.slice(0, 1))));
    expect(error.status).toBe(404);
    expect(error.code).toBe('not_found');
    expect(error.retriable).toBe(true);
    expect(error.configProblem).toBe(true);
    expect(error.influxMessage).toMatch(/database not found/);
  });

  it('reports a missing retention policy (a 1.x 500) as a retriable configuration problem', async () => {
    const tmp = await createTestDatabase(base);
    try {
      const s = createInfluxSink({ ...tmp.config, retentionPolicy: 'no_such_rp' });
      const error = await expectWriteError(s.write(lines(SAMPLE_RECORDS.slice(0, 1))));
      expect(error.status).toBe(500);
      expect(error.code).toBe('not_found');
      expect(error.retriable).toBe(true);
    } finally {
      await tmp.drop();
    }
  });

  it('reports a wrong port as a retriable network error', async () => {
    const s = createInfluxSink({ ...base, url: `http://127.0.0.1:${await closedPort()}`, timeoutMs: 2000 });
    const error = await expectWriteError(s.write(['m v=1 1']));
    expect(error.retriable).toBe(true);
    expect(error.code).toBe('network');
    expect(error.status).toBeUndefined();
    expect(error.influxMessage).toMatch(/ECONNREFUSED/);
  });

  describe('a server that accepts but never answers', () => {
    let server: Server;
    const sockets = new Set<Socket>();
    let url: string;

    beforeAll(async () => {
      server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    });

    afterEach(() => {
      for (const socket of sockets) socket.destroy();
    });

    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('times out with a retriable timeout error', async () => {
      const s = createInfluxSink({ ...base, url, timeoutMs: 300 });
      const started = Date.now();
      const error = await expectWriteError(s.write(['m v=1 1']));
      expect(error.code).toBe('timeout');
      expect(error.retriable).toBe(true);
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  });
});

describe('the v2 API against InfluxDB 1.6', () => {
  it('answers 404 (no /api/v2/write before 1.8): a retriable configuration problem', async () => {
    const cfg: InfluxConfig = { ...base, api: 'v2', org: 'o', bucket: 'gridstream', token: 'x' };
    const error = await expectWriteError(createInfluxSink(cfg).write(['m v=1 1']));
    expect(error.status).toBe(404);
    expect(error.code).toBe('not_found');
    expect(error.retriable).toBe(true);
    expect(error.influxMessage).toBe('404 page not found');
  });
});
