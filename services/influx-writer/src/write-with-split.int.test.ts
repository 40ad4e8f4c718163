import { createServer } from 'node:net';
import {
  countPoints,
  createInfluxSink,
  createTestDatabase,
  type InfluxSink,
  InfluxWriteError,
  influxConfig,
  queryInflux,
  type TestDatabase,
  waitForInflux,
} from '@gridstream/influx';
import { type BatchItem, writeWithSplit } from '@gridstream/sink';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_INFLUX_URL } from '../../../test/helpers.js';
import { influxWrite } from './influx-target.js';

// The real InfluxDB 1.6 from deploy/local/influxdb.sh; every test writes into its own fresh database.
const base = influxConfig({ url: TEST_INFLUX_URL, timeoutMs: 10_000 });
const T0 = Date.parse('2023-06-09T11:34:06.000Z');

/** The real sink, counting its requests: how many the split search costs is part of what is tested. */
function countingSink(sink: InfluxSink): { sink: InfluxSink; requests: () => number } {
  let requests = 0;
  const counted: InfluxSink = {
    api: sink.api,
    write: (lines) => {
      requests++;
      return sink.write(lines);
    },
    ping: () => sink.ping(),
    close: () => sink.close(),
  };
  return { sink: counted, requests: () => requests };
}

/** A loopback port nobody listens on (port 1 would be refused by fetch itself as a "bad port"). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

const goodLine = (i: number) =>
  `battery,device=${String(i % 20).padStart(2, '0')},site=000001 soc=${(i / 10).toFixed(1)},run=true ${T0 + i * 1000}`;

beforeAll(async () => {
  if (!(await waitForInflux(base, 60_000))) {
    throw new Error(
      `InfluxDB is not answering on ${base.url}/ping; start it with deploy/local/influxdb.sh start`,
    );
  }
});

describe('writeWithSplit (the sink seam) against InfluxDB 1.x', () => {
  let db: TestDatabase;
  let real: InfluxSink;

  beforeAll(async () => {
    db = await createTestDatabase(base, 'gs_test_split');
    real = createInfluxSink(db.config);
  });
  afterAll(async () => {
    await real?.close();
    await db?.drop();
  });

  it('returns exactly the 3 type-conflicting lines of 203, with InfluxDB’s message, and stores all 200 good points', async () => {
    // `soc` becomes a float field of `battery` in this shard...
    await real.write([`battery,device=seed,site=000001 soc=1 ${T0 - 1000}`]);

    // ...so these three can never be stored: a string, a boolean and an integer for the same field.
    const bad: Record<number, string> = {
      17: `battery,device=bad1,site=000001 soc="x" ${T0 + 17}`,
      111: `battery,device=bad2,site=000001 soc=true ${T0 + 111}`,
      202: `battery,device=bad3,site=000001 soc=5i ${T0 + 202}`,
    };
    const items: BatchItem<string, string>[] = [];
    let good = 0;
    for (let i = 0; i < 203; i++) {
      const line = bad[i];
      items.push(line ? { point: line, ref: `bad@${i}` } : { point: goodLine(good++), ref: `good@${i}` });
    }
    expect(good).toBe(200);

    const { sink, requests } = countingSink(real);
    const rejected = await writeWithSplit(influxWrite(sink), items);

    expect(rejected.map((r) => r.ref).sort()).toEqual(['bad@111', 'bad@17', 'bad@202']);
    const byRef = new Map(rejected.map((r) => [r.ref, r.message]));
    // InfluxDB's own text, naming the field, both types and the measurement.
    expect(byRef.get('bad@17')).toMatch(
      /field type conflict: input field "soc" on measurement "battery" is type string, already exists as type float/,
    );
    expect(byRef.get('bad@111')).toMatch(
      /field type conflict: .*"soc".* is type boolean, already exists as type float/,
    );
    expect(byRef.get('bad@202')).toMatch(
      /field type conflict: .*"soc".* is type integer, already exists as type float/,
    );

    // 200 good + the seed, every good point exactly once (re-sent halves overwrote themselves).
    expect(await countPoints(db.config, db.name)).toBe(201);
    const [bads] = await queryInflux(db.config, `SELECT COUNT(soc) FROM "battery" WHERE device =~ /^bad/`);
    expect(bads).toBeUndefined();
    const [stored] = await queryInflux(
      db.config,
      `SELECT soc, run FROM "battery" WHERE device = '07' ORDER BY time`,
    );
    expect(stored!.values).toEqual(
      Array.from({ length: 10 }, (_, k) => {
        const i = 7 + 20 * k;
        return [T0 + i * 1000, i / 10, true];
      }),
    );

    // The search is a bisection, not one request per line: 3 bad lines in 203 cost a few dozen requests.
    expect(requests()).toBeGreaterThan(1);
    expect(requests()).toBeLessThanOrEqual(3 * 2 * Math.ceil(Math.log2(203)) + 1);
  });

  it('sends a clean batch as one request and refuses nothing', async () => {
    const { sink, requests } = countingSink(real);
    const items = Array.from({ length: 50 }, (_, i) => ({
      point: `pv,device=1,site=clean AC_Power=${i}.5 ${T0 + i}`,
      ref: i,
    }));
    expect(await writeWithSplit(influxWrite(sink), items)).toEqual([]);
    expect(requests()).toBe(1);
    expect(await countPoints(db.config, db.name, 'pv')).toBe(50);
  });

  it('throws a retriable InfluxWriteError when InfluxDB is unreachable, and refuses (dead-letters) nothing', async () => {
    const port = await closedPort();
    const down = createInfluxSink(
      influxConfig({ url: `http://127.0.0.1:${port}`, database: db.name, timeoutMs: 2_000 }),
    );
    const { sink, requests } = countingSink(down);
    const items = Array.from({ length: 10 }, (_, i) => ({ point: goodLine(i), ref: i }));
    try {
      const outcome = await writeWithSplit(influxWrite(sink), items).then(
        (rejected) => ({ rejected }),
        (error: unknown) => ({ error }),
      );
      expect('rejected' in outcome, 'must throw, not return refused items').toBe(false);
      const error = (outcome as { error: unknown }).error;
      expect(error).toBeInstanceOf(InfluxWriteError);
      expect((error as InfluxWriteError).retriable).toBe(true);
      expect((error as InfluxWriteError).code).toBe('network');
      // No halving on an outage: one request, thrown straight back for the consumer to pause and retry.
      expect(requests()).toBe(1);
    } finally {
      await down.close();
    }
  });
});
