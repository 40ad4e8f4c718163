import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiverKey } from '@gridstream/archive-tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureFile } from '../../archive-tools/src/test-archive.fixture.js';
import { runQueryCommand } from './query-command.js';

let dir: string;

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
  dir = await mkdtemp(join(tmpdir(), 'gs-query-cli-'));
  await writeFixtureFile(dir, archiverKey('2024-03-01', 'telemetry.parsed', 0, 0n, 1n), [
    {
      ts: '2024-03-01T10:15:00.000Z',
      site: 'a',
      equipment: 'pcs',
      device: 'p',
      field: 'power',
      value: 1.5,
      partition: 0,
      offset: 0,
    },
    {
      ts: '2024-03-01T10:45:00.000Z',
      site: 'a',
      equipment: 'pcs',
      device: 'p',
      field: 'power',
      value: 2.5,
      partition: 0,
      offset: 1,
    },
  ]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('gridstream query (duckdb engine, local archive)', () => {
  it('prints the table and writes --out as CSV; duckdb is the default without Athena settings', async () => {
    const out = capture();
    const err = capture();
    const csv = join(dir, 'out.csv');
    const sql = `SELECT date_trunc('hour', ts) AS hour_start, CAST(ts AS date) AS day, sum(value) AS total, count(*) AS n
      FROM telemetry WHERE dt = '2024-03-01' GROUP BY 1, 2`;
    expect(await runQueryCommand([sql, '--dir', dir, '--out', csv], out, { env: {}, err })).toBe(0);
    expect(out.text).toContain('| 2024-03-01 10:00:00.000 | 2024-03-01 |     4 | 2 |');
    expect(err.text).toContain('duckdb: 1 file(s)');
    expect(await readFile(csv, 'utf8')).toBe(
      'hour_start,day,total,n\n2024-03-01 10:00:00.000,2024-03-01,4,2\n',
    );
  });

  it('--json: one document of columns and typed rows on stdout, progress on stderr', async () => {
    const out = capture();
    const err = capture();
    const sql = `SELECT date_trunc('hour', ts) AS hour_start, CAST(ts AS date) AS day, sum(value) AS total, count(*) AS n
      FROM telemetry WHERE dt = '2024-03-01' GROUP BY 1, 2`;
    expect(await runQueryCommand([sql, '--dir', dir, '--json'], out, { env: {}, err })).toBe(0);
    // The values of the table above: timestamp ISO 8601 UTC, date, double as a number, bigint as a string.
    expect(JSON.parse(out.text)).toEqual({
      columns: ['hour_start', 'day', 'total', 'n'],
      rows: [['2024-03-01T10:00:00.000Z', '2024-03-01', 4, '2']],
    });
    expect(out.text.endsWith('}\n')).toBe(true);
    expect(err.text).toContain('duckdb: 1 file(s)');

    // A usage mistake with --json leaves stdout empty.
    const usage = capture();
    const usageErr = capture();
    expect(
      await runQueryCommand(['SELECT 1', '--json', '--engine', 'presto'], usage, { env: {}, err: usageErr }),
    ).toBe(2);
    expect(usage.text).toBe('');
    expect(usageErr.text).toContain('--engine must be athena or duckdb');
  });

  it('an empty archive is still the telemetry table', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'gs-query-empty-'));
    const out = capture();
    expect(
      await runQueryCommand(['SELECT count(*) AS n FROM telemetry', '--dir', empty], out, {
        env: {},
        err: capture(),
      }),
    ).toBe(0);
    expect(out.text).toContain('| 0 |');
    await rm(empty, { recursive: true, force: true });
  });

  it('usage mistakes exit 2, SQL errors exit 1 with the engine message', async () => {
    const usage = capture();
    expect(await runQueryCommand(['SELECT 1', '--engine', 'presto'], usage, { env: {} })).toBe(2);
    expect(usage.text).toContain('--engine must be athena or duckdb');
    const both = capture();
    expect(await runQueryCommand(['SELECT 1', '--file', 'x.sql'], both, { env: {} })).toBe(2);
    const athenaDir = capture();
    expect(
      await runQueryCommand(['SELECT 1', '--engine', 'athena', '--dir', dir], athenaDir, { env: {} }),
    ).toBe(2);
    const bad = capture();
    const err = capture();
    expect(await runQueryCommand(['SELECT nope FROM telemetry', '--dir', dir], bad, { env: {}, err })).toBe(
      1,
    );
    expect(err.text).toMatch(/gridstream query: .*nope/);
  });
});
