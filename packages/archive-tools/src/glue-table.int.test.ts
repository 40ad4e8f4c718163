import { randomBytes } from 'node:crypto';
import { DeleteDatabaseCommand, GetTableCommand, GlueClient, UpdateTableCommand } from '@aws-sdk/client-glue';
import { ARCHIVE_COLUMNS } from '@gridstream/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCrawler } from './glue-crawler.js';
import { ensureGlueTable, expectedTableInput, PARQUET_INPUT_FORMAT, PARQUET_SERDE } from './glue-table.js';
import { MOTO_REGION, MOTO_URL, requireMoto, useMotoCredentials } from './moto.fixture.js';

/** Against the moto server (deploy/local/moto.sh): Glue database, table, projection and crawler. */

const database = `gs_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const spec = { database, table: 'telemetry', bucket: 'gs-archive', prefix: 'telemetry/' };
let glue: GlueClient;

beforeAll(async () => {
  useMotoCredentials();
  await requireMoto();
  glue = new GlueClient({ region: MOTO_REGION, endpoint: MOTO_URL });
});

afterAll(async () => {
  await glue.send(new DeleteDatabaseCommand({ Name: database })).catch(() => undefined);
});

describe('Glue table on moto', () => {
  it('creates the database and the projected table, then leaves it alone', async () => {
    expect(await ensureGlueTable(glue, spec)).toEqual({
      database: 'created',
      table: 'created',
      differences: [],
    });
    const table = (await glue.send(new GetTableCommand({ DatabaseName: database, Name: 'telemetry' })))
      .Table!;
    expect(table.StorageDescriptor?.Columns?.map((c) => [c.Name, c.Type])).toEqual(
      ARCHIVE_COLUMNS.map((c) => [c.name, c.glue]),
    );
    expect(table.PartitionKeys?.map((c) => [c.Name, c.Type])).toEqual([['dt', 'string']]);
    expect(table.StorageDescriptor?.SerdeInfo?.SerializationLibrary).toBe(PARQUET_SERDE);
    expect(table.StorageDescriptor?.InputFormat).toBe(PARQUET_INPUT_FORMAT);
    expect(table.StorageDescriptor?.Location).toBe('s3://gs-archive/telemetry/');
    expect(table.Parameters).toMatchObject({
      classification: 'parquet',
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '2020-01-01,NOW',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      'storage.location.template': `s3://gs-archive/telemetry/dt=\${dt}/`,
    });
    expect(await ensureGlueTable(glue, spec)).toEqual({
      database: 'exists',
      table: 'unchanged',
      differences: [],
    });
  });

  it('brings a changed table back to the definition, keeping parameters it does not own', async () => {
    const expected = expectedTableInput(spec);
    await glue.send(
      new UpdateTableCommand({
        DatabaseName: database,
        TableInput: {
          ...expected,
          Parameters: { ...expected.Parameters, 'projection.enabled': 'false', owner: 'ops' },
          StorageDescriptor: {
            ...expected.StorageDescriptor,
            Columns: expected.StorageDescriptor!.Columns!.slice(0, 5),
          },
        },
      }),
    );
    const check = await ensureGlueTable(glue, spec, { update: false });
    expect(check.table).toBe('differs');
    expect(check.differences).toEqual([
      expect.stringMatching(/^columns: /),
      'parameter projection.enabled: is "false", expected "true"',
    ]);
    const fixed = await ensureGlueTable(glue, spec);
    expect(fixed.table).toBe('updated');
    const table = (await glue.send(new GetTableCommand({ DatabaseName: database, Name: 'telemetry' })))
      .Table!;
    expect(table.StorageDescriptor?.Columns).toHaveLength(ARCHIVE_COLUMNS.length);
    expect(table.Parameters).toMatchObject({ 'projection.enabled': 'true', owner: 'ops' });
    expect((await ensureGlueTable(glue, spec)).table).toBe('unchanged');
  });

  it('creates and runs a crawler over the archive prefix until it is READY', async () => {
    const states: string[] = [];
    const crawler = {
      name: `${database}-crawler`,
      role: 'arn:aws:iam::123456789012:role/gridstream-crawler',
      database,
      bucket: spec.bucket,
      prefix: spec.prefix,
      tablePrefix: 'crawled_',
    };
    const result = await runCrawler(glue, crawler, {
      pollMs: 50,
      timeoutMs: 60_000,
      onState: (s) => states.push(s),
    });
    expect(result.created).toBe(true);
    expect(states.at(-1)).toBe('READY');
    expect(['SUCCEEDED', 'COMPLETED']).toContain(result.status);
    // A second run reuses the crawler.
    expect((await runCrawler(glue, crawler, { pollMs: 50, timeoutMs: 60_000 })).created).toBe(false);
  });
});
